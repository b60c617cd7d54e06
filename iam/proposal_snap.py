"""IAM snapped to proposals (our extension of the paper, method ``iam_s{k}_snap``): the filler says
where an instance is and how far it reaches, a proposal supplies a boundary that follows the image.

Each IAM is cut at ``threshold`` times its maximum and replaced by the proposal it overlaps best
(IoU); score = sigmoid(peak score) x mean IAM over that proposal x that IoU; class-wise mask NMS
then removes the duplicates that snapped to the same object. No CRF, no GT. The PRMs compete first,
as in :func:`iam.inference.infer_image` (``inference.prm_competition`` and ``duplicate_cosine``), and
with ``kept_score`` the score is multiplied by the share of the PRM's mass the competition kept.
Unlike the paper's IAM, inference needs proposals (Table 2 counts their time, as for PRM
retrieval). Why: the IAMs find the objects but not their outline (benchmarks/results/iam_scoring-92d9769-k5.json).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from iam.data.maps import Competition
from iam.data.voc import read_image
from iam.inference import live_iams, write_result
from iam.io.h5 import open_artifact, write_artifact
from iam.io.instances import KIND as INSTANCES
from iam.io.instances import InstanceSet, set_classes
from iam.io.prm import KIND as PRM
from iam.io.prm import read_prm
from iam.masks import iou_matrix, mask_nms
from iam.models.backbone import PeakBackbone
from iam.models.filling import FillingModule
from iam.proposals.store import KIND as PROPOSALS
from iam.proposals.store import read_generator_seconds, read_proposals


@dataclass(frozen=True)
class SnapParams:
    """``inference.snap_threshold`` (the relative cut matched to the proposals), ``nms_iou`` and the
    PRM competition of IAM inference."""

    threshold: float = 0.9
    nms_iou: float = 0.5
    competition: Competition = Competition()
    kept_score: bool = False

    @classmethod
    def from_config(cls, inference: Mapping[str, Any]) -> SnapParams:
        """From the keys :data:`iam.names.SNAP_KEYS` of the ``inference`` section."""
        competition = Competition.from_config(inference)
        return cls(inference["snap_threshold"], inference["nms_iou"], competition, inference["kept_score"])


def best_fits(iams: np.ndarray, proposals: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """(n,) index of the proposal each IAM's cut at ``threshold`` x its maximum overlaps best, and
    (n,) that IoU."""
    cut = iams >= threshold * iams.reshape(len(iams), -1).max(1)[:, None, None]
    fit = iou_matrix(cut, proposals)
    best = fit.argmax(1)
    return best, fit[np.arange(len(best)), best]


def snap_instances(
    iams: np.ndarray,
    proposals: np.ndarray,
    classes: np.ndarray,
    peak_scores: np.ndarray,
    params: SnapParams,
    kept: np.ndarray | None = None,
) -> tuple[InstanceSet, np.ndarray]:
    """One image's instances from its (n, H, W) IAMs and (m, H, W) proposals, and each kept
    instance's index into ``iams``; ``kept``, a factor per IAM on its score (default 1)."""
    height, width = iams.shape[1:]
    if not len(iams) or not len(proposals):
        return InstanceSet.empty(height, width), np.zeros(0, np.int64)
    best, fit = best_fits(iams, proposals, params.threshold)
    masks = proposals[best].astype(bool)
    mean_iam = (iams * masks).reshape(len(masks), -1).sum(1) / np.maximum(masks.reshape(len(masks), -1).sum(1), 1)
    scores = (mean_iam * fit / (1 + np.exp(-peak_scores)) * (1.0 if kept is None else kept)).astype(np.float32)
    kept = mask_nms(masks, classes, scores, params.nms_iou)
    return InstanceSet(masks[kept], classes[kept].astype(np.int64), scores[kept]), kept


def competing_iams(
    image: np.ndarray,
    peaks: np.ndarray,
    prms: np.ndarray,
    backbone: PeakBackbone,
    filler: FillingModule,
    input_size: int,
    params: SnapParams,
    device: torch.device,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """:func:`iam.inference.live_iams` of the PRMs after their competition (``params``), and the
    live PRMs' :func:`iam.data.maps.kept_mass` when ``params.kept_score`` (else None)."""
    cut, kept = params.competition.kept(prms, peaks[:, 0])
    live, iams = live_iams(image, cut, backbone, filler, input_size, device)
    return live, iams, kept[live] if params.kept_score else None


def snap_split(
    backbone: PeakBackbone,
    filler: FillingModule,
    input_size: int,
    paths: Mapping[str, str | Path],
    image_ids: list[str],
    classes: list[str],
    params: SnapParams,
    device: torch.device,
    rule: str = "snap_iam",
    provenance: Mapping[str, Any] | None = None,
) -> None:
    """Write the snapped instances of ``image_ids`` to ``paths["out"]``, from ``paths`` ``prm``,
    ``proposals`` and ``voc_root`` (and the generator's per-image seconds ``timing``, when given).
    Per image: ``time_prm``, ``time_fill``, ``time_proposals`` and ``time_retrieval`` (snapping)."""
    backbone, filler = backbone.to(device).eval(), filler.to(device).eval()
    timing = read_generator_seconds(paths.get("timing"))
    with (
        open_artifact(paths["prm"], PRM) as prm_f,
        open_artifact(paths["proposals"], PROPOSALS) as prop_f,
        write_artifact(paths["out"], INSTANCES, rule, provenance) as f,
    ):
        set_classes(f, classes)
        for image_id in image_ids:
            p, image = read_prm(prm_f, image_id), read_image(paths["voc_root"], image_id)
            tic = time.perf_counter()
            live, iams, kept = competing_iams(image, p.peaks, p.prm, backbone, filler, input_size, params, device)
            toc = time.perf_counter()
            proposals, _ = read_proposals(prop_f, image_id)
            labels = p.peaks[live][:, 0].astype(np.int64)
            inst, source = snap_instances(iams, proposals, labels, p.peak_scores[live], params, kept)
            times = {"time_fill": toc - tic, "time_retrieval": time.perf_counter() - toc, **p.times}
            if image_id in timing:
                times["time_proposals"] = timing[image_id]
            write_result(f, image_id, inst, iams[source], times)
