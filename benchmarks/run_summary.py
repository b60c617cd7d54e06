"""Summarise a finished run's own timings: per rule, jobs and summed seconds / CPU seconds from the
`benchmarks/<rule>/*.tsv` files Snakemake wrote, plus the wall times measured around it, the
workload settings that set its cost (backbone, filler epochs, image counts) and its headline results
(mAP^r, ABO of every evaluated method, the backbone's val classification mAP, the pretraining's
last epoch, the per-stage diagnostics), so that runs of different settings can be compared.

    .venv/bin/python benchmarks/run_summary.py results/synthetic --wall 1692 --noop 11.0 \
        --load "3.4-4.9 (other jobs running)" --out benchmarks/results/default-run.json
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import subprocess
from collections import defaultdict
from pathlib import Path

import torch
import yaml
from shards import cpu_model  # benchmarks/ is on the path when this script runs
from snakemake.utils import update_config

from iam.io.atomic import write_json
from iam.names import PRETRAINED_TRUNKS


def rule_seconds(results: Path) -> dict[str, dict[str, float]]:
    """Per rule: number of jobs, summed wall seconds (``s``) and CPU seconds (``cpu_time``)."""
    rules: dict[str, dict[str, float]] = defaultdict(lambda: {"jobs": 0, "s": 0.0, "cpu_s": 0.0})
    for tsv in sorted((results / "benchmarks").rglob("*.tsv")):
        row = list(csv.DictReader(tsv.open(), delimiter="\t"))[-1]
        entry = rules[tsv.relative_to(results / "benchmarks").parts[0]]
        entry["jobs"] += 1
        entry["s"] += float(row["s"])
        entry["cpu_s"] += float(row.get("cpu_time") or 0.0)
    return dict(sorted(rules.items(), key=lambda kv: -kv[1]["s"]))


def headline(results: Path) -> dict[str, dict[str, float]]:
    """mAP^r (in %) at each IoU threshold and ABO of every method in ``metrics/*.json``."""
    out = {}
    for path in sorted((results / "metrics").glob("*.json")):
        metrics = json.loads(path.read_text())
        if isinstance(metrics, dict) and "map" in metrics:
            out[path.stem] = {
                **{f"map@{t}": round(100 * v, 2) for t, v in metrics["map"].items()},
                "abo": round(metrics["abo"], 3),
            }
    return out


def backbone_val_map(results: Path) -> float | None:
    """Classification mAP on val of the backbone after its last epoch (None when its metrics are absent)."""
    row = last_row(results / "backbone" / "metrics.json")
    return row["val_map"] if row else None


def last_row(path: Path) -> dict | None:
    """The last epoch's row of a training metrics file (None when absent)."""
    return {k: round(v, 4) for k, v in json.loads(path.read_text())[-1].items()} if path.exists() else None


def diagnostics(results: Path) -> dict[str, dict[str, float]]:
    """The scalar figures of the per-stage diagnostics (peaks and PRMs, pseudo GT, filling weights)."""
    out = {}
    for pattern in ("prm_quality_*.json", "pseudo_gt_*.json", "filler_*.json"):
        for path in sorted((results / "metrics").glob(pattern)):
            metrics = json.loads(path.read_text())
            out[path.stem] = {k: round(v, 4) for k, v in metrics.items() if isinstance(v, int | float)}
    return out


def run_config(paths: list[Path]) -> dict:
    """The config a run saw: its config files merged as Snakemake merges them (schema defaults left out,
    so that records stay comparable with older ones)."""
    config: dict = {}
    for path in paths:
        update_config(config, yaml.safe_load(path.read_text()))
    return config


def pretrained_trunk(config: dict) -> str | None:
    """The config section and results folder of the rule that pretrained the run's trunk
    (``pretrain`` or ``selfsup``), None when no rule did."""
    weights = config["backbone"]["weights"]
    return weights if weights in PRETRAINED_TRUNKS else None


def workload(config: dict) -> dict:
    """The config values that set the run's cost and its filler (older records hold three filler keys)."""
    return {
        "seed": config["seed"],
        "synthetic": config["synthetic"],
        "backbone": config["backbone"],
        "pretrain": config.get(trunk) if (trunk := pretrained_trunk(config)) else None,
        "prm": config["prm"],
        "filler": config["filler"],
        "pseudo_gt_k": config["pseudo_gt"]["k"],
        "shards": config["shards"]["count"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--wall", type=float, help="measured wall seconds of the run from an empty results dir")
    parser.add_argument("--noop", type=float, help="measured wall seconds of a rerun with nothing to do")
    parser.add_argument("--load", help="load average observed during the run")
    parser.add_argument("--commit", help="commit the run was made at (default: this checkout's HEAD)")
    parser.add_argument(
        "--config", type=Path, nargs="+", default=[Path("config.yaml")], help="the config files the run used, in order"
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rules, config = rule_seconds(args.results), run_config(args.config)
    trunk = pretrained_trunk(config)
    commit = (
        args.commit
        or subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parent
        ).stdout.strip()
    )
    report = {
        "date": datetime.date.today().isoformat(),
        "recorded": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores",
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch": torch.__version__,
        "commit": commit,
        "results": str(args.results),
        "wall_s": args.wall,
        "noop_rerun_s": args.noop,
        "load": args.load,
        "jobs": sum(r["jobs"] for r in rules.values()),
        "sum_job_s": sum(r["s"] for r in rules.values()),
        "sum_job_cpu_s": sum(r["cpu_s"] for r in rules.values()),
        "workload": workload(config),
        "headline": headline(args.results),
        "backbone_val_map": backbone_val_map(args.results),
        "pretrain_last_epoch": last_row(args.results / trunk / "metrics.json") if trunk else None,
        "diagnostics": diagnostics(args.results),
        "rules": rules,
    }
    write_json(args.out, report)
    print(report)


if __name__ == "__main__":
    main()
