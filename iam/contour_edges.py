"""How well a mask's outline follows the image's edges: a GT-free, proposal-free instance score.

A mask that covers a whole object ends where the image changes (the object's boundary); a blob that
stops inside the body or spills onto the background ends on flat colour. The score is the mean Sobel
gradient magnitude of the grey image along the mask's one-pixel inner contour, over the image's mean
magnitude (1 = an average pixel). IAM inference uses it twice (ours, not the paper's): to choose where
each IAM is cut (``inference.threshold_mode: edge``: among several fractions of the map's maximum, the
cut whose outline follows the strongest edges) and as a factor of the instance score
(``inference.edge_score``).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np


def edge_strength(image: np.ndarray) -> np.ndarray:
    """(H, W) float32 Sobel gradient magnitude of the (H, W, 3) uint8 RGB image over its mean."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    magnitude = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    return magnitude / max(float(magnitude.mean()), 1e-6)


def contour_mean(masks: np.ndarray, field: np.ndarray) -> np.ndarray:
    """(n,) mean of the (H, W) ``field`` on each (n, H, W) mask's one-pixel inner contour (0 if it has
    none); where a mask meets the image's border it has no contour: the frame is not the object's edge."""
    kernel = np.ones((3, 3), np.uint8)
    out = np.zeros(len(masks))
    for i, mask in enumerate(np.asarray(masks, bool)):
        contour = mask & ~cv2.erode(mask.astype(np.uint8), kernel, borderValue=1).astype(bool)
        out[i] = field[contour].mean() if contour.any() else 0.0
    return out


def edge_aligned_level(prob: np.ndarray, edges: np.ndarray, levels: Sequence[float], area_power: float) -> float:
    """The fraction of the (H, W) map's maximum, among ``levels``, whose cut has the largest contour
    edge strength x its area ** ``area_power`` (the power offsets the short outline of a small core that
    hugs one strong edge); the first level on ties or for an all-zero map."""
    cuts = np.stack([prob >= level * prob.max() for level in levels])
    merit = contour_mean(cuts, edges) * np.maximum(cuts.reshape(len(cuts), -1).sum(1), 1) ** area_power
    return float(levels[int(np.argmax(merit))])
