"""Self-training (our extension of the paper, opt-in ``self_training.enabled``): the first filler's
IAMs on the training split, each snapped to the proposal it fits best (:func:`iam.proposal_snap.best_fits`,
as ``iam_s{k}_snap`` does on val), become a second filler's targets, one candidate per peak instead
of the matching score's top k. The PRMs compete first as on val (:func:`iam.proposal_snap.competing_iams`).
GT-free, like the pseudo GT it replaces.

Why: the pseudo GT's first candidate covers the peak's instance with IoU 0.24 on the default run (the
matching score favours proposals that hold the PRM's spill); the filler has learnt where its
instance is, so its own IAM ranks the proposals better (benchmarks/results/filler_ablation.jsonl,
row ``round2_snap``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from iam.data.voc import read_image
from iam.io.h5 import open_artifact, write_artifact
from iam.io.prm import KIND as PRM
from iam.io.prm import read_prm
from iam.io.pseudo_gt import KIND, PseudoGT, write_pseudo_gt
from iam.models.backbone import PeakBackbone
from iam.models.filling import FillingModule
from iam.names import SELF_TRAINED_SOURCE
from iam.proposal_snap import SnapParams, best_fits, competing_iams
from iam.proposals.store import KIND as PROPOSALS
from iam.proposals.store import read_proposals


def snapped_targets(
    peaks: np.ndarray, iams: np.ndarray, live: np.ndarray, proposals: np.ndarray, threshold: float, k: int
) -> PseudoGT:
    """One image's targets from its (n, 3) peaks, the (live.sum(), H, W) IAMs of its ``live`` peaks and
    its (m, H, W) proposals: each live peak's best-fitting proposal as its single candidate (of ``k``
    columns), scored by that fit's IoU; dead peaks, and every peak of an image without proposals, get none."""
    candidates = np.full((len(peaks), k), -1, np.int64)
    scores = np.full((len(peaks), k), np.nan, np.float32)
    masks = np.zeros((0, *iams.shape[1:]), bool)
    if len(iams) and len(proposals):
        best, fit = best_fits(iams, proposals, threshold)
        used, row = np.unique(best, return_inverse=True)
        masks = proposals[used].astype(bool)
        candidates[live, 0], scores[live, 0] = row, fit
    return PseudoGT(peaks, masks, candidates, scores)


def build_targets(
    backbone: PeakBackbone,
    filler: FillingModule,
    input_size: int,
    paths: Mapping[str, str | Path],
    image_ids: list[str],
    k: int,
    params: SnapParams,
    device: torch.device,
    provenance: Mapping[str, Any] | None = None,
) -> dict[str, int]:
    """Write the targets of ``image_ids`` to ``paths["out"]`` (a pseudo-GT artifact of ``k`` and source
    ``selftrain``) from ``paths`` ``prm``, ``proposals`` and ``voc_root``, the IAMs cut at
    ``params.threshold`` and their PRMs competing as ``params`` says; return the peak counts."""
    backbone, filler = backbone.to(device).eval(), filler.to(device).eval()
    counts = {"peaks": 0, "without_candidates": 0}
    with (
        open_artifact(paths["prm"], PRM) as prm_f,
        open_artifact(paths["proposals"], PROPOSALS) as prop_f,
        write_artifact(paths["out"], KIND, "self_training_targets", provenance) as out,
    ):
        out.attrs["k"], out.attrs["source"] = k, SELF_TRAINED_SOURCE
        for image_id in image_ids:
            p, (proposals, _) = read_prm(prm_f, image_id), read_proposals(prop_f, image_id)
            image = read_image(paths["voc_root"], image_id)
            live, iams, _ = competing_iams(image, p.peaks, p.prm, backbone, filler, input_size, params, device)
            targets = snapped_targets(p.peaks, iams, live, proposals, params.threshold, k)
            write_pseudo_gt(out, image_id, targets)
            counts["peaks"] += len(targets.peaks)
            counts["without_candidates"] += targets.n_without_candidates
    return counts
