"""PRM extraction memory against split size: peak RSS of a process extracting the first n images.

Uses a finished run's backbone and training split (``make run`` first). For each n a fresh process
runs :func:`iam.prm.extract.extract_split` (what the ``extract_prm`` rule runs) on the first n
training images into a temporary artifact and reports its peak RSS, seconds, images/s and the
artifact's size. Extraction streams one image at a time to HDF5, so the peak RSS should not grow
with n. Writes benchmarks/results/prm_memory-cpu.json with the machine and date.

Usage: OMP_NUM_THREADS=1 python benchmarks/prm_memory.py [--configfile config.yaml] [--images 100 200 400 800]
"""

from __future__ import annotations

import argparse
import datetime
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml
from shards import cpu_model  # benchmarks/ is on the path when this script runs

from iam.config import validate_config
from iam.data.voc import read_split
from iam.device import resolve_dtype
from iam.io.atomic import write_json
from iam.models.backbone import load_backbone
from iam.prm.extract import PeakRule, extract_split
from iam.workflow import prepare_process

RESULTS = Path(__file__).resolve().parent / "results"


def child(configfile: str, n: int) -> dict:
    """Extract the first ``n`` training images' PRMs in this process; its figures."""
    prepare_process(torch.get_num_threads())  # as the rule does
    config = validate_config(yaml.safe_load(Path(configfile).read_text()))
    out, prm = Path("results") / config["run"], config["prm"]
    voc_root = out / "data" / "VOC2012"
    ids = read_split(voc_root, config["dataset"]["train_split"])[:n]
    backbone = load_backbone(out / "backbone" / "model.pt", torch.device("cpu"))
    peak_rule = PeakRule.from_config(prm, use_labels=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "prm.h5"
        tic = time.perf_counter()
        extract_split(
            backbone,
            voc_root,
            ids,
            config["dataset"]["classes"],
            config["backbone"]["input_size"],
            peak_rule,
            path,
            dtype=resolve_dtype(prm["dtype"], torch.device("cpu"), "prm.dtype"),
        )
        seconds = time.perf_counter() - tic
        size_mb = path.stat().st_size / 2**20
    return {
        "images": len(ids),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "seconds": round(seconds, 2),
        "images_per_s": round(len(ids) / seconds, 2),
        "artifact_mb": round(size_mb, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configfile", default="config.yaml")
    parser.add_argument("--images", type=int, nargs="+", default=[100, 200, 400, 800])
    parser.add_argument("--child", type=int, help="(internal) extract this many images and print the figures")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.configfile, args.child)))
        return
    rows = []
    for n in args.images:
        cmd = [sys.executable, __file__, "--configfile", args.configfile, "--child", str(n)]
        rows.append(json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()[-1]))
        print(rows[-1], flush=True)
    write_json(
        RESULTS / "prm_memory-cpu.json",
        {
            "benchmark": "PRM extraction of the first n training images, one process each",
            "date": datetime.date.today().isoformat(),
            "device": cpu_model(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "configfile": args.configfile,
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
