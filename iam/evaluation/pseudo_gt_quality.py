"""Ground-truth diagnostics of the pseudo GT (evaluation only, never on the training path).

A training peak's *instance* is the GT instance of its class holding most of its PRM's mass
(:func:`iam.evaluation.prm_quality.own_instance`). For every peak whose class is in the image:

``top1_iou``            IoU of its first candidate with its instance (0 without a candidate)
``top1_iou_ge_50``      fraction of peaks whose first candidate has IoU >= 0.5
``best_of_k_iou``       best IoU among its k candidates
``best_proposal_iou``   best IoU any proposal of the image reaches (what the matching could find)
``best_in_top5``        fraction of peaks whose best proposal is among the 5 best by the matching score
``best_rank_median``    median rank (1 = first) of the best proposal by the matching score
``area_ratio_median``   median area of the first candidate over the instance's area
``top1_background``     mean share of the first candidate's (non-void) pixels outside every instance
``top1_mostly_background``  fraction of peaks whose first candidate is more than half background
``top1_recall``         mean share of its instance's pixels inside its first candidate
``union_recall``        mean share of its instance's pixels inside any of its k candidates: the rest
                        is background in every target the filler is trained towards
``without_candidate``   fraction of peaks (all training peaks) left without any candidate
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from iam.data.voc import GTInstances
from iam.evaluation.prm_quality import own_instance
from iam.io.h5 import image_ids, open_artifact
from iam.io.prm import KIND as PRM
from iam.io.prm import read_prm
from iam.io.pseudo_gt import KIND as PSEUDO_GT
from iam.io.pseudo_gt import read_pseudo_gt
from iam.masks import iou_matrix
from iam.proposals.store import KIND as PROPOSALS
from iam.proposals.store import read_proposals
from iam.pseudo_gt.scoring import MatchParams, score_proposals


def image_rows(
    peaks: np.ndarray,
    prms: np.ndarray,
    crm: np.ndarray,
    candidates: np.ndarray,
    masks: np.ndarray,
    proposals: np.ndarray,
    gt: GTInstances,
    match: MatchParams,
) -> list[tuple[float, float, float, int, float, float, float, float]]:
    """(top1, best_of_k, best_proposal, rank, area ratio, background share of the top-1 candidate,
    top-1 recall, union recall) of each peak whose class is in the image."""
    scores, _ = score_proposals(peaks, prms, crm, proposals, match)
    prop_iou = iou_matrix(proposals, gt.masks, gt.void) if len(proposals) else np.zeros((0, len(gt.masks)))
    cand_iou = iou_matrix(masks, gt.masks, gt.void) if len(masks) else np.zeros((0, len(gt.masks)))
    background = ~gt.masks.any(0) & ~gt.void
    rows = []
    for i, (cls, _, _) in enumerate(peaks):
        inst = own_instance(int(cls), prms[i].astype(np.float64), gt)
        if inst is None:
            continue
        valid = candidates[i][candidates[i] >= 0]
        top1 = float(cand_iou[valid[0], inst]) if len(valid) else 0.0
        best_k = float(cand_iou[valid, inst].max()) if len(valid) else 0.0
        best = int(np.argmax(prop_iou[:, inst])) if len(proposals) else -1
        rank = int((scores[i] > scores[i, best]).sum()) + 1 if best >= 0 else len(proposals) + 1
        area = float(masks[valid[0]].sum() / max(gt.masks[inst].sum(), 1)) if len(valid) else np.nan
        bg = _share(masks[valid[0]] & ~gt.void, background) if len(valid) else np.nan
        own = gt.masks[inst] & ~gt.void
        recall = (_share(own, masks[valid[0]]), _share(own, masks[valid].any(0))) if len(valid) else (0.0, 0.0)
        rows.append((top1, best_k, float(prop_iou[best, inst]) if best >= 0 else 0.0, rank, area, bg, *recall))
    return rows


def _share(mask: np.ndarray, region: np.ndarray) -> float:
    """Fraction of ``mask``'s pixels inside ``region`` (NaN for an empty mask)."""
    size = int(mask.sum())
    return float((mask & region).sum() / size) if size else np.nan


def pseudo_gt_quality(
    prm_path: str | Path,
    proposals_path: str | Path,
    pseudo_gt_path: str | Path,
    read_gt: Callable[[str], GTInstances],
    match: Mapping[str, Any],
) -> dict[str, float | int | None]:
    """The diagnostics of the module docstring over every image of the pseudo-GT artifact; GT
    instances from ``read_gt`` (:func:`iam.evaluation.gt.instance_reader`)."""
    params = MatchParams.from_config(match)
    rows, n_peaks, n_without = [], 0, 0
    with (
        open_artifact(prm_path, PRM) as prm_f,
        open_artifact(proposals_path, PROPOSALS) as prop_f,
        open_artifact(pseudo_gt_path, PSEUDO_GT) as pgt_f,
    ):
        for image_id in image_ids(pgt_f):
            g, p = read_pseudo_gt(pgt_f, image_id), read_prm(prm_f, image_id)
            candidates = g.candidates
            n_peaks += len(candidates)
            n_without += int((candidates < 0).all(1).sum())
            prms = p.prm[g.prm_index]
            proposals, _ = read_proposals(prop_f, image_id)
            gt = read_gt(image_id)
            rows += image_rows(g.peaks, prms, p.crm, candidates, g.masks.astype(bool), proposals, gt, params)
    r = np.asarray(rows, np.float64).reshape(-1, 8)
    bg = r[~np.isnan(r[:, 5]), 5]
    mean = lambda v: float(np.nanmean(v)) if v.size else None  # noqa: E731
    median = lambda v: float(np.nanmedian(v)) if v.size else None  # noqa: E731
    return {
        "n_peaks": n_peaks,
        "n_scored": len(r),
        "top1_iou": mean(r[:, 0]),
        "top1_iou_ge_50": mean(r[:, 0] >= 0.5),
        "best_of_k_iou": mean(r[:, 1]),
        "best_proposal_iou": mean(r[:, 2]),
        "best_in_top5": mean(r[:, 3] <= 5),
        "best_rank_median": median(r[:, 3]),
        "area_ratio_median": median(r[:, 4]),
        "top1_background": mean(bg),
        "top1_mostly_background": mean(bg > 0.5),
        "top1_recall": mean(r[:, 6]),
        "union_recall": mean(r[:, 7]),
        "without_candidate": n_without / n_peaks if n_peaks else None,
    }
