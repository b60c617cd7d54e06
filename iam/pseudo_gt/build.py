"""Assemble ``pseudo_gt/{source}/k{k}.h5`` (kind ``pseudo_gt``) from training PRMs and proposals.

Per image group ``/{image_id}`` (attrs ``height``, ``width``, ``n_without_candidates``):

``peaks``             (n, 3) int64: class, y, x of each training peak (copied from the PRM file)
``prm_index``         (n,) int64: row of the peak in the image's ``prm`` dataset of prm/<train>.h5
``masks``             (m, H, W) uint8: the union of all candidate proposals of this image
``candidates``        (n, k) int64: indices into ``masks`` of each peak's candidates, best first (-1 = none)
``candidate_scores``  (n, k) float32: matching score f of each candidate (NaN = none)

File attrs ``k`` and ``source``. The file is self-contained: the filler's loader needs only it
(and the PRMs). A peak whose row of ``candidates`` is all -1 has no candidate and is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from iam.io.h5 import open_artifact, put, write_artifact
from iam.proposals.store import KIND as PROPOSALS, read_proposals
from iam.pseudo_gt.matching import select_candidates
from iam.pseudo_gt.scoring import MatchParams, score_proposals

KIND = "pseudo_gt"
log = logging.getLogger(__name__)


@dataclass
class PseudoGT:
    """One image's pseudo ground truth."""

    peaks: np.ndarray  # (n, 3)
    masks: np.ndarray  # (m, H, W) bool
    candidates: np.ndarray  # (n, k) int64 into masks, -1 = none
    candidate_scores: np.ndarray  # (n, k) float32


def image_pseudo_gt(
    peaks: np.ndarray, prms: np.ndarray, crm: np.ndarray, proposals: np.ndarray, k: int, alpha: float,
    beta: float, contour_width: int, min_overlap: float,
) -> PseudoGT:
    """Match one image's PRMs to its proposals and keep each peak's surviving top-k (``crm``: the
    image's class response maps, for the background term)."""
    scores, overlap = score_proposals(peaks, prms, crm, proposals, MatchParams(alpha, beta, contour_width))
    candidates, cand_scores = select_candidates(scores, overlap, k, min_overlap)
    used = np.unique(candidates[candidates >= 0])
    remap = np.full(len(proposals) + 1, -1, np.int64)  # index -1 maps to the sentinel slot
    remap[used] = np.arange(len(used))
    return PseudoGT(np.asarray(peaks, np.int64), proposals[used], remap[candidates], cand_scores)


def write_pseudo_gt(f: h5py.File, image_id: str, pgt: PseudoGT) -> h5py.Group:
    g = f.create_group(image_id)
    g.attrs["height"], g.attrs["width"] = pgt.masks.shape[1:]
    g.attrs["n_without_candidates"] = int((pgt.candidates < 0).all(1).sum())
    put(g, "peaks", pgt.peaks)
    put(g, "prm_index", np.arange(len(pgt.peaks), dtype=np.int64))
    put(g, "masks", pgt.masks.astype(np.uint8))
    put(g, "candidates", pgt.candidates)
    put(g, "candidate_scores", pgt.candidate_scores)
    return g


def build(
    prm_path: str | Path, proposals_path: str | Path, image_ids: list[str], out: str | Path,
    k: int, alpha: float, beta: float, contour_width: int, min_overlap: float, source: str,
    rule: str = "make_pseudo_gt", params: Mapping[str, Any] | None = None,
) -> dict[str, int]:
    """Write pseudo GT for ``image_ids``; return peak counts (total, without candidates)."""
    counts = {"peaks": 0, "without_candidates": 0}
    with open_artifact(prm_path, "prm") as prm_f, open_artifact(proposals_path, PROPOSALS) as prop_f:
        with write_artifact(out, KIND, rule, params) as f:
            f.attrs["k"], f.attrs["source"] = k, source
            for image_id in image_ids:
                g = prm_f[image_id]
                masks, _ = read_proposals(prop_f, image_id)
                pgt = image_pseudo_gt(g["peaks"][()], g["prm"][()], g["crm"][()], masks, k, alpha, beta,
                                      contour_width, min_overlap)
                written = write_pseudo_gt(f, image_id, pgt)
                counts["peaks"] += len(pgt.peaks)
                counts["without_candidates"] += int(written.attrs["n_without_candidates"])
    log.info("%d peaks, %d without any candidate (skipped in training)", counts["peaks"], counts["without_candidates"])
    return counts
