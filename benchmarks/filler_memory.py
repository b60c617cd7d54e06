"""Filler training memory: samples held in memory vs streamed from the artifacts, against split size.

Uses a finished run's artifacts (``make run`` first): the backbone, the training split's PRMs and a
pseudo GT. For each number of images and each mode, a fresh process trains one filler epoch on the
first n images of the split and reports its peak RSS, the estimate ``memory_mb`` is compared with,
and the epoch's images/s. Held in memory, the peak RSS grows with n; streamed, it should not.
Writes benchmarks/results/filler_memory-cpu.json with the machine and date.

Usage: OMP_NUM_THREADS=1 python benchmarks/filler_memory.py [--configfile config.yaml] [--k 5] [--images 200 400 800]
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml

from iam.config import validate_config
from iam.data.voc import read_split
from iam.io.atomic import write_json
from iam.models.backbone import load_backbone
from iam.training.filler import FillerConfig, feature_bytes, train, training_samples
from iam.training.samples import SampleSource, index_samples, sample_megabytes

RESULTS = Path(__file__).resolve().parent / "results"


def child(args: argparse.Namespace) -> None:
    """One epoch in this process; prints a JSON line with the figures."""
    config = validate_config(yaml.safe_load(Path(args.configfile).read_text()))
    out = Path("results") / config["run"]
    voc_root = out / "data" / "VOC2012"  # the synthetic benchmark's tree
    device = torch.device("cpu")
    backbone = load_backbone(out / "backbone" / "model.pt", device)
    size = config["backbone"]["input_size"]
    source = config["proposals"]["source"]
    where = SampleSource(
        voc_root,
        out / "prm" / f"{config['dataset']['train_split']}.h5",
        out / "pseudo_gt" / source / f"k{args.k}.h5",
        size,
    )
    ids = read_split(voc_root, config["dataset"]["train_split"])[: args.n]
    cfg = FillerConfig(
        **{**config["filler"], "epochs": 1, "memory_mb": 0 if args.mode == "streamed" else 10**9}, seed=config["seed"]
    )
    per_image = feature_bytes(backbone, size, device)
    estimate = sample_megabytes(index_samples(where, ids, args.k, source), size, per_image)
    tic = time.perf_counter()
    samples = training_samples(where, ids, args.k, source, cfg, per_image)
    with tempfile.TemporaryDirectory() as tmp:
        train(backbone, samples, cfg, device, tmp)
    seconds = time.perf_counter() - tic
    print(
        json.dumps(
            {
                "mode": args.mode,
                "images": len(samples),
                "estimate_mb": round(estimate, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "seconds": round(seconds, 2),
                "images_per_s": round(len(samples) / seconds, 2),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configfile", default="config.yaml")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--images", type=int, nargs="+", default=[200, 400, 800])
    parser.add_argument("--child", choices=["memory", "streamed"], dest="mode")
    parser.add_argument("--n", type=int)
    args = parser.parse_args()
    if args.mode:
        return child(args)
    rows = []
    for n in args.images:
        for mode in ("memory", "streamed"):
            cmd = [
                sys.executable,
                __file__,
                "--configfile",
                args.configfile,
                "--k",
                str(args.k),
                "--child",
                mode,
                "--n",
                str(n),
            ]
            row = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
            print(row)
            rows.append(row)
    write_json(
        RESULTS / "filler_memory-cpu.json",
        {
            "benchmark": "filler training memory, one epoch per process",
            "date": datetime.date.today().isoformat(),
            "machine": f"{platform.node()} {platform.processor() or platform.machine()}, torch {torch.__version__}",
            "threads": torch.get_num_threads(),
            "configfile": args.configfile,
            "k": args.k,
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
