"""Mask IoU with void pixels excluded, as one matrix product over flattened masks, and class-wise
mask NMS on it (shared by inference, the baselines and evaluation).

Void convention (VOC label 255, object borders and ambiguous regions): void pixels are removed
from both masks before counting, so they count neither in the intersection nor in the union.
This equals evaluating ``pred & ~void`` against ``gt & ~void``; the COCO-mode cross-check uses
exactly that, so both modes see the same IoUs.
"""

from __future__ import annotations

import numpy as np


def flatten(masks: np.ndarray, void: np.ndarray | None = None) -> np.ndarray:
    """(n, H*W) float32 0/1 rows of ``masks`` with ``void`` pixels cleared."""
    masks = np.asarray(masks, bool)
    if void is not None:
        masks = masks & ~np.asarray(void, bool)
    return masks.reshape(len(masks), int(np.prod(masks.shape[1:]))).astype(np.float32)


def overlaps(a: np.ndarray, b: np.ndarray, void: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel counts of masks ``a`` (n, H, W) and ``b`` (m, H, W), void excluded, in float64:
    ``(intersections (n, m), areas of a (n,), areas of b (m,))``. Counts are exact integers in
    float32 (< 2^24 pixels)."""
    fa, fb = flatten(a, void), flatten(b, void)
    return (fa @ fb.T).astype(np.float64), fa.sum(1, dtype=np.float64), fb.sum(1, dtype=np.float64)


def iou_of(inter: np.ndarray, area_a: np.ndarray, area_b: np.ndarray) -> np.ndarray:
    """(n, m) IoU from :func:`overlaps`' counts; pairs whose union is empty get 0."""
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def iou_matrix(a: np.ndarray, b: np.ndarray, void: np.ndarray | None = None) -> np.ndarray:
    """(n, m) float64 IoU between masks ``a`` (n, H, W) and ``b`` (m, H, W), void excluded."""
    return iou_of(*overlaps(a, b, void))


def mask_nms(masks: np.ndarray, labels: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Indices kept by greedy class-wise NMS on mask IoU, best first."""
    ious = iou_matrix(masks, masks)
    kept: list[int] = []
    for r in np.argsort(-scores, kind="stable"):
        if not any(labels[k] == labels[r] and ious[r, k] > iou for k in kept):
            kept.append(int(r))
    return np.array(kept, np.int64)
