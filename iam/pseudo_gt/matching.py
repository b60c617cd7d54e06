"""Matching PRMs to proposals (paper §3.2): f_ij = alpha * sum(M_i * S_j) + sum(M_i * contour(S_j)).

PRMs are compared as distributions: each map is clipped at 0 and rescaled to sum to one, so
``sum(M_i * S_j)`` is the *fraction of peak i's response mass inside proposal j* (in [0, 1]) and
the paper's overlap threshold (0.2) reads "a kept proposal holds at least 20% of some peak's
response". This is independent of how the PRM producer scales its maps.
"""

from __future__ import annotations

import cv2
import numpy as np


def normalise_prms(prms: np.ndarray) -> np.ndarray:
    """(m, H, W) -> (m, H*W) float32, each row non-negative and summing to 1 (0 if empty)."""
    flat = np.clip(prms.reshape(len(prms), int(np.prod(prms.shape[1:]))).astype(np.float32), 0, None)
    mass = flat.sum(1, keepdims=True)
    return np.divide(flat, mass, out=np.zeros_like(flat), where=mass > 0)


def contours(masks: np.ndarray, width: int) -> np.ndarray:
    """Morphological gradient (dilation minus erosion, ``width`` x ``width`` square) of each mask."""
    kernel = np.ones((width, width), np.uint8)
    out = np.zeros(masks.shape, np.uint8)
    for j, mask in enumerate(masks):
        out[j] = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_GRADIENT, kernel)
    return out


def matching_scores(
    prms: np.ndarray, masks: np.ndarray, alpha: float, contour_width: int
) -> tuple[np.ndarray, np.ndarray]:
    """All PRMs x all proposals at once: ``(f (m, n), overlap (m, n))`` with overlap = sum(M * S)."""
    p = normalise_prms(prms)
    pixels = int(np.prod(masks.shape[1:]))
    s = masks.reshape(len(masks), pixels).astype(np.float32)
    c = contours(masks, contour_width).reshape(len(masks), pixels).astype(np.float32)
    overlap = p @ s.T
    return alpha * overlap + p @ c.T, overlap


def select_candidates(
    scores: np.ndarray, overlap: np.ndarray, k: int, min_overlap: float
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` proposals per PRM by score, then drop proposals whose ``max_i overlap`` is below
    ``min_overlap``. Returns ``(candidates (m, k) int64, candidate_scores (m, k) float32)``, best
    first, padded with -1 / NaN where fewer than ``k`` survive."""
    m, n = scores.shape
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    keep = overlap.max(0) >= min_overlap if m else np.zeros(n, bool)
    candidates = np.full((m, k), -1, np.int64)
    cand_scores = np.full((m, k), np.nan, np.float32)
    for i in range(m):
        kept = top[i][keep[top[i]]]
        candidates[i, : len(kept)] = kept
        cand_scores[i, : len(kept)] = scores[i, kept]
    return candidates, cand_scores
