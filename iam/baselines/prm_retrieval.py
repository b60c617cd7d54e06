"""The PRM paper's inference (Zhou et al. 2018), our Table 1/2 baseline: retrieve one proposal per peak.

score_j = alpha * sum(M * S_j) + sum(M * contour(S_j)) - beta * sum(B * S_j) / sum(B) - size_prior * |S_j| / |image|
          - border_prior * boundary_connectivity(S_j)

The score is :func:`iam.pseudo_gt.matching.matching_scores` (M the peak's PRM rescaled to sum 1,
B the background map of the image's peak classes), the pseudo-GT matching with its background term.
The best proposal per peak becomes an instance (class = peak class, score = peak score);
duplicates are suppressed by class-wise NMS.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from iam.io.h5 import open_artifact, write_artifact
from iam.io.instances import KIND as INSTANCES
from iam.io.instances import InstanceSet, set_classes, write_instances
from iam.io.prm import KIND as PRM
from iam.io.prm import read_prm
from iam.masks import mask_nms
from iam.proposals.store import KIND as PROPOSALS
from iam.proposals.store import read_generator_seconds, read_proposals
from iam.pseudo_gt.scoring import MatchParams, score_proposals


def retrieve(
    peaks: np.ndarray,
    peak_scores: np.ndarray,
    prms: np.ndarray,
    crm: np.ndarray,
    proposals: np.ndarray,
    match: MatchParams,
    nms_iou: float,
) -> InstanceSet:
    """One image's PRM-retrieval instances."""
    height, width = proposals.shape[1:]
    if len(peaks) == 0 or len(proposals) == 0:
        return InstanceSet.empty(height, width)
    score, _ = score_proposals(peaks, prms, crm, proposals, match)
    best = np.argmax(score, axis=1)
    inst = InstanceSet(proposals[best], peaks[:, 0].astype(np.int64), peak_scores.astype(np.float32))
    keep = mask_nms(inst.masks, inst.labels, inst.scores, nms_iou)
    return InstanceSet(inst.masks[keep], inst.labels[keep], inst.scores[keep])


def retrieve_split(
    prm_path: str | Path,
    proposals_path: str | Path,
    image_ids: list[str],
    out: str | Path,
    classes: list[str],
    match: MatchParams,
    nms_iou: float,
    timing_path: str | Path | None = None,
    rule: str = "retrieve_prm",
    params: Mapping[str, Any] | None = None,
) -> None:
    """Write the baseline's instances for ``image_ids``; per-image attrs ``time_prm`` (from the
    PRM artifact), ``time_retrieval`` (seconds: decoding proposals, scoring, NMS) and
    ``time_proposals`` (generator seconds from ``timing_path``; absent for external MCG/COB proposals)."""
    timing = read_generator_seconds(timing_path)
    with open_artifact(prm_path, PRM) as prm_f, open_artifact(proposals_path, PROPOSALS) as prop_f:
        with write_artifact(out, INSTANCES, rule, params) as f:
            set_classes(f, classes)
            for image_id in image_ids:
                p = read_prm(prm_f, image_id)
                start = time.perf_counter()
                masks, _ = read_proposals(prop_f, image_id)
                inst = retrieve(p.peaks, p.peak_scores, p.prm, p.crm, masks, match, nms_iou)
                elapsed = time.perf_counter() - start
                group = write_instances(f, image_id, inst)
                group.attrs["time_retrieval"] = elapsed
                group.attrs.update(p.times)
                if image_id in timing:
                    group.attrs["time_proposals"] = timing[image_id]
