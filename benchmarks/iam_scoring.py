"""Which GT-free instance score and mask cut serve IAM best? On a finished run: the filler's IAMs of
the val split are recomputed (with and without ConvCRF), cut at several fractions of each map's
maximum (and, in the ``snap`` rows, replaced by the proposal each cut fits best), scored by several
GT-free scores, NMS-ed and evaluated (mAP^r); the oracle score (true IoU, reads GT) bounds what
ranking alone can give. The PRMs compete first as the config's ``inference`` section says. The cuts
are those of ``threshold_mode: relative`` and ``stored`` is the score without ``edge_score`` (its own
row ``stored x edge``); ``iam_variants.py --overrides`` measures the edge-aligned cut.

    .venv/bin/python benchmarks/iam_scoring.py results/synthetic --k 5 \\
        --out benchmarks/results/iam_scoring.json
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import cv2
import numpy as np
import torch
import yaml
from shards import write_record  # benchmarks/ is on the path when this script runs

from iam.contour_edges import contour_mean, edge_strength
from iam.crf.convcrf import CRFParams
from iam.data.maps import Competition, scale_to_max
from iam.data.voc import read_image, read_split
from iam.evaluation.gt import instance_reader
from iam.evaluation.voc_ap import APAccumulator, mean_ap
from iam.inference import crf_refine, predict_iams
from iam.io.h5 import open_hdf5
from iam.io.prm import read_prm
from iam.masks import iou_matrix, mask_nms
from iam.proposals.store import read_proposals
from iam.training.filler import load_feature_backbone, load_filler

CUTS = (0.5, 0.7, 0.9)
SCORES = (
    "stored",
    "stored, no kept share",
    "peak",
    "peak x mean",
    "class",
    "class x cover",
    "peak x cover",
    "cover",
    "edge",
    "stored x edge",
    "proposal fit",
    "stored x proposal fit",
    "stability",
    "stored x stability",
    "contrast",
    "stored x contrast",
    "crf agreement",
    "stored x crf agreement",
    "oracle",
)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def cut(probs: np.ndarray, fraction: float) -> np.ndarray:
    """(n, H, W) masks: each map cut at ``fraction`` of its maximum."""
    return probs >= fraction * probs.reshape(len(probs), -1).max(1)[:, None, None]


def paired_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n,) IoU of a[i] with b[i]."""
    inter, union = (a & b).sum((1, 2)), (a | b).sum((1, 2))
    return inter / np.maximum(union, 1)


def ring_contrast(probs: np.ndarray, masks: np.ndarray, width: int = 5) -> np.ndarray:
    """(n,) mean of each max-scaled map inside its mask minus in a ``width``-px ring around it."""
    scaled = probs / np.maximum(probs.reshape(len(probs), -1).max(1), 1e-9)[:, None, None]
    kernel = np.ones((2 * width + 1, 2 * width + 1), np.uint8)
    out = np.zeros(len(masks))
    for i, m in enumerate(masks):
        ring = cv2.dilate(m.astype(np.uint8), kernel).astype(bool) & ~m
        inside = scaled[i][m].mean() if m.any() else 0.0
        out[i] = inside - (scaled[i][ring].mean() if ring.any() else 0.0)
    return out


def score_table(
    iams: np.ndarray,
    masks: np.ndarray,
    prms: np.ndarray,
    peak_scores: np.ndarray,
    class_scores: np.ndarray,
    edges: np.ndarray,
    fit: np.ndarray,
    probs: np.ndarray,
    other: np.ndarray,
    kept: np.ndarray,
) -> dict[str, np.ndarray]:
    """GT-free scores of n instances (one per IAM); ``fit``, the best IoU of each cut IAM with any of
    the image's proposals (it makes inference need proposals, as retrieval does); ``probs`` the maps the
    masks were cut from; ``other``, the masks cut the same way from the other maps (CRF / no CRF);
    ``kept``, the shipped score's factor per peak (the PRM mass share its competition kept, or 1).
    ``stability``: IoU of the cuts at 0.4 and 0.6 of the map's maximum (SAM's stability score)."""
    area = np.maximum(masks.sum((1, 2)), 1)
    mean_iam = (iams * masks).sum((1, 2)) / area
    prm = prms / np.maximum(prms.sum((1, 2)), 1e-9)[:, None, None]
    cover = (prm * masks).sum((1, 2))
    edge = contour_mean(masks, edges)
    stored = sigmoid(peak_scores) * mean_iam * kept
    stability = paired_iou(cut(probs, 0.6), cut(probs, 0.4))
    contrast = ring_contrast(probs, masks)
    agreement = paired_iou(masks, other)
    return {
        "stability": stability,
        "stored x stability": stored * stability,
        "contrast": contrast,
        "stored x contrast": stored * np.clip(contrast, 0, None),
        "crf agreement": agreement,
        "stored x crf agreement": stored * agreement,
        "edge": edge,
        "stored x edge": stored * edge,
        "proposal fit": fit,
        "stored x proposal fit": stored * fit,
        "stored": stored,
        "stored, no kept share": sigmoid(peak_scores) * mean_iam,
        "peak": peak_scores,
        "peak x mean": peak_scores * mean_iam,
        "class": class_scores,
        "class x cover": sigmoid(class_scores) * cover,
        "peak x cover": peak_scores * cover,
        "cover": cover,
    }


