"""How far Table 1 moves when only the training seed (or the device) changes: the headline metrics of
several recorded runs (``run_summary.py`` records) of one workload on one benchmark, their mean,
sample standard deviation and range per method, and the paired differences the issues' targets are
stated in (IAM-S5 minus PRM retrieval at @0.5 and in ABO, IAM-S5 minus IAM-S1, CRF minus no CRF),
each computed within a run and then summarised.

A run of another training seed on the same benchmark (``synthetic.seed`` stays fixed):

    sed -e 's/^seed: 0/seed: 1/' -e 's/^run: synthetic$/run: synthetic-seed1/' config.yaml > /tmp/seed1.yaml
    .venv/bin/snakemake --cores all --workflow-profile profiles/default --configfile /tmp/seed1.yaml
    .venv/bin/python benchmarks/run_summary.py results/synthetic-seed1 --config /tmp/seed1.yaml \\
        --out benchmarks/results/default-run-<machine>-seed1-<commit>.json
    .venv/bin/python benchmarks/seed_spread.py benchmarks/results/default-run-*-<commit>.json \\
        --out benchmarks/results/seed_spread-<commit>.json
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from shards import write_record  # benchmarks/ is on the path when this script runs

METRICS = ("map@0.25", "map@0.5", "map@0.75", "abo")
# (name, minuend method, subtrahend method, metric); ABO differences in points (x100) like mAP^r's.
PAIRS = (
    ("IAM-S5 - PRM retrieval @0.5", "iam_s5", "prm_retrieval", "map@0.5"),
    ("IAM-S5 - PRM retrieval ABO", "iam_s5", "prm_retrieval", "abo"),
    ("IAM-S5 - IAM-S1 @0.5", "iam_s5", "iam_s1", "map@0.5"),
    ("IAM-S5 CRF - no CRF @0.5", "iam_s5", "iam_s5_nocrf", "map@0.5"),
    ("IAM-S5 snapped - PRM retrieval @0.5", "iam_s5_snap", "prm_retrieval", "map@0.5"),
)
DIAGNOSTICS = (
    ("prm_quality_val", "peak_precision"),
    ("prm_quality_val", "instance_recall"),
    ("prm_quality_train", "on_object_own_mass"),
    ("pseudo_gt_generated_k5", "top1_iou"),
    ("pseudo_gt_generated_k5", "best_in_top5"),
)


def summary(values: list[float]) -> dict[str, float]:
    """Mean, sample standard deviation (0 for one value), minimum and maximum."""
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": round(statistics.fmean(values), 4), "sd": round(sd, 4), "min": min(values), "max": max(values)}


def points(run: dict, method: str, metric: str) -> float:
    """A headline figure in points: mAP^r is stored in %, ABO as a fraction."""
    value = run["headline"][method][metric]
    return round(100 * value, 2) if metric == "abo" else value


def check_same_workload(records: dict[str, dict]) -> None:
    """Raise unless every record ran the same workload apart from the training seed."""

    def without_seed(run: dict) -> dict:  # records before synthetic.seed existed lack it
        work = {key: value for key, value in run["workload"].items() if key != "seed"}
        return {**work, "synthetic": {k: v for k, v in work["synthetic"].items() if k != "seed"}}

    first_name, first = next(iter(records.items()))
    for name, run in records.items():
        if without_seed(run) != without_seed(first):
            raise SystemExit(f"{name}: its workload differs from {first_name}'s beyond the seed")
        if run["headline"]["gt_box_rect"] != first["headline"]["gt_box_rect"]:
            raise SystemExit(f"{name}: its GT-box row differs from {first_name}'s, so the benchmark differs")


def spread(records: dict[str, dict]) -> dict:
    """Per method and metric, per paired difference and per diagnostic: the runs' values and their summary."""
    methods = sorted(set.intersection(*(set(run["headline"]) for run in records.values())))
    table = {
        method: {metric: summary([points(run, method, metric) for run in records.values()]) for metric in METRICS}
        for method in methods
    }
    pairs = {}
    for name, high, low, metric in PAIRS:
        values = [round(points(run, high, metric) - points(run, low, metric), 2) for run in records.values()]
        pairs[name] = {"values": values, **summary(values)}
    diagnostics = {
        f"{stage}.{key}": summary([run["diagnostics"][stage][key] for run in records.values()])
        for stage, key in DIAGNOSTICS
    }
    return {"methods": table, "paired": pairs, "diagnostics": diagnostics}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", type=Path, nargs="+", help="run_summary.py records of one workload")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    records = {path.name: json.loads(path.read_text()) for path in args.records}
    check_same_workload(records)
    runs = [
        {
            "record": name,
            "seed": run["workload"].get("seed", 0),
            "machine": run["machine"],
            "gpu": run.get("gpu"),
            "commit": run["commit"],
        }
        for name, run in records.items()
    ]
    result = spread(records)
    write_record(args.out, Path("results"), runs=runs, **result)
    for name, row in result["paired"].items():
        print(f"{name:38s} {row['values']}  mean {row['mean']:+.2f}  sd {row['sd']:.2f}")
    for method, row in result["methods"].items():
        cell = row["map@0.5"]
        print(f"{method:18s} @0.5 mean {cell['mean']:6.2f} sd {cell['sd']:5.2f} range {cell['min']}-{cell['max']}")


if __name__ == "__main__":
    main()
