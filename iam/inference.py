"""IAM inference (paper §3.3, Tables 1-2): PRMs -> filling module -> IAMs -> ConvCRF -> instances.

For each image: a backbone forward gives the filling weights' features, the image's PRMs come from
``prm/{split}.h5``, the filler turns every PRM into an IAM (sigmoid, resized to the original
image), and ConvCRF refines each IAM as its own foreground/background problem. No proposals.

Why per-instance fg/bg labels and not one CRF over background + all instances: several peaks often
fire on one object, and their near-identical IAMs would compete for the same pixels in a joint CRF
and split the object between them before NMS can merge them; per-instance CRFs keep duplicates
whole (NMS removes them afterwards) and keep overlapping instances possible. They share one
pairwise kernel per image and run as one batch.

With ``prm_competition`` > 0 (ours, not the paper's) each PRM is first cut to the pixels where it holds
at least that share of the strongest of the image's other PRMs (:func:`iam.data.maps.compete`), so
that the halo a PRM spills onto a neighbouring instance stays with that instance's own peak; PRMs of
one class at least ``duplicate_cosine`` alike are taken for duplicates on one instance and spared.
With ``kept_score`` (ours) each instance's score is also multiplied by the share of its PRM's mass
that the competition kept: a peak whose response its rivals mostly took is less often an instance of
its own. With ``edge_score`` (ours) it is multiplied by the mask's contour edge strength
(:mod:`iam.contour_edges`): a mask whose outline follows the image's edges ranks above one that ends
on flat colour.

With ``threshold_mode: edge`` (ours) each IAM is cut, without CRF, at the fraction of its maximum among
``edge_levels`` whose cut's outline follows the image's strongest edges (:mod:`iam.contour_edges`), and
the CRF's input is rescaled so that this level is its 0.5 boundary; the CRF's output is then cut at
``mask_threshold`` x its maximum, as in the relative mode. With ``stability_score`` (ours) each score is
also multiplied by the IoU of the IAM's cuts ``stability_delta`` below and above its level, and with
``agreement_score`` (ours) each CRF instance's by the IoU of its mask with the cut the CRF refined
(:mod:`iam.mask_stability`): a mask that moves with the level or under the CRF is less often an object.

Instance i: mask = refined probability > ``mask_threshold``; class = the peak's class;
score = sigmoid(peak score) x mean IAM inside the mask (x the kept share, the edge strength, the
stability and the CRF's agreement, above). Duplicates are
removed by class-wise mask NMS. Two files come from the same forward pass: with CRF (``{split}.h5``) and without
(``{split}.nocrf.h5``, masks = IAM > threshold), both storing the raw IAMs as ``soft`` and the
per-image attrs (seconds) ``time_prm`` (backbone forward + peak backpropagation, from
``extract_prm``: IAM needs the PRMs at test time too), ``time_fill`` (feature forward + filling
module) and ``time_crf`` (0 without CRF).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import cv2
import h5py
import numpy as np
import torch
import torch.nn.functional as F

from iam.contour_edges import contour_mean, edge_aligned_level, edge_strength
from iam.crf.convcrf import CRFParams, refine_foreground
from iam.data.maps import Competition, resize_stack, scale_to_max
from iam.data.transforms import to_tensor
from iam.data.voc import read_image
from iam.io.h5 import open_artifact, write_artifact
from iam.io.instances import KIND as INSTANCES
from iam.io.instances import InstanceSet, set_classes, write_instances
from iam.io.prm import KIND as PRM
from iam.io.prm import read_prm
from iam.mask_stability import cut_stability, pair_iou
from iam.masks import mask_nms
from iam.models.backbone import PeakBackbone
from iam.models.filling import FillingModule

log = logging.getLogger(__name__)
EPS = 1e-6


@dataclass(frozen=True)
class InferenceParams:
    """Config section ``inference`` plus whether ConvCRF runs (``crf.enabled``)."""

    mask_threshold: float = 0.5
    nms_iou: float = 0.5
    crf: CRFParams | None = CRFParams()
    threshold_mode: str = "absolute"
    competition: Competition = Competition()
    kept_score: bool = False
    edge_score: bool = False
    edge_levels: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
    edge_area_power: float = 0.25
    stability_score: bool = False
    stability_delta: float = 0.1
    agreement_score: bool = False

    @classmethod
    def from_config(cls, inference: Mapping[str, Any], crf: Mapping[str, Any]) -> InferenceParams:
        """From the config sections ``inference`` and ``crf``."""
        refine_with = CRFParams(**{k: v for k, v in crf.items() if k != "enabled"}) if crf["enabled"] else None
        return cls(
            inference["mask_threshold"],
            inference["nms_iou"],
            refine_with,
            inference["threshold_mode"],
            Competition.from_config(inference),
            inference["kept_score"],
            inference["edge_score"],
            tuple(inference["edge_levels"]),
            inference["edge_area_power"],
            inference["stability_score"],
            inference["stability_delta"],
            inference["agreement_score"],
        )


@dataclass
class ImageResult:
    iams: np.ndarray  # (n, H, W) float32, one per live peak
    with_crf: InstanceSet
    without_crf: InstanceSet
    crf_source: np.ndarray  # (m,) index into iams of each with_crf instance
    raw_source: np.ndarray  # (m',) index into iams of each without_crf instance
    time_fill: float
    time_crf: float


def synced_clock(device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


@torch.no_grad()
def predict_iams(
    image: np.ndarray,
    prms: np.ndarray,
    backbone: PeakBackbone,
    filler: FillingModule,
    input_size: int,
    device: torch.device,
) -> np.ndarray:
    """(n, H, W) IAMs in [0, 1] at the image's size from its (n, H, W) PRMs (one backbone forward)."""
    features = backbone.features(to_tensor(image, input_size)[None].to(device))
    return fill_iams(prms, features, filler, input_size, image.shape[:2])