def evaluate(run: Path, k: int, config: dict, images: int | None) -> dict[str, list[float]]:
    """mAP^r (%) per (cut, score) over the val split."""
    classes, thresholds = config["dataset"]["classes"], config["evaluation"]["iou_thresholds"]
    voc, device = run / "data" / "VOC2012", torch.device("cpu")
    read_gt = instance_reader("voc", str(voc), None, classes)
    filler_path = run / "filler" / "generated" / f"k{k}" / "model.pt"
    filler, input_size = load_filler(filler_path, device)
    backbone = load_feature_backbone(filler_path, run / "backbone" / "model.pt", device)
    kinds = [f"{snap}{m}" for snap in ("", "snap ") for m in ("nocrf", "crf")]
    names = [f"{m} cut {c:g} / {s}" for m in kinds for c in CUTS for s in SCORES]
    accs = {name: APAccumulator(len(classes), thresholds) for name in names}
    crf = CRFParams(**{key: v for key, v in config["crf"].items() if key != "enabled"})
    inference = {"kept_score": False, **config["inference"]}
    competition = Competition.from_config(inference)
    with open_hdf5(run / "prm" / "val.h5") as prm_f, open_hdf5(run / "proposals/generated/val.h5") as prop_f:
        for image_id in read_split(voc, "val")[:images]:
            p, gt = read_prm(prm_f, image_id), read_gt(image_id)
            prms = p.prm.astype(np.float32)
            live = prms.reshape(len(prms), -1).max(1) > 0 if len(prms) else np.zeros(0, bool)
            if not live.any():
                for acc in accs.values():
                    acc.add(np.zeros(0, np.int64), np.zeros(0), gt.labels, np.zeros((0, len(gt.labels))))
                continue
            prms, peaks, peak_scores = prms[live], p.peaks[live], p.peak_scores[live].astype(np.float64)
            labels = peaks[:, 0].astype(np.int64)
            prms, kept = competition.kept(prms, labels)
            kept = kept if inference["kept_score"] else np.ones(len(prms))
            image = read_image(voc, image_id)
            iams = predict_iams(image, prms, backbone, filler, input_size, device)
            edges, proposals = edge_strength(image), read_proposals(prop_f, image_id)[0]
            maps = {"nocrf": iams, "crf": crf_refine(image, scale_to_max(iams), crf, device)}
            for (kind, probs), level, snap in itertools.product(maps.items(), CUTS, (False, True)):
                masks = cut(probs, level)
                other = cut(maps["crf" if kind == "nocrf" else "nocrf"], level)
                fits = iou_matrix(masks, proposals) if len(proposals) else np.zeros((len(masks), 1))
                if snap and len(proposals):  # each cut IAM replaced by the proposal it fits best
                    masks = proposals[fits.argmax(1)]
                ious = iou_matrix(masks, gt.masks, gt.void)
                same = ious * (labels[:, None] == gt.labels[None, :])
                classes_ = p.class_scores[labels].astype(np.float64)
                table = score_table(iams, masks, prms, peak_scores, classes_, edges, fits.max(1), probs, other, kept)
                table["oracle"] = same.max(1) if same.size else np.zeros(len(masks))
                for name, score in table.items():
                    keep = mask_nms(masks, labels, score.astype(np.float32), inference["nms_iou"])
                    name = f"{'snap ' if snap else ''}{kind} cut {level:g} / {name}"
                    accs[name].add(labels[keep], score[keep], gt.labels, ious[keep])
    return {n: [round(100 * float(v), 2) for v in mean_ap(a.average_precisions("voc"))] for n, a in accs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="results/<run> of a finished run")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--images", type=int, default=None, help="the first N val images only")
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/iam_scoring.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = evaluate(args.run, args.k, yaml.safe_load(args.config.read_text()), args.images)
    for name, values in rows.items():
        print(f"{name:26s}", *values)
    write_record(args.out, args.run, k=args.k, map_percent=rows)


if __name__ == "__main__":
    main()
