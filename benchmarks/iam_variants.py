"""GT-free variants of IAM inference on a finished run's filler, each evaluated on val as the DAG's IAM
rows are (the shipped inference of the config, ConvCRF and without; mAP^r @.25/.5/.75 and ABO).

Variants (``--variants``); each changes only how a peak's IAM is computed from its competed PRM:
``shipped``       the DAG's inference (reproduces the IAM-S{k} rows)
``flip``          the IAMs of the image and of its mirror image (PRMs mirrored) averaged: test-time flip
``snapbox:M``     two passes: each first IAM snapped to the proposal it fits best (as ``iam_s{k}_snap``), its
                  PRM cut to that proposal's box grown by M x its sides, and filled again (reads proposals)
``border:L``      the filler's IAM of a PRM on the image's 4-px border taken as background: each PRM is cut
                  where that map is below L x its maximum before filling

Each variant runs under the config's ``inference`` section and under each ``--overrides`` JSON object
merged into it (rows ``"{variant} {overrides}"``), e.g. the edge-aligned cut against the relative one:

    .venv/bin/python benchmarks/iam_variants.py results/synthetic --k 5 --variants shipped flip snapbox:0 \\
        --out benchmarks/results/iam_variants.json
    .venv/bin/python benchmarks/iam_variants.py results/synthetic --variants shipped \\
        --overrides '{"threshold_mode": "relative"}' '{"edge_area_power": 0}' --out ...
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import numpy as np
import torch
import yaml
from prm_input import box_of  # benchmarks/ is on the path when this script runs
from shards import write_record

import iam.inference
from iam.config import validate_config
from iam.data.voc import read_image, read_split
from iam.evaluation.gt import instance_reader
from iam.evaluation.instance_metrics import evaluate_instances
from iam.inference import InferenceParams, infer_split
from iam.io.h5 import open_hdf5
from iam.models.backbone import PeakBackbone
from iam.models.filling import FillingModule
from iam.proposal_snap import best_fits
from iam.proposals.store import read_proposals
from iam.training.filler import load_feature_backbone, load_filler

Predict = Callable[[np.ndarray, np.ndarray, PeakBackbone, FillingModule, int, torch.device], np.ndarray]
SHIPPED: Predict = iam.inference.predict_iams


def flipped(image, prms, backbone, filler, size, device) -> np.ndarray:
    """The IAMs of the image and of its mirror image, averaged."""
    mirror = SHIPPED(
        np.ascontiguousarray(image[:, ::-1]), np.ascontiguousarray(prms[:, :, ::-1]), backbone, filler, size, device
    )
    return (SHIPPED(image, prms, backbone, filler, size, device) + mirror[:, :, ::-1]) / 2


def cut_or_keep(prms: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Each PRM times its (n, H, W) or (H, W) ``keep`` mask, unless that empties it."""
    cut = prms * keep
    empty = cut.reshape(len(cut), -1).max(1) <= 0
    cut[empty] = prms[empty]
    return cut


def snapbox(proposals_of: Callable[[], np.ndarray], margin: float) -> Predict:
    def predict(image, prms, backbone, filler, size, device) -> np.ndarray:
        first, proposals = SHIPPED(image, prms, backbone, filler, size, device), proposals_of()
        if not len(first) or not len(proposals):
            return first
        best, _ = best_fits(first, proposals, 0.5)
        boxes = np.stack([box_of(proposals[b].astype(bool), margin) for b in best])
        return SHIPPED(image, cut_or_keep(prms, boxes), backbone, filler, size, device)

    return predict


def border(level: float) -> Predict:
    def predict(image, prms, backbone, filler, size, device) -> np.ndarray:
        seed = np.ones((1, *prms.shape[1:]), np.float32)
        seed[:, 4:-4, 4:-4] = 0
        background = SHIPPED(image, seed, backbone, filler, size, device)[0]
        return SHIPPED(image, cut_or_keep(prms, background < level * background.max()), backbone, filler, size, device)

    return predict


def evaluate(run: Path, k: int, variant: str, config: dict, work: Path) -> dict[str, list[float]]:
    """The variant's val rows, with and without CRF."""
    voc, classes, device = run / "data" / "VOC2012", config["dataset"]["classes"], torch.device("cpu")
    filler_path = run / "filler" / "generated" / f"k{k}" / "model.pt"
    filler, size = load_filler(filler_path, device)
    backbone = load_feature_backbone(filler_path, run / "backbone" / "model.pt", device)
    ids, current = read_split(voc, "val"), {}
    name, _, arg = variant.partition(":")
    with open_hdf5(run / "proposals" / config["proposals"]["source"] / "val.h5") as prop_f:
        predict = {
            "shipped": lambda: SHIPPED,
            "flip": lambda: flipped,
            "snapbox": lambda: snapbox(lambda: read_proposals(prop_f, current["id"])[0], float(arg)),
            "border": lambda: border(float(arg)),
        }[name]()

        def tracked(root, image_id: str) -> np.ndarray:
            current["id"] = image_id
            return read_image(root, image_id)

        params = InferenceParams.from_config(config["inference"], config["crf"])
        with (
            mock.patch.object(iam.inference, "predict_iams", predict),
            mock.patch.object(iam.inference, "read_image", tracked),
        ):
            infer_split(
                backbone,
                filler,
                size,
                run / "prm" / "val.h5",
                voc,
                ids,
                work / "crf.h5",
                work / "raw.h5",
                classes,
                params,
                device,
            )
    read_gt = instance_reader("voc", str(voc), None, classes)
    rows = {}
    for tag, name in (("crf", "crf.h5"), ("nocrf", "raw.h5")):
        m = evaluate_instances(work / name, ids, read_gt, classes, config["evaluation"]["iou_thresholds"])
        maps = [m["map"][str(t)] for t in config["evaluation"]["iou_thresholds"]]
        rows[tag] = [round(100 * v, 2) for v in maps] + [round(100 * m["abo"], 1)]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="results/<run> of a finished run")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--variants", nargs="+", default=["shipped", "flip"])
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--overrides", nargs="*", type=json.loads, default=[], help="JSON objects of inference keys")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/iam_variants.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = validate_config(yaml.safe_load(args.config.read_text()), source=str(args.config))
    rows = {}
    for variant, overrides in itertools.product(args.variants, [{}, *args.overrides]):
        name = f"{variant} {json.dumps(overrides)}" if overrides else variant
        changed = {**config, "inference": {**config["inference"], **overrides}}
        with tempfile.TemporaryDirectory() as work:
            rows[name] = evaluate(args.run, args.k, variant, changed, Path(work))
        print(f"{name:14s} crf {rows[name]['crf']}  no crf {rows[name]['nocrf']}", flush=True)
    write_record(args.out, args.run, k=args.k, columns="mAP^r @.25/.5/.75 (%), ABO x100", variants=rows)


if __name__ == "__main__":
    main()