@torch.no_grad()
def fill_iams(
    prms: np.ndarray,
    features: dict[str, torch.Tensor],
    filler: FillingModule,
    input_size: int,
    image_size: tuple[int, int],
) -> np.ndarray:
    """(n, H, W) IAMs in [0, 1] at ``image_size`` from (n, H, W) PRMs and the image's backbone
    ``features`` at ``input_size`` (e.g. those of the PRM forward, :attr:`ImagePRM.features`)."""
    device = next(iter(features.values())).device
    x = torch.from_numpy(scale_to_max(resize_stack(prms.astype(np.float32), input_size, cv2.INTER_AREA)))
    logits = filler(x[:, None].to(device), features, torch.zeros(len(prms), dtype=torch.long, device=device))
    iams = F.interpolate(logits.float(), size=image_size, mode="bilinear", align_corners=False)[:, 0].sigmoid()
    return iams.cpu().numpy()


@torch.no_grad()
def image_filling_weights(
    image: np.ndarray,
    backbone: PeakBackbone,
    filler: FillingModule,
    input_size: int,
    device: torch.device,
) -> np.ndarray:
    """W of one image: (C, r^2, N, N) with N = input_size / 4."""
    features = backbone.to(device).eval().features(to_tensor(image, input_size)[None].to(device))
    n = input_size // 4
    return filler.to(device).eval().weights(features, (n, n))[0].cpu().numpy()


def crf_refine(image: np.ndarray, iams: np.ndarray, params: CRFParams, device: torch.device) -> np.ndarray:
    """Per-instance fg/bg ConvCRF marginals (n, H, W) of the foreground."""
    logit = torch.logit(torch.from_numpy(iams).to(device), eps=EPS)
    rgb = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).to(device).float()
    return refine_foreground(rgb, logit, params).cpu().numpy()


def foreground(probs: np.ndarray, params: InferenceParams, levels: np.ndarray | None = None) -> np.ndarray:
    """(n, H, W) bool masks of (n, H, W) maps: above ``mask_threshold`` (absolute), or at least
    ``levels`` (n,) times each map's maximum (default: ``mask_threshold``)."""
    if params.threshold_mode == "absolute":
        return probs > params.mask_threshold
    peak = probs.reshape(len(probs), -1).max(1) if len(probs) else np.zeros(0, probs.dtype)
    levels = np.full(len(probs), params.mask_threshold) if levels is None else levels
    return (probs >= (levels * peak)[:, None, None]) & (peak[:, None, None] > 0)


