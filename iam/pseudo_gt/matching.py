"""Matching PRMs to proposals (paper §3.2): f_ij = alpha * sum(M_i * S_j) + sum(M_i * contour(S_j))
- beta * sum(B * S_j) / sum(B).

PRMs are compared as distributions: each map is clipped at 0 and rescaled to sum to one, so
``sum(M_i * S_j)`` is the *fraction of peak i's response mass inside proposal j* (in [0, 1]) and
the paper's overlap threshold (0.2) reads "a kept proposal holds at least 20% of some peak's
response". This is independent of how the PRM producer scales its maps.

The last term is the PRM paper's background penalty (Zhou et al. 2018), B the background map of
:func:`background_map`, so every term is a fraction in [0, 1]. ``beta = 0`` is the IAM paper's score
exactly; but then the proposal covering the whole image holds all of a PRM's mass and wins for
every peak (measured on the synthetic benchmark: top-1 candidates covered 91 % of the image on
average), which is why the shipped configs set ``beta = 1``.
"""

from __future__ import annotations

import cv2
import numpy as np

from iam.data.maps import normalise_prms


def contours(masks: np.ndarray, width: int) -> np.ndarray:
    """Morphological gradient (dilation minus erosion, ``width`` x ``width`` square) of each mask."""
    kernel = np.ones((width, width), np.uint8)
    out = np.zeros(masks.shape, np.uint8)
    for j, mask in enumerate(masks):
        out[j] = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_GRADIENT, kernel)
    return out


def background_map(crm: np.ndarray, classes: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) background evidence: 1 - max over ``classes`` of their max-normalised CRMs (ReLU),
    bilinearly resized to ``shape``."""
    if len(classes) == 0:
        return np.ones(shape, np.float32)
    maps = np.clip(crm[np.unique(classes)].astype(np.float32), 0, None)
    peak = maps.reshape(len(maps), -1).max(1)
    maps = maps / np.where(peak > 0, peak, 1)[:, None, None]
    fg = np.stack([cv2.resize(m, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR) for m in maps]).max(0)
    return 1 - np.clip(fg, 0, 1)


def border_connectivity(masks: np.ndarray) -> np.ndarray:
    """(n,) boundary connectivity of each (n, H, W) mask (Zhu et al., CVPR 2014): its length along
    the image border (pixels on the outermost ring) over the square root of its area; 0 for an
    empty mask or one that does not touch the border."""
    ring = np.ones(masks.shape[1:], bool)
    ring[1:-1, 1:-1] = False
    on_border = masks[:, ring].sum(1, dtype=np.float64)
    area = masks.reshape(len(masks), -1).sum(1, dtype=np.float64)
    return on_border / np.sqrt(np.maximum(area, 1))


def matching_scores(
    prms: np.ndarray,
    masks: np.ndarray,
    alpha: float,
    contour_width: int,
    beta: float = 0.0,
    background: np.ndarray | None = None,
    chunk: int = 64,
) -> tuple[np.ndarray, np.ndarray]:
    """All PRMs x all proposals as matrix products: ``(f (m, n), overlap (m, n))`` with overlap =
    sum(M * S); ``background`` (H, W) is needed when ``beta`` > 0. Proposals are converted to
    float ``chunk`` at a time, so memory stays bounded at VOC scale (500 proposals x 448^2)."""
    p = normalise_prms(prms)
    pixels = int(np.prod(masks.shape[1:]))
    bg = None
    if beta:
        if background is None:
            raise ValueError("matching_scores: beta > 0 needs a background map")
        bg = background.reshape(pixels).astype(np.float32) / max(float(background.sum()), 1e-6)
    queries = p if bg is None else np.vstack([p, bg[None]])
    inside, on_contour = np.zeros((len(queries), len(masks)), np.float32), np.zeros((len(p), len(masks)), np.float32)
    for start in range(0, len(masks), chunk):
        part = masks[start : start + chunk]
        inside[:, start : start + chunk] = queries @ part.reshape(len(part), pixels).T.astype(np.float32)
        on_contour[:, start : start + chunk] = p @ contours(part, contour_width).reshape(len(part), pixels).T.astype(
            np.float32
        )
    overlap = inside[: len(p)]
    score = alpha * overlap + on_contour
    if bg is not None:
        score -= beta * inside[len(p) :]
    return score, overlap


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
