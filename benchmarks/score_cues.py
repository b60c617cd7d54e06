"""Which GT-free cues rank a finished run's IAM instances? On val, the shipped inference of one filler
(the config's ``inference`` and ``crf``) gives each live peak its CRF mask; for every such mask, before
NMS, each cue below is set against the mask's best IoU with a GT instance of its class (Spearman rank
correlation), and the masks are ranked, NMS-ed and evaluated (VOC mAP^r) by the shipped score and by
the oracle (that IoU; reads GT), which bounds what ranking alone can give.

Cues: ``peak`` sigmoid(peak score), ``mean_iam`` mean IAM inside the mask, ``kept`` the share of the
PRM's mass the competition kept, ``edge`` contour edge strength (:mod:`iam.contour_edges`), ``area``
(share of the image), ``prm_inside`` / ``iam_inside`` the share of the competed PRM's / the IAM's mass
inside the mask, ``border`` whether the mask touches the image's border, ``stability`` and
``agreement`` (:mod:`iam.mask_stability`), ``shipped`` the score the config gives; and two that read
the run's val proposals, which the paper's IAM inference does not use: ``proposal_fit`` (the mask's
best IoU with a proposal) and ``objectness`` (that proposal's generator score). Besides the shipped
score and the oracle, the masks are also ranked by the shipped score x ``proposal_fit`` and x
``proposal_fit`` x ``objectness``. ``--dump`` writes every mask with its cues, class and IoUs to an
HDF5 file for ``cue_ranker.py``.

    .venv/bin/python benchmarks/score_cues.py results/synthetic --k 5 --out benchmarks/results/score_cues.json
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import torch
import yaml
from scipy.stats import spearmanr
from shards import write_record  # benchmarks/ is on the path when this script runs

from iam.config import validate_config
from iam.contour_edges import contour_mean, edge_strength
from iam.data.voc import GTInstances, read_image, read_split
from iam.evaluation.gt import instance_reader
from iam.evaluation.voc_ap import APAccumulator, mean_ap
from iam.inference import Cuts, InferenceParams, live_peaks, masks_of, predict_iams, score_factors
from iam.io.h5 import open_hdf5
from iam.io.prm import read_prm
from iam.mask_stability import cut_stability, pair_iou
from iam.masks import iou_matrix, mask_nms
from iam.proposals.store import read_proposals
from iam.training.filler import load_feature_backbone, load_filler

RANKINGS = ("shipped", "oracle", "shipped_x_fit", "shipped_x_fit_x_objectness")


def mass_inside(maps: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """(n,) share of each (n, H, W) map's positive mass inside its mask."""
    positive = np.clip(maps, 0, None).reshape(len(maps), -1)
    return (positive * masks.reshape(len(masks), -1)).sum(1) / np.maximum(positive.sum(1), 1e-12)


def proposal_cues(masks: np.ndarray, proposals: np.ndarray, scores: np.ndarray) -> dict[str, np.ndarray]:
    """(n,) each mask's best IoU with one of the image's (m, H, W) proposals and that proposal's score."""
    if not len(proposals):
        return {"proposal_fit": np.zeros(len(masks)), "objectness": np.zeros(len(masks))}
    fit = iou_matrix(masks, proposals)
    return {"proposal_fit": fit.max(1), "objectness": np.asarray(scores, np.float64)[fit.argmax(1)]}


def cues(
    image: np.ndarray,
    prms: np.ndarray,
    iams: np.ndarray,
    cuts: Cuts,
    kept: np.ndarray,
    peak_scores: np.ndarray,
    params: InferenceParams,
    proposals: tuple[np.ndarray, np.ndarray],
) -> dict[str, np.ndarray]:
    """(n,) every cue of the image's n CRF masks."""
    masks = cuts.refined
    area = masks.reshape(len(masks), -1).sum(1)
    frame = np.zeros(masks.shape[1:], bool)
    frame[[0, -1]], frame[:, [0, -1]] = True, True
    peak = 1 / (1 + np.exp(-peak_scores))
    mean_iam = (iams * masks).reshape(len(masks), -1).sum(1) / np.maximum(area, 1)
    edge = contour_mean(masks, edge_strength(image))
    _, factor = score_factors(iams, cuts, kept, params)
    shipped = peak * mean_iam * factor * (edge if params.edge_score else 1.0)
    return {
        "peak": peak,
        "mean_iam": mean_iam,
        "kept": kept,
        "edge": edge,
        "area": area / masks[0].size,
        "prm_inside": mass_inside(prms, masks),
        "iam_inside": mass_inside(iams, masks),
        "border": (masks & frame).reshape(len(masks), -1).any(1).astype(float),
        "stability": cut_stability(iams, cuts.levels, params.stability_delta),
        "agreement": pair_iou(cuts.raw, masks),
        **proposal_cues(masks, *proposals),
        "shipped": shipped,
    }


