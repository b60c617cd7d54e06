"""The PRM paper's inference (Zhou et al. 2018), our Table 1/2 baseline: retrieve one proposal per peak.

score_j = alpha * sum(M * S_j) + sum(M * contour(S_j)) - beta * sum(B * S_j) / sum(B)

M is the peak's PRM rescaled to sum 1 (as in :mod:`iam.pseudo_gt.matching`). B is the background
map: 1 - max over the peak classes of the class response maps (ReLU, each rescaled to max 1,
bilinearly resized to the image), and the background term is the fraction of B's mass a proposal
covers, so all three terms are on the same [0, 1] scale. The best proposal per peak becomes an
instance (class = peak class, score = peak score); duplicates are suppressed by class-wise NMS.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from iam.evaluation.masks import mask_nms
from iam.io.h5 import open_artifact, write_artifact
from iam.io.instances import KIND as INSTANCES, InstanceSet, set_classes, write_instances
from iam.proposals.store import KIND as PROPOSALS, read_proposals
from iam.pseudo_gt.matching import matching_scores


def background_map(crm: np.ndarray, classes: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) background evidence: 1 - max over ``classes`` of their max-normalised CRMs."""
    if len(classes) == 0:
        return np.ones(shape, np.float32)
    maps = np.clip(crm[np.unique(classes)].astype(np.float32), 0, None)
    peak = maps.reshape(len(maps), -1).max(1)
    maps = maps / np.where(peak > 0, peak, 1)[:, None, None]
    fg = np.stack([cv2.resize(m, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR) for m in maps]).max(0)
    return 1 - np.clip(fg, 0, 1)


def retrieve(
    peaks: np.ndarray, peak_scores: np.ndarray, prms: np.ndarray, crm: np.ndarray,
    proposals: np.ndarray, alpha: float, beta: float, contour_width: int, nms_iou: float,
) -> InstanceSet:
    """One image's PRM-retrieval instances."""
    height, width = proposals.shape[1:]
    if len(peaks) == 0 or len(proposals) == 0:
        return InstanceSet.empty(height, width)
    score, _ = matching_scores(prms, proposals, alpha, contour_width)
    bg = background_map(crm, peaks[:, 0], (height, width)).ravel()
    bg_cover = proposals.reshape(len(proposals), -1).astype(np.float32) @ bg / max(float(bg.sum()), 1e-6)
    best = np.argmax(score - beta * bg_cover[None, :], axis=1)
    inst = InstanceSet(proposals[best], peaks[:, 0].astype(np.int64), peak_scores.astype(np.float32))
    keep = mask_nms(inst.masks, inst.labels, inst.scores, nms_iou)
    return InstanceSet(inst.masks[keep], inst.labels[keep], inst.scores[keep])


def retrieve_split(
    prm_path: str | Path, proposals_path: str | Path, image_ids: list[str], out: str | Path,
    classes: list[str], alpha: float, beta: float, contour_width: int, nms_iou: float,
    timing_path: str | Path | None = None, rule: str = "retrieve_prm", params: Mapping[str, Any] | None = None,
) -> None:
    """Write the baseline's instances for ``image_ids``; per-image attrs ``time_retrieval``
    (seconds: decoding proposals, scoring, NMS) and ``time_proposals`` (generator seconds from
    ``timing_path``; absent for external MCG/COB proposals)."""
    timing = json.loads(Path(timing_path).read_text()) if timing_path else {}
    with open_artifact(prm_path, "prm") as prm_f, open_artifact(proposals_path, PROPOSALS) as prop_f:
        with write_artifact(out, INSTANCES, rule, params) as f:
            set_classes(f, classes)
            for image_id in image_ids:
                g = prm_f[image_id]
                start = time.perf_counter()
                masks, _ = read_proposals(prop_f, image_id)
                inst = retrieve(g["peaks"][()], g["peak_scores"][()], g["prm"][()], g["crm"][()], masks,
                                alpha, beta, contour_width, nms_iou)
                elapsed = time.perf_counter() - start
                group = write_instances(f, image_id, inst)
                group.attrs["time_retrieval"] = elapsed
                if "time_forward" in g.attrs:  # forward + peak backpropagation, from extract_prm
                    group.attrs["time_forward"] = g.attrs["time_forward"]
                if image_id in timing:
                    group.attrs["time_proposals"] = timing[image_id]
