"""Transfer experiments on artifacts: localization (``loc_test``) and saliency (``saliency_test``)
for IAMs (the ``soft`` maps of an instance set), CAMs and PRMs (from ``prm/{split}.h5``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from iam.data.maps import upsample_cam
from iam.evaluation.localization import LocalizationSample, localization_errors
from iam.evaluation.saliency import merge_maps, saliency_scores
from iam.io.h5 import open_artifact
from iam.io.instances import KIND, read_soft_maps
from iam.io.prm import KIND as PRM
from iam.io.prm import StoredPRM, read_prm


def _iam_class_map(f: h5py.File, image_id: str, c: int) -> np.ndarray | None:
    maps = read_soft_maps(f, image_id)
    if maps is None or not (maps[1] == c).any():
        return None
    soft, labels = maps
    return merge_maps(soft[labels == c], soft.shape[1:])


def _cams(stored: StoredPRM) -> np.ndarray:
    """Upsampled CAMs of the classes scoring above 0 (of the top-scoring class when none does)."""
    present = [int(c) for c in np.flatnonzero(stored.class_scores > 0)] or [int(np.argmax(stored.class_scores))]
    return np.stack([upsample_cam(stored.crm_of(c), stored.shape) for c in present])


def evaluate_localization(
    prm_path: str | Path,
    iam_path: str | Path,
    image_ids: Sequence[str],
    read_boxes: Callable[[str], tuple[np.ndarray, np.ndarray]],
) -> dict[str, Any]:
    """Top-1 / GT-known localization errors of IAM and CAM boxes (class = backbone argmax)."""
    with open_artifact(prm_path, PRM) as prm, open_artifact(iam_path, KIND) as iam:
        gts = {i: read_boxes(i) for i in image_ids}

        def samples(class_map: Callable[[str, int], np.ndarray | None]) -> list[LocalizationSample]:
            return [
                LocalizationSample(read_prm(prm, i).class_scores, *gts[i], partial(class_map, i)) for i in image_ids
            ]

        def cam(i: str, c: int) -> np.ndarray:
            stored = read_prm(prm, i)
            return upsample_cam(stored.crm_of(c), stored.shape)

        return {
            "iam": localization_errors(samples(lambda i, c: _iam_class_map(iam, i, c))),
            "cam": localization_errors(samples(cam)),
        }


def evaluate_saliency(
    prm_path: str | Path,
    iam_path: str | Path,
    image_ids: Sequence[str],
    read_mask: Callable[[str], np.ndarray],
) -> dict[str, Any]:
    """F_β of saliency maps merged from IAMs, CAMs (classes above 0) and PRMs."""
    with open_artifact(prm_path, PRM) as prm, open_artifact(iam_path, KIND) as iam:
        gts = {i: np.asarray(read_mask(i), bool) for i in image_ids}

        def iams(i: str) -> np.ndarray:
            maps = read_soft_maps(iam, i)
            return np.zeros((0, *gts[i].shape)) if maps is None else maps[0]

        maps = {
            "iam": iams,
            "cam": lambda i: _cams(read_prm(prm, i)),
            "prm": lambda i: read_prm(prm, i).prm,
        }
        return {
            name: saliency_scores((merge_maps(get(i), gts[i].shape), gts[i]) for i in image_ids)
            for name, get in maps.items()
        }