def cut_levels(iams: np.ndarray, edges: np.ndarray | None, params: InferenceParams) -> np.ndarray:
    """(n,) the fraction of each IAM's maximum where its no-CRF mask is cut: ``mask_threshold``, or with
    ``threshold_mode: edge`` the :func:`~iam.contour_edges.edge_aligned_level` of the image's ``edges``
    (which that mode needs)."""
    if params.threshold_mode != "edge":
        return np.full(len(iams), params.mask_threshold)
    if edges is None:
        raise ValueError("threshold_mode edge cuts each IAM where the image's edges are: pass them")
    return np.array([edge_aligned_level(m, edges, params.edge_levels, params.edge_area_power) for m in iams])


def calibrated(iams: np.ndarray, params: InferenceParams, levels: np.ndarray) -> np.ndarray:
    """The maps the CRF refines: with the relative threshold each IAM is rescaled to maximum 1 first,
    so that a filler whose maps peak below 0.5 is not erased by the CRF's unary term; with the edge
    threshold it is rescaled so that its cut level (``levels`` x its maximum) becomes 0.5, capped at 1."""
    if params.threshold_mode == "absolute":
        return iams
    if params.threshold_mode == "relative":
        return scale_to_max(iams)
    peak = iams.reshape(len(iams), -1).max(1)
    return np.clip(iams / np.maximum(2 * levels * peak, EPS)[:, None, None], 0, 1).astype(np.float32)


def instances(
    masks: np.ndarray,
    iams: np.ndarray,
    classes: np.ndarray,
    peak_scores: np.ndarray,
    params: InferenceParams,
    factor: np.ndarray | None = None,
    edges: np.ndarray | None = None,
) -> tuple[InstanceSet, np.ndarray]:
    """Score and NMS one image's per-peak (n, H, W) masks (:func:`foreground`): the kept instances and
    each one's index into ``masks`` (its peak). ``factor``: per peak, on its score (default 1);
    ``edges``: the image's :func:`~iam.contour_edges.edge_strength`, whose mean on each mask's contour
    multiplies its score (default: not used)."""
    area = masks.reshape(len(masks), -1).sum(1)
    keep = np.flatnonzero(area > 0)
    mean_iam = (iams * masks).reshape(len(masks), -1).sum(1) / np.maximum(area, 1)
    scores = 1 / (1 + np.exp(-peak_scores)) * mean_iam * (1.0 if factor is None else factor)
    scores = (scores * (1.0 if edges is None else contour_mean(masks, edges))).astype(np.float32)
    masks, classes, scores = masks[keep], classes[keep], scores[keep]
    kept = mask_nms(masks, classes, scores, params.nms_iou) if len(masks) else np.zeros(0, np.int64)
    return InstanceSet(masks[kept], classes[kept].astype(np.int64), scores[kept]), keep[kept]


def live_peaks(prms: np.ndarray) -> np.ndarray:
    """(n,) bool: the peaks whose PRM is not all zero (the others give no IAM)."""
    return prms.reshape(len(prms), -1).max(1) > 0 if len(prms) else np.zeros(0, bool)


def live_iams(
    image: np.ndarray,
    prms: np.ndarray,
    backbone: PeakBackbone,
    filler: FillingModule,
    input_size: int,
    device: torch.device,
) -> tuple[np.ndarray, np.ndarray]:
    """(n,) :func:`live_peaks` of the (n, H, W) PRMs and the (live.sum(), H, W) IAMs of those peaks."""
    live = live_peaks(prms)
    if not live.any():
        return live, np.zeros((0, *image.shape[:2]), np.float32)
    return live, predict_iams(image, prms[live], backbone, filler, input_size, device)


def infer_image(
    image: np.ndarray,
    peaks: np.ndarray,
    peak_scores: np.ndarray,
    prms: np.ndarray,
    backbone: PeakBackbone,
    filler: FillingModule,
    input_size: int,
    params: InferenceParams,
    device: torch.device,
) -> ImageResult:
    """IAMs and instances (with and without CRF) of one image; peaks with all-zero PRMs are dropped."""
    height, width = image.shape[:2]
    live = live_peaks(prms)
    if not live.any():
        empty, none = InstanceSet.empty(height, width), np.zeros(0, np.int64)
        return ImageResult(np.zeros((0, height, width), np.float32), empty, empty, none, none, 0.0, 0.0)
    peaks, peak_scores, whole = peaks[live], peak_scores[live], prms[live]
    prms, kept = params.competition.kept(whole, peaks[:, 0])
    tic = synced_clock(device)
    iams = predict_iams(image, prms, backbone, filler, input_size, device)
    toc = synced_clock(device)
    cuts = masks_of(image, iams, params, device)
    time_crf = synced_clock(device) - toc if params.crf else 0.0
    classes, (raw_factor, crf_factor) = peaks[:, 0].astype(np.int64), score_factors(iams, cuts, kept, params)
    with_crf, crf_source = instances(cuts.refined, iams, classes, peak_scores, params, crf_factor, cuts.edges)
    without_crf, raw_source = instances(cuts.raw, iams, classes, peak_scores, params, raw_factor, cuts.edges)
    return ImageResult(iams, with_crf, without_crf, crf_source, raw_source, toc - tic, time_crf)


