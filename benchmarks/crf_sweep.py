"""ConvCRF and mask settings against IAM quality: on a finished run, one filler's val IAMs are computed
once, then refined with each setting of a small grid (one key changed from the config at a time, and
the grid's pairs), cut, scored and NMS-ed as ``infer_iam`` does (the PRMs compete and the scores take
the config's factors: kept share, edge strength, stability, the CRF's agreement), and evaluated (mAP^r, ABO) on two
halves of val: settings are chosen on the first half and checked on the second, so a choice does not
rest on the images it is reported on. A grid key is a key of the ``crf`` section or of ``inference``
(``mask_threshold``, ``threshold_mode``, ``nms_iou``); ``--grid`` replaces the grid (JSON, e.g.
'{"filter_size": [7, 11, 15]}' or '{"nms_iou": [0.3, 0.7], "mask_threshold": [0.3, 0.7]}').

    .venv/bin/python benchmarks/crf_sweep.py results/synthetic --k 5 --out benchmarks/results/crf_sweep.json
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from shards import write_record  # benchmarks/ is on the path when this script runs

from iam.crf.convcrf import CRFParams
from iam.data.voc import read_image, read_split
from iam.evaluation.abo import average_best_overlap
from iam.evaluation.gt import instance_reader
from iam.evaluation.voc_ap import APAccumulator, mean_ap
from iam.inference import InferenceParams, instances, masks_of, score_factors
from iam.io.h5 import open_hdf5
from iam.io.instances import InstanceSet
from iam.io.prm import read_prm
from iam.masks import iou_matrix
from iam.proposal_snap import SnapParams, competing_iams
from iam.training.filler import load_feature_backbone, load_filler

GRID = {
    "iterations": (2, 5, 10),
    "bil_compat": (5.0, 10.0, 20.0),
    "bil_colour": (8.0, 13.0, 20.0),
    "message_weight": (0.1, 0.2, 0.5),
    "filter_size": (5, 7, 11),
}


CRF_KEYS = {f.name for f in dataclasses.fields(CRFParams)}


def value_of(params: InferenceParams, key: str) -> Any:
    """A grid key's value in ``params`` (a CRF key reads its ``crf``, which must be set)."""
    return getattr(params.crf, key) if key in CRF_KEYS else getattr(params, key)


def changed(params: InferenceParams, values: dict[str, Any]) -> InferenceParams:
    """``params`` with the grid keys' ``values`` (CRF keys go to its ``crf``)."""
    crf = {k: v for k, v in values.items() if k in CRF_KEYS}
    rest = {k: v for k, v in values.items() if k not in CRF_KEYS}
    return dataclasses.replace(params, crf=dataclasses.replace(params.crf, **crf) if crf else params.crf, **rest)


def label(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in values.items())


def settings(base: InferenceParams, grid: dict[str, tuple]) -> dict[str, InferenceParams]:
    """No CRF, the config's, each grid value of one key, and each pair of two keys' non-default values."""
    out = {"no CRF": dataclasses.replace(base, crf=None), "config": base}
    for key, values in grid.items():
        for value in values:
            if value != value_of(base, key):
                out[label({key: value})] = changed(base, {key: value})
    for (k1, v1s), (k2, v2s) in itertools.combinations(grid.items(), 2):
        for v1, v2 in itertools.product(v1s, v2s):
            if v1 != value_of(base, k1) and v2 != value_of(base, k2):
                out[label({k1: v1, k2: v2})] = changed(base, {k1: v1, k2: v2})
    return out


def found(
    image: np.ndarray,
    iams: np.ndarray,
    labels: np.ndarray,
    peak_scores: np.ndarray,
    kept: np.ndarray,
    params: InferenceParams,
) -> InstanceSet:
    """One image's instances under ``params``, as ``infer_iam`` writes its CRF file (no-CRF file without a CRF)."""
    if not len(iams):
        return InstanceSet.empty(*image.shape[:2])
    cuts = masks_of(image, iams, params, torch.device("cpu"))
    _, factor = score_factors(iams, cuts, kept, params)
    return instances(cuts.refined, iams, labels, peak_scores, params, factor, cuts.edges)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="results/<run> of a finished run")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--source", default="generated", help="the filler's source (gtmask: the ceiling, k 1)")
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--grid", type=json.loads, default=GRID, help="JSON {key: [values]} instead of GRID")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/crf_sweep.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = yaml.safe_load(args.config.read_text())
    classes, thresholds = config["dataset"]["classes"], config["evaluation"]["iou_thresholds"]
    voc, device = args.run / "data" / "VOC2012", torch.device("cpu")
    read_gt = instance_reader("voc", str(voc), None, classes)
    filler_path = args.run / "filler" / args.source / f"k{args.k}" / "model.pt"
    filler, size = load_filler(filler_path, device)
    backbone = load_feature_backbone(filler_path, args.run / "backbone" / "model.pt", device)
    grid = settings(InferenceParams.from_config(config["inference"], {**config["crf"], "enabled": True}), args.grid)
    competition = dataclasses.replace(SnapParams.from_config(config["inference"]), kept_score=True)
    ids = read_split(voc, "val")
    halves = {"first half": set(ids[: len(ids) // 2]), "second half": set(ids[len(ids) // 2 :])}
    accs = {(n, h): (APAccumulator(len(classes), thresholds), []) for n in grid for h in halves}
    with open_hdf5(args.run / "prm" / "val.h5") as prm_f:
        for image_id in ids:
            p, gt, image = read_prm(prm_f, image_id), read_gt(image_id), read_image(voc, image_id)
            prms = p.prm.astype(np.float32)
            live, iams, kept = competing_iams(image, p.peaks, prms, backbone, filler, size, competition, device)
            labels, peak_scores = p.peaks[live, 0].astype(np.int64), p.peak_scores[live].astype(np.float64)
            half = next(h for h, members in halves.items() if image_id in members)
            for name, params in grid.items():
                inst = found(image, iams, labels, peak_scores, np.ones(len(iams)) if kept is None else kept, params)
                ious = iou_matrix(inst.masks.astype(bool), gt.masks, gt.void)
                ap, per_image = accs[(name, half)]
                ap.add(inst.labels, inst.scores, gt.labels, ious)
                per_image.append(ious)
    rows = {
        f"{name} / {half}": [round(100 * float(v), 2) for v in mean_ap(ap.average_precisions("voc"))]
        + [round(100 * average_best_overlap(per_image), 1)]
        for (name, half), (ap, per_image) in accs.items()
    }
    for name, values in rows.items():
        print(f"{name:60s}", *values)
    write_record(args.out, args.run, k=args.k, source=args.source, grid=args.grid, map_percent_abo=rows)


if __name__ == "__main__":
    main()
