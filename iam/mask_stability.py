"""How stable an IAM's mask is: two GT-free, proposal-free instance-score factors (ours, not the paper's).

A mask that covers a whole object has its outline where the IAM drops steeply and where the image
changes, so neither a small change of the cut level nor the ConvCRF moves it much; a blob that stops
inside the body or spills onto the background sits on a slope of the IAM and on flat colour, and moves
with both. ``inference.stability_score`` multiplies each instance's score by :func:`cut_stability`, the
IoU of the IAM's cuts a ``stability_delta`` below and above its cut level (the stability score of
Kirillov et al., "Segment Anything", ICCV 2023, taken at the IAM's own level);
``inference.agreement_score`` multiplies each CRF instance's score by :func:`pair_iou` of its mask and
the no-CRF cut the CRF refined.
"""

from __future__ import annotations

import numpy as np


def pair_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n,) IoU of each mask of (n, H, W) ``a`` with the same-index mask of ``b``; 0 where both are empty."""
    pixels = int(np.prod(a.shape[1:]))
    a, b = a.reshape(len(a), pixels).astype(bool), b.reshape(len(b), pixels).astype(bool)
    union = (a | b).sum(1)
    return np.divide((a & b).sum(1), union, out=np.zeros(len(a)), where=union > 0)


def cut_stability(maps: np.ndarray, levels: np.ndarray, delta: float) -> np.ndarray:
    """(n,) :func:`pair_iou` of each (n, H, W) map cut at (level - ``delta``) and at (level + ``delta``)
    times its maximum, ``levels`` (n,) being fractions of the maximum."""
    peak = maps.reshape(len(maps), -1).max(1) if len(maps) else np.zeros(0, maps.dtype)
    low, high = (((levels + sign * delta) * peak)[:, None, None] for sign in (-1, 1))
    return pair_iou(maps >= low, maps >= high)
