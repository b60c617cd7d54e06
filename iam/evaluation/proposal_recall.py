"""Proposal quality against GT instances (evaluation side only): recall at IoU and ABO.

For every GT instance, the best IoU over an image's first N proposals (best first; void pixels
ignored). recall@N@t = fraction of GT instances with best IoU >= t; ABO = mean best IoU over all
GT instances using all stored proposals. This bounds any proposal-based method ("GT + MCG").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from iam.data.voc import GTInstances
from iam.io.h5 import open_artifact
from iam.masks import iou_matrix
from iam.proposals.store import KIND, read_proposals


def recall_metrics(
    ious: Sequence[np.ndarray], counts: Sequence[int] = (100, 500), thresholds: Sequence[float] = (0.5, 0.7)
) -> dict[str, float]:
    """Aggregate per-image (g, n) IoU matrices into recall@N@t and ABO."""

    def best(m: np.ndarray, n: int | None) -> np.ndarray:
        sub = m[:, :n]
        return sub.max(1) if sub.shape[1] else np.zeros(len(m))

    out: dict[str, float] = {"n_instances": float(sum(len(m) for m in ious))}
    for n in counts:
        best_n = np.concatenate([best(m, n) for m in ious]) if ious else np.zeros(0)
        for t in thresholds:
            out[f"recall@{n}@{t}"] = float((best_n >= t).mean()) if best_n.size else 0.0
    all_best = np.concatenate([best(m, None) for m in ious]) if ious else np.zeros(0)
    out["abo"] = float(all_best.mean()) if all_best.size else 0.0
    out["proposals_per_image"] = float(np.mean([m.shape[1] for m in ious])) if ious else 0.0
    return out


def evaluate_proposals(
    proposals_path: str | Path,
    image_ids: list[str],
    read_gt: Callable[[str], GTInstances],
) -> dict[str, float]:
    """Recall/ABO of a proposals artifact against ``read_gt``'s instances
    (:func:`iam.evaluation.gt.instance_reader`)."""
    ious = []
    with open_artifact(proposals_path, KIND) as f:
        for image_id in image_ids:
            masks, _ = read_proposals(f, image_id)
            gt = read_gt(image_id)
            ious.append(iou_matrix(gt.masks, masks, gt.void))
    return recall_metrics(ious)
