"""Quality of soft maps (PRMs, IAMs) before any mask is cut (paper §4.2, Fig. 7-8).

Each map M (rescaled to max 1) gets ``max over θ and same-class GT instances T_i of
IoU(M >= θ, T_i)`` with θ on a grid in (0, 1), void pixels excluded. Maps whose class has no GT
instance in the image are skipped (the analysis measures extent, not classification). The
object size of a sample is the matched GT instance's area as a fraction of the image.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from iam.io.h5 import open_artifact
from iam.io.instances import KIND, read_soft_maps
from iam.io.prm import KIND as PRM
from iam.io.prm import read_prm
from iam.masks import iou_matrix

THETAS = np.linspace(0.05, 0.95, 19)


@dataclass
class SoftMapSamples:
    """One row per evaluated soft map."""

    labels: np.ndarray  # (s,) class index
    ious: np.ndarray  # (s,) best IoU over thresholds and GT instances
    sizes: np.ndarray  # (s,) matched GT area / image area

    @classmethod
    def concat(cls, parts: list[SoftMapSamples]) -> SoftMapSamples:
        if not parts:
            return cls(np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
        return cls(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("labels", "ious", "sizes")))


def best_iou_samples(
    soft: np.ndarray,
    labels: np.ndarray,
    gt_masks: np.ndarray,
    gt_labels: np.ndarray,
    void: np.ndarray | None,
) -> SoftMapSamples:
    """Samples of one image: ``soft`` (n, H, W) maps with (n,) classes against its GT instances."""
    keep = np.isin(labels, gt_labels)
    out_labels, out_ious, out_sizes = [], [], []
    for m, c in zip(soft[keep].astype(np.float32), labels[keep]):
        peak = float(m.max())
        gts = gt_masks[gt_labels == c]
        binary = m[None] >= THETAS[:, None, None] * peak if peak > 0 else np.zeros((len(THETAS), *m.shape), bool)
        ious = iou_matrix(binary, gts, void)  # (θ, g)
        t, g = np.unravel_index(int(np.argmax(ious)), ious.shape)
        out_labels.append(int(c))
        out_ious.append(float(ious[t, g]))
        out_sizes.append(float(gts[g].sum()) / gts[g].size)
    return SoftMapSamples(np.asarray(out_labels, np.int64), np.asarray(out_ious), np.asarray(out_sizes))


def per_class_mean(samples: SoftMapSamples, n_classes: int) -> np.ndarray:
    """(C,) mean best IoU per class (NaN for classes without samples)."""
    total = np.bincount(samples.labels, weights=samples.ious, minlength=n_classes)
    count = np.bincount(samples.labels, minlength=n_classes)
    return np.divide(total, count, out=np.full(n_classes, np.nan), where=count > 0)


def _prm_maps(f: h5py.File, image_id: str) -> tuple[np.ndarray, np.ndarray]:
    """An image's PRMs and their classes."""
    stored = read_prm(f, image_id)
    return stored.prm, stored.peaks[:, 0]


def soft_map_table(
    prm_path: str | Path,
    iam_path: str | Path,
    image_ids: Sequence[str],
    read_gt: Callable,
    classes: Sequence[str],
) -> pd.DataFrame:
    """One row (method, class, iou, size) per PRM (``prm`` of a prm artifact, class = peak class)
    and per IAM (``soft`` of an instance set) of ``image_ids``."""
    frames = []
    with open_artifact(prm_path, PRM) as prm, open_artifact(iam_path, KIND) as iam:
        for method, f, read in (("PRM", prm, _prm_maps), ("IAM", iam, read_soft_maps)):
            parts = []
            for image_id in image_ids:
                maps, gt = read(f, image_id), read_gt(image_id)
                if maps is not None:
                    parts.append(best_iou_samples(*maps, gt.masks, gt.labels, gt.void))
            s = SoftMapSamples.concat(parts)
            frames.append(
                pd.DataFrame({"method": method, "class": np.asarray(classes)[s.labels], "iou": s.ious, "size": s.sizes})
            )
    return pd.concat(frames, ignore_index=True)