def candidates(
    run: Path, k: int, config: Mapping[str, Any]
) -> Iterator[tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, GTInstances]]:
    """Per val image: its CRF masks' cues, classes, masks and GT (images without a live peak skipped)."""
    voc, classes, device = run / "data" / "VOC2012", config["dataset"]["classes"], torch.device("cpu")
    filler_path = run / "filler" / "generated" / f"k{k}" / "model.pt"
    filler, size = load_filler(filler_path, device)
    backbone = load_feature_backbone(filler_path, run / "backbone" / "model.pt", device)
    params = InferenceParams.from_config(config["inference"], config["crf"])
    read_gt = instance_reader("voc", str(voc), None, classes)
    with open_hdf5(run / "prm" / "val.h5") as prm_f, open_hdf5(run / "proposals/generated/val.h5") as prop_f:
        for image_id in read_split(voc, "val"):
            p, image = read_prm(prm_f, image_id), read_image(voc, image_id)
            live = live_peaks(p.prm)
            if not live.any():
                continue
            labels = p.peaks[live, 0].astype(np.int64)
            prms, kept = params.competition.kept(p.prm[live], labels)
            iams = predict_iams(image, prms, backbone, filler, size, device)
            cuts = masks_of(image, iams, params, device)
            yield (
                cues(image, prms, iams, cuts, kept, p.peak_scores[live], params, read_proposals(prop_f, image_id)),
                labels,
                cuts.refined,
                read_gt(image_id),
            )


def best_ious(labels: np.ndarray, gt_labels: np.ndarray, ious: np.ndarray) -> np.ndarray:
    """(n,) each mask's best IoU with a GT instance of its class (``ious``: masks x GT instances)."""
    return np.where(labels[:, None] == gt_labels[None], ious, 0).max(1, initial=0.0)


def rankings(found: Mapping[str, np.ndarray], best: np.ndarray) -> dict[str, np.ndarray]:
    """The scores of :data:`RANKINGS` for one image's masks, from their cues and best IoUs."""
    fit = found["shipped"] * found["proposal_fit"]
    return dict(zip(RANKINGS, (found["shipped"], best, fit, fit * found["objectness"])))


def add_ranked(
    acc: APAccumulator,
    masks: np.ndarray,
    labels: np.ndarray,
    scores: np.ndarray,
    gt_labels: np.ndarray,
    ious: np.ndarray,
    nms_iou: float,
) -> None:
    """Rank one image's masks by ``scores``, remove duplicates by class-wise NMS at ``nms_iou``, add
    them to ``acc`` against the image's GT classes (``ious``: masks x GT instances)."""
    nonempty = np.flatnonzero(masks.reshape(len(masks), -1).any(1))
    keep = nonempty[mask_nms(masks[nonempty], labels[nonempty], scores[nonempty], nms_iou)]
    acc.add(labels[keep], scores[keep], gt_labels, ious[keep])


def dump_image(f: h5py.File, n: int, found: Mapping[str, np.ndarray], labels, masks, gt: GTInstances, ious) -> None:
    """Image ``n``'s masks, their cues, classes and IoUs with its GT instances, for cue_ranker.py."""
    g = f.create_group(f"{n:05d}")
    for name, values in {**found, "labels": labels, "ious": ious, "gt_labels": gt.labels}.items():
        g[name] = values
    g.create_dataset("masks", data=masks, compression="gzip")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="results/<run> of a finished run")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/score_cues.json"))
    parser.add_argument("--dump", type=Path, help="an HDF5 file for every mask's cues (cue_ranker.py)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = validate_config(yaml.safe_load(args.config.read_text()), source=str(args.config))
    thresholds, nms_iou = config["evaluation"]["iou_thresholds"], config["inference"]["nms_iou"]
    accs = {name: APAccumulator(len(config["dataset"]["classes"]), thresholds) for name in RANKINGS}
    table: dict[str, list[np.ndarray]] = {}
    with h5py.File(args.dump, "w") if args.dump else contextlib.nullcontext() as dump:
        if dump is not None:
            dump.attrs.update(
                run=str(args.run),
                k=args.k,
                nms_iou=nms_iou,
                thresholds=thresholds,
                n_classes=len(config["dataset"]["classes"]),
            )
        for n, (found, labels, masks, gt) in enumerate(candidates(args.run, args.k, config)):
            ious = iou_matrix(masks, gt.masks, gt.void)
            best = best_ious(labels, gt.labels, ious)
            for name, value in {**found, "best_iou": best}.items():
                table.setdefault(name, []).append(value)
            for name, scores in rankings(found, best).items():
                add_ranked(accs[name], masks, labels, scores, gt.labels, ious, nms_iou)
            if dump is not None:
                dump_image(dump, n, found, labels, masks, gt, ious)
    columns = {name: np.concatenate(values) for name, values in table.items()}
    best = columns.pop("best_iou")
    rho = {name: round(float(spearmanr(values, best)[0]), 3) for name, values in columns.items()}
    maps = {name: ap_row(acc) for name, acc in accs.items()}
    print(f"{len(best)} CRF masks; Spearman with best IoU: {rho}\nmAP^r @{thresholds}: {maps}")
    write_record(args.out, args.run, k=args.k, n_masks=len(best), spearman_with_best_iou=rho, map_by_ranking=maps)


def ap_row(acc: APAccumulator) -> list[float]:
    """VOC mAP^r at each threshold of ``acc``, in percent."""
    return [round(100 * float(v), 2) for v in mean_ap(acc.average_precisions("voc"))]


if __name__ == "__main__":
    main()
