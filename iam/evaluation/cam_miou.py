"""CAM pseudo-mask mIoU, the weakly supervised semantic segmentation literature's first statistic.

Every pixel takes the class of its largest CAM among the image's labelled classes (ReLU, resized
to the image, rescaled to max 1; :func:`iam.data.maps.upsample_cam`), or background where none
exceeds a constant background score ``t``; the mIoU over background + classes is accumulated over
the split and reported at the best ``t`` of a fixed grid, as PSA / IRN report it on VOC 2012 train.
Evaluation only: it reads GT instance masks.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from iam.data.maps import upsample_cam
from iam.data.voc import GTInstances
from iam.io.h5 import image_ids, open_artifact
from iam.io.prm import KIND, read_prm

THRESHOLDS = np.round(np.arange(0.0, 0.61, 0.05), 2)


def semantic_map(gt: GTInstances) -> np.ndarray:
    """(H, W) int64: 0 background, 1 + class index on each instance's pixels."""
    sem = np.zeros(gt.void.shape, np.int64)
    for mask, label in zip(gt.masks, gt.labels):
        sem[mask] = label + 1
    return sem


def cam_confusion(cams: np.ndarray, classes: np.ndarray, gt: GTInstances, n_classes: int) -> np.ndarray:
    """(len(THRESHOLDS), n + 1, n + 1) confusion counts (GT row, prediction column) of one image,
    ``cams`` (k, H, W) in [0, 1] being the CAMs of its labelled ``classes`` (k,)."""
    sem, keep, size = semantic_map(gt), ~gt.void, n_classes + 1
    cams = cams.astype(np.float32)
    strongest = cams.max(0)[keep] if len(cams) else np.zeros(int(keep.sum()), np.float32)
    winner = (classes + 1)[cams.argmax(0)][keep] if len(cams) else np.zeros(int(keep.sum()), np.int64)
    truth = sem[keep] * size
    out = np.zeros((len(THRESHOLDS), size, size), np.int64)
    for k, t in enumerate(THRESHOLDS):  # background wins ties, as the first of [t, cams...] would
        pred = np.where(strongest > np.float32(t), winner, 0)
        out[k] = np.bincount(truth + pred, minlength=size * size).reshape(size, size)
    return out


def miou(confusion: np.ndarray) -> np.ndarray:
    """Mean IoU over the classes present in GT or prediction, per threshold (last two axes: GT x pred)."""
    tp = np.diagonal(confusion, axis1=-2, axis2=-1)
    union = confusion.sum(-1) + confusion.sum(-2) - tp
    with np.errstate(invalid="ignore"):
        return np.nanmean(np.where(union > 0, tp / np.maximum(union, 1), np.nan), axis=-1)


def cam_miou(prm_path: str | Path, read_gt: Callable[[str], GTInstances], n_classes: int) -> dict[str, float | None]:
    """``cam_miou`` (best over THRESHOLDS) and its ``cam_threshold`` for a ``prm`` artifact's CRMs,
    each image's classes taken from its GT instances (its image-level labels)."""
    total = np.zeros((len(THRESHOLDS), n_classes + 1, n_classes + 1), np.int64)
    with open_artifact(prm_path, KIND) as f:
        for image_id in image_ids(f):
            stored, gt = read_prm(f, image_id), read_gt(image_id)
            classes = np.unique(gt.labels)
            cams = np.zeros((len(classes), *stored.shape), np.float32)
            for row, c in enumerate(classes):
                cams[row] = upsample_cam(stored.crm_of(int(c)), stored.shape)
            total += cam_confusion(cams, classes, gt, n_classes)
    if not total.any():
        return {"cam_miou": None, "cam_threshold": None}
    scores = miou(total)
    best = int(np.nanargmax(scores))
    return {"cam_miou": float(scores[best]), "cam_threshold": float(THRESHOLDS[best])}
