"""Peaks and PRMs of one trained backbone extracted at several input sizes (reads GT; a diagnostic of a
finished run, what `prm.input_size` rests on).

The backbone is fully convolutional, so the same weights run at any input size. Larger than the size
it was trained at, its CRM is finer (11x11 at 176 px instead of 8x8 at 128) and a small part covers
more cells; much larger, the objects no longer look like the ones it learned. For each size this
extracts the val split as `extract_prm` does (the config's peak rule and precision) and scores it
with the run's `prm_quality` diagnostic.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/prm_scale.py results/synthetic --sizes 128 160 176 192 224
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
import yaml
from shards import write_record  # benchmarks/ is on the path when this script runs

from iam.config import validate_config
from iam.data.voc import read_split
from iam.device import resolve_dtype
from iam.evaluation.gt import instance_reader
from iam.evaluation.prm_quality import prm_quality
from iam.models.backbone import load_backbone
from iam.prm.extract import PeakRule, extract_split

KEYS = ("n_peaks", "peak_precision", "instance_recall", "prm_max_precision", "prm_max_recall")
KEYS += ("on_object", "on_object_own_mass", "mass_part", "mass_body", "mass_outside")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="results/<run> of a finished run")
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 160, 176, 192, 224])
    parser.add_argument("--split", default="val")
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/prm_scale.json"))
    args = parser.parse_args()
    config = validate_config(yaml.safe_load(args.config.read_text()))
    classes, prm = list(config["dataset"]["classes"]), config["prm"]
    voc = args.run / "data" / "VOC2012"
    device = torch.device("cpu")
    backbone = load_backbone(args.run / "backbone" / "model.pt", device, num_classes=len(classes))
    dtype = resolve_dtype(prm["dtype"], device, "prm.dtype")
    rule = PeakRule.from_config(prm, use_labels=False)
    ids, read_gt = read_split(voc, args.split), instance_reader("voc", str(voc), None, classes)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            path, tic = Path(tmp) / f"{size}.h5", time.perf_counter()
            extract_split(backbone, voc, ids, classes, size, rule, path, dtype=dtype)
            seconds = time.perf_counter() - tic
            quality = prm_quality(path, voc, read_gt)
            rows[size] = {"s_per_image": round(seconds / len(ids), 4), **{k: _round(quality[k]) for k in KEYS}}
            print(size, rows[size], flush=True)
    trained = config["backbone"]["input_size"]
    write_record(args.out, args.run, split=args.split, trained_at=trained, dtype=str(dtype), sizes=rows)


def _round(value: float | int | None) -> float | int | None:
    return round(value, 4) if isinstance(value, float) else value


if __name__ == "__main__":
    main()
