"""Salient-object detection from activation maps (paper §4.3, Table 4 analogue).

An image's saliency map merges its maps: ReLU, each map rescaled to max 1, pixel-wise max.
F_β uses β² = 0.3; a map binarised at θ marks pixels strictly above θ. ``adaptive_f``: each
image binarised at twice its map's mean (capped at 1), F_β per image, averaged. ``max_f``:
precision and recall averaged over images at 256 uniform thresholds in [0, 1], F_β of the
averages, maximum over thresholds.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

BETA2 = 0.3
THRESHOLDS = np.linspace(0.0, 1.0, 256)


def merge_maps(maps: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) saliency in [0, 1] from (n, H, W) activation maps (zeros when there is none)."""
    if len(maps) == 0:
        return np.zeros(shape, np.float32)
    maps = np.clip(np.asarray(maps, np.float32), 0, None)
    peaks = maps.reshape(len(maps), -1).max(1)
    return (maps / np.where(peaks > 0, peaks, 1)[:, None, None]).max(0)


def f_beta(precision: np.ndarray | float, recall: np.ndarray | float) -> np.ndarray:
    """F_β (β² = 0.3); 0 where precision and recall are both 0."""
    p, r = np.asarray(precision, np.float64), np.asarray(recall, np.float64)
    num, den = (1 + BETA2) * p * r, BETA2 * p + r
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def precision_recall(saliency: np.ndarray, gt: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(t,) precision and recall of ``saliency > θ`` against the bool ``gt`` mask, per threshold."""
    binary = saliency.ravel()[None, :] > thresholds[:, None]
    tp = binary.astype(np.float32) @ gt.ravel().astype(np.float32)
    predicted = binary.sum(1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = tp / max(int(gt.sum()), 1)
    return precision, recall


def saliency_scores(pairs: Iterable[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """Adaptive and max F_β over ``(saliency, gt)`` pairs."""
    adaptive, precisions, recalls = [], [], []
    for saliency, gt in pairs:
        threshold = np.array([min(2 * float(saliency.mean()), 1.0)])
        p, r = precision_recall(saliency, gt, threshold)
        adaptive.append(float(f_beta(p, r)[0]))
        p, r = precision_recall(saliency, gt, THRESHOLDS)
        precisions.append(p)
        recalls.append(r)
    if not adaptive:
        return {"adaptive_f": 0.0, "max_f": 0.0, "n_images": 0}
    curve = f_beta(np.mean(precisions, 0), np.mean(recalls, 0))
    return {"adaptive_f": float(np.mean(adaptive)), "max_f": float(curve.max()), "n_images": len(adaptive)}
