"""What a trained filler makes of other PRMs: the val PRMs of a finished run transformed, filled by the
run's IAM-S{k} filler as it is (no retraining), and evaluated (mAP^r @.25/.5/.75 and ABO with and without
CRF, extent errors; reads GT).

Transforms (``--modes``):
``stored``     the PRMs as stored (reproduces IAM-S{k})
``gt``         cut to their own GT instance (the PRM oracle row of Table 1)
``power:G``    raised to the power G (sharper: the halo off the part fades)
``crm:G``      times their class's CRM, upsampled and scaled to maximum 1, to the power G
``self:C``     cut where the filler's own IAM of the stored PRM reaches C x its maximum

    .venv/bin/python benchmarks/prm_input.py results/synthetic --modes stored gt power:2 crm:1 self:0.5
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import yaml
from shards import write_record  # benchmarks/ is on the path when this script runs

from iam.data.maps import upsample_cam
from iam.data.voc import read_image, read_split
from iam.evaluation.gt import instance_reader
from iam.evaluation.instance_metrics import evaluate_instances
from iam.evaluation.prm_oracle import cut_to_instances, write_prms
from iam.inference import InferenceParams, infer_split, live_iams
from iam.io.prm import StoredPRM
from iam.models.backbone import PeakBackbone
from iam.models.filling import FillingModule
from iam.pseudo_gt.matching import normalise_prms
from iam.training.filler import load_feature_backbone, load_filler

Transform = Callable[[str, StoredPRM], np.ndarray]


def normalised(prms: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Each map rescaled to sum 1 (:func:`normalise_prms`); where one sums to 0, the ``fallback`` map."""
    out = normalise_prms(prms).reshape(prms.shape)
    empty = ~out.reshape(len(out), -1).any(1)
    out[empty] = fallback[empty]
    return out


def crm_weighted(p: StoredPRM, gamma: float) -> np.ndarray:
    """The PRMs times their class's upsampled CRM (:func:`upsample_cam`) to the power ``gamma``."""
    prms = p.prm.astype(np.float32)
    weights = [upsample_cam(p.crm_of(int(c)), prms.shape[1:]) ** gamma for c in p.peaks[:, 0]]
    return normalised(prms * np.stack(weights), prms) if weights else prms


def self_cut(
    image: np.ndarray, p: StoredPRM, backbone: PeakBackbone, filler: FillingModule, size: int, cut: float
) -> np.ndarray:
    prms = p.prm.astype(np.float32)
    live, iams = live_iams(image, prms, backbone, filler, size, torch.device("cpu"))
    keep = np.ones_like(prms, dtype=bool)
    keep[live] = iams >= cut * iams.reshape(len(iams), -1).max(1)[:, None, None]
    return normalised(prms * keep, prms)


def transform_of(mode: str, voc: Path, read_gt, backbone, filler, size: int) -> Transform:
    name, _, arg = mode.partition(":")
    if name == "stored":
        return lambda i, p: p.prm.astype(np.float32)
    if name == "gt":
        return lambda i, p: cut_to_instances(p.peaks, p.prm, read_gt(i))
    if name == "power":
        return lambda i, p: normalised(p.prm.astype(np.float32).clip(0) ** float(arg), p.prm.astype(np.float32))
    if name == "crm":
        return lambda i, p: crm_weighted(p, float(arg))
    if name == "self":
        return lambda i, p: self_cut(read_image(voc, i), p, backbone, filler, size, float(arg))
    raise SystemExit(f"unknown mode {mode!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="results/<run> of a finished run")
    parser.add_argument("--modes", nargs="+", default=["stored", "gt", "power:2", "crm:1", "self:0.5"])
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/prm_input"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/prm_input.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = yaml.safe_load(args.config.read_text())
    voc, classes, device = args.run / "data" / "VOC2012", config["dataset"]["classes"], torch.device("cpu")
    ids, read_gt = read_split(voc, "val"), instance_reader("voc", str(voc), None, classes)
    filler_path = args.run / "filler" / config["proposals"]["source"] / f"k{args.k}" / "model.pt"
    filler, size = load_filler(filler_path, device)
    backbone = load_feature_backbone(filler_path, args.run / "backbone" / "model.pt", device)
    params = InferenceParams.from_config(config["inference"], config["crf"])
    rows = {}
    for mode in args.modes:
        work = args.work / mode.replace(":", "_")
        prms = work / "val_prm.h5"
        write_prms(
            args.run / "prm" / "val.h5",
            ids,
            transform_of(mode, voc, read_gt, backbone, filler, size),
            prms,
            "prm_input",
        )
        infer_split(
            backbone, filler, size, prms, voc, ids, work / "val.h5", work / "val.nocrf.h5", classes, params, device
        )
        for tag, name in (("crf", "val.h5"), ("nocrf", "val.nocrf.h5")):
            m = evaluate_instances(work / name, ids, read_gt, classes, [0.25, 0.5, 0.75])
            figures = [round(100 * m["map"][t], 2) for t in ("0.25", "0.5", "0.75")] + [round(100 * m["abo"], 1)]
            rows[f"{mode} {tag}"] = {"map_abo": figures, "extent": m["extent"]}
            print(f"{mode:10s} {tag:5s}", *figures)
    write_record(args.out, args.run, k=args.k, rows=rows)


if __name__ == "__main__":
    main()
