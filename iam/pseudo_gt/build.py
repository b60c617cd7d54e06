"""Assemble ``pseudo_gt/{source}/k{k}.h5`` (kind ``pseudo_gt``, :mod:`iam.io.pseudo_gt`) from training PRMs
and proposals."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from iam.io.h5 import open_artifact, write_artifact
from iam.io.prm import KIND as PRM
from iam.io.prm import read_prm
from iam.io.pseudo_gt import KIND, PseudoGT, write_pseudo_gt
from iam.proposals.store import KIND as PROPOSALS
from iam.proposals.store import read_proposals
from iam.pseudo_gt.matching import select_candidates
from iam.pseudo_gt.scoring import MatchParams, score_proposals

log = logging.getLogger(__name__)


def image_pseudo_gt(
    peaks: np.ndarray,
    prms: np.ndarray,
    crm: np.ndarray,
    proposals: np.ndarray,
    k: int,
    match: MatchParams,
    min_overlap: float,
) -> PseudoGT:
    """Match one image's PRMs to its proposals and keep each peak's surviving top-k (``crm``: the
    image's class response maps, for the background term)."""
    scores, overlap = score_proposals(peaks, prms, crm, proposals, match)
    candidates, cand_scores = select_candidates(scores, overlap, k, min_overlap)
    used = np.unique(candidates[candidates >= 0])
    remap = np.full(len(proposals) + 1, -1, np.int64)  # index -1 maps to the sentinel slot
    remap[used] = np.arange(len(used))
    return PseudoGT(np.asarray(peaks, np.int64), proposals[used], remap[candidates], cand_scores)


def build(
    prm_path: str | Path,
    proposals_path: str | Path,
    image_ids: list[str],
    out: str | Path,
    k: int,
    match: MatchParams,
    min_overlap: float,
    source: str,
    rule: str = "make_pseudo_gt",
    params: Mapping[str, Any] | None = None,
) -> dict[str, int]:
    """Write pseudo GT for ``image_ids``; return peak counts (total, without candidates)."""
    counts = {"peaks": 0, "without_candidates": 0}
    with open_artifact(prm_path, PRM) as prm_f, open_artifact(proposals_path, PROPOSALS) as prop_f:
        with write_artifact(out, KIND, rule, params) as f:
            f.attrs["k"], f.attrs["source"] = k, source
            for image_id in image_ids:
                p = read_prm(prm_f, image_id)
                masks, _ = read_proposals(prop_f, image_id)
                pgt = image_pseudo_gt(p.peaks, p.prm, p.crm, masks, k, match, min_overlap)
                write_pseudo_gt(f, image_id, pgt)
                counts["peaks"] += len(pgt.peaks)
                counts["without_candidates"] += pgt.n_without_candidates
    log.info("%d peaks, %d without any candidate (skipped in training)", counts["peaks"], counts["without_candidates"])
    return counts
