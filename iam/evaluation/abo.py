"""Average Best Overlap (MCG's definition): per GT instance, the best IoU over all predictions of
its image (any class), averaged over every GT instance of the split."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def best_overlaps(ious: np.ndarray) -> np.ndarray:
    """(g,) best IoU of each GT column of a (p, g) IoU matrix; 0 where there is no prediction."""
    return ious.max(0) if ious.shape[0] else np.zeros(ious.shape[1])


def average_best_overlap(per_image_ious: Sequence[np.ndarray]) -> float:
    """ABO over the GT instances of all images; 0 when there is no GT instance."""
    best = np.concatenate([best_overlaps(m) for m in per_image_ious]) if per_image_ious else np.zeros(0)
    return float(best.mean()) if best.size else 0.0
