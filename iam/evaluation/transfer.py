"""Transfer experiments on artifacts: localization (``loc_test``) and saliency (``saliency_test``)
for IAMs (the ``soft`` maps of an instance set), CAMs and PRMs (from ``prm/{split}.h5``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from iam.data.transforms import upsample_cam
from iam.evaluation.localization import LocalizationSample, localization_errors
from iam.evaluation.saliency import merge_maps, saliency_scores
from iam.io.h5 import open_artifact
from iam.io.instances import KIND


def _shape(g: h5py.Group) -> tuple[int, int]:
    return int(g.attrs["height"]), int(g.attrs["width"])


def _iam_class_map(group: h5py.Group, c: int) -> np.ndarray | None:
    labels = group["labels"][()]
    if "soft" not in group or not (labels == c).any():
        return None
    return merge_maps(group["soft"][()][labels == c], group["soft"].shape[1:])


def evaluate_localization(
    prm_path: str | Path, iam_path: str | Path, image_ids: Sequence[str],
    read_boxes: Callable[[str], tuple[np.ndarray, np.ndarray]],
) -> dict[str, Any]:
    """Top-1 / GT-known localization errors of IAM and CAM boxes (class = backbone argmax)."""
    with open_artifact(prm_path, "prm") as prm, open_artifact(iam_path, KIND) as iam:
        gts = {i: read_boxes(i) for i in image_ids}

        def samples(class_map):
            return [LocalizationSample(prm[i]["class_scores"][()], *gts[i], lambda c, i=i: class_map(i, c))
                    for i in image_ids]

        return {
            "iam": localization_errors(samples(lambda i, c: _iam_class_map(iam[i], c))),
            "cam": localization_errors(samples(lambda i, c: upsample_cam(prm[i]["crm"][c], _shape(prm[i])))),
        }


def evaluate_saliency(
    prm_path: str | Path, iam_path: str | Path, image_ids: Sequence[str],
    read_mask: Callable[[str], np.ndarray],
) -> dict[str, Any]:
    """F_β of saliency maps merged from IAMs, CAMs (classes above 0) and PRMs."""
    with open_artifact(prm_path, "prm") as prm, open_artifact(iam_path, KIND) as iam:
        gts = {i: np.asarray(read_mask(i), bool) for i in image_ids}

        def cams(g: h5py.Group) -> np.ndarray:
            present = np.flatnonzero(g["class_scores"][()] > 0)
            present = present if len(present) else [int(np.argmax(g["class_scores"][()]))]
            return np.stack([upsample_cam(g["crm"][c], _shape(g)) for c in present])

        maps = {
            "iam": lambda i: iam[i]["soft"][()] if "soft" in iam[i] else np.zeros((0, *gts[i].shape)),
            "cam": lambda i: cams(prm[i]),
            "prm": lambda i: prm[i]["prm"][()],
        }
        return {name: saliency_scores((merge_maps(get(i), gts[i].shape), gts[i]) for i in image_ids)
                for name, get in maps.items()}