class Cuts(NamedTuple):
    """One image's masks of its (n, H, W) IAMs, without and with ConvCRF (the same without ``params.crf``),
    each IAM's cut level (fractions of its maximum), and the image's
    :func:`~iam.contour_edges.edge_strength` when ``params.edge_score`` asks for it (else None)."""

    raw: np.ndarray
    refined: np.ndarray
    edges: np.ndarray | None
    levels: np.ndarray


def score_factors(
    iams: np.ndarray, cuts: Cuts, kept: np.ndarray, params: InferenceParams
) -> tuple[np.ndarray, np.ndarray]:
    """(n,) factors on the no-CRF and the CRF instances' scores: the competition's ``kept`` share,
    :func:`~iam.mask_stability.cut_stability` and the CRF's agreement
    (:func:`~iam.mask_stability.pair_iou`), each where ``params`` asks for it."""
    raw = (kept if params.kept_score else np.ones(len(iams))).astype(np.float64)
    if params.stability_score:
        raw = raw * cut_stability(iams, cuts.levels, params.stability_delta)
    agree = params.agreement_score and params.crf is not None
    return raw, raw * pair_iou(cuts.raw, cuts.refined) if agree else raw


def masks_of(image: np.ndarray, iams: np.ndarray, params: InferenceParams, device: torch.device) -> Cuts:
    """The :class:`Cuts` of one image's (n, H, W) IAMs."""
    edges = edge_strength(image) if params.edge_score or params.threshold_mode == "edge" else None
    levels = cut_levels(iams, edges, params)
    raw, score_edges = foreground(iams, params, levels), edges if params.edge_score else None
    if not params.crf:
        return Cuts(raw, raw, score_edges, levels)
    refined = crf_refine(image, calibrated(iams, params, levels), params.crf, device)
    return Cuts(raw, foreground(refined, params), score_edges, levels)


def write_result(f: h5py.File, image_id: str, inst: InstanceSet, iams: np.ndarray, times: Mapping[str, float]) -> None:
    g = write_instances(f, image_id, inst, soft=iams)
    g.attrs.update(times)


def infer_split(
    backbone: PeakBackbone,
    filler: FillingModule,
    input_size: int,
    prm_path: str | Path,
    voc_root: str | Path,
    image_ids: list[str],
    out: str | Path,
    out_nocrf: str | Path,
    classes: list[str],
    params: InferenceParams,
    device: torch.device,
    rule: str = "infer_iam",
    provenance: Mapping[str, Any] | None = None,
) -> None:
    """Write IAM instances of ``image_ids`` with CRF to ``out`` and without to ``out_nocrf``."""
    backbone, filler = backbone.to(device).eval(), filler.to(device).eval()
    with (
        open_artifact(prm_path, PRM) as prm_f,
        write_artifact(out, INSTANCES, rule, provenance) as f_crf,
        write_artifact(out_nocrf, INSTANCES, rule, {**(provenance or {}), "crf": None}) as f_raw,
    ):
        set_classes(f_crf, classes)
        set_classes(f_raw, classes)
        for image_id in image_ids:
            p = read_prm(prm_f, image_id)
            res = infer_image(
                read_image(voc_root, image_id),
                p.peaks,
                p.peak_scores,
                p.prm,
                backbone,
                filler,
                input_size,
                params,
                device,
            )
            if not len(res.iams):
                log.warning("%s: no peaks with a non-zero PRM; no instances", image_id)
            times = {"time_fill": res.time_fill, **p.times}
            write_result(f_crf, image_id, res.with_crf, res.iams[res.crf_source], {**times, "time_crf": res.time_crf})
            write_result(f_raw, image_id, res.without_crf, res.iams[res.raw_source], {**times, "time_crf": 0.0})
