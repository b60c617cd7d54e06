"""Extent errors of predicted instances: is a mask wrong because it is too big, too small or on no
object? Each prediction is compared with the same-class GT instance it overlaps best (void excluded).

``correct``      IoU >= 0.5 with that instance
``too_big``      IoU < 0.5 and the mask larger than the instance
``too_small``    IoU < 0.5, the mask no larger than the instance, and overlapping it
``off_object``   no pixel on any instance of its class
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from iam.masks import iou_of

KINDS = ("correct", "too_big", "too_small", "off_object")


def extent_rows(
    inter: np.ndarray, area: np.ndarray, gt_area: np.ndarray, labels: np.ndarray, gt_labels: np.ndarray
) -> np.ndarray:
    """(n, 3) per prediction, from :func:`iam.masks.overlaps`' counts of predictions against GT:
    area / best same-class GT area, share of that GT covered, IoU with it (area ratio NaN and the
    others 0 when no same-class GT is overlapped)."""
    inter = inter * (labels[:, None] == gt_labels[None, :])
    iou = iou_of(inter, area, gt_area)
    rows = np.zeros((len(labels), 3))
    rows[:, 0] = np.nan
    for i in np.flatnonzero(inter.max(1, initial=0) > 0):
        j = int(np.argmax(iou[i]))
        rows[i] = area[i] / gt_area[j], inter[i, j] / gt_area[j], iou[i, j]
    return rows


def extent_summary(rows: Sequence[np.ndarray]) -> dict[str, Any]:
    """Shares of the four kinds and medians of area ratio and GT coverage over all predictions."""
    r = np.concatenate(rows) if rows else np.zeros((0, 3))
    on = ~np.isnan(r[:, 0])
    correct = on & (r[:, 2] >= 0.5)
    big = on & ~correct & (r[:, 0] > 1)
    share = (lambda m: float(m.mean())) if len(r) else (lambda m: 0.0)
    return {
        "n_predictions": len(r),
        **{f"share_{k}": share(m) for k, m in zip(KINDS, (correct, big, on & ~correct & ~big, ~on), strict=True)},
        "area_ratio_median": float(np.median(r[on, 0])) if on.any() else None,
        "gt_covered_median": float(np.median(r[on, 1])) if on.any() else None,
    }
