"""One key of the matching score (``size_prior``, ``border_prior``, ``beta``...; set in both the
``pseudo_gt`` and the ``retrieval`` section) swept on a finished run's artifacts: per value, the
pseudo GT of the training split (built with it, then measured by the ``pseudo_gt_quality``
diagnostic, which reads GT) and the PRM-retrieval baseline on val (mAP^r, ABO, extent errors). The
filler trained on each pseudo GT is ``filler_ablation.py`` with ``targets``.

    .venv/bin/python benchmarks/matching_sweep.py results/synthetic size_prior 0 1 2 \\
        --out benchmarks/results/size_prior.json
    .venv/bin/python benchmarks/matching_sweep.py results/synthetic border_prior 0 0.2 0.4 \\
        --out benchmarks/results/border_prior.json

Each pseudo-GT file stays in ``--work`` as ``pseudo_gt_k{k}_{key}{value}.h5``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml
from shards import write_record  # benchmarks/ is on the path when this script runs

from iam.baselines.prm_retrieval import retrieve_split
from iam.data.voc import read_split
from iam.evaluation.gt import instance_reader
from iam.evaluation.instance_metrics import evaluate_instances
from iam.evaluation.pseudo_gt_quality import pseudo_gt_quality
from iam.pseudo_gt.build import build
from iam.pseudo_gt.scoring import MatchParams


def measure(run: Path, config: dict[str, Any], key: str, value: float, k: int, work: Path) -> dict[str, Any]:
    """Pseudo-GT diagnostics (train) and retrieval metrics (val) with ``key`` = ``value``."""
    voc, classes = run / "data" / "VOC2012", config["dataset"]["classes"]
    read_gt = instance_reader("voc", str(voc), None, classes)
    match = {**config["pseudo_gt"], "k": k, key: value}
    pgt = work / f"pseudo_gt_k{k}_{key}{value:g}.h5"
    train, proposals = read_split(voc, "train"), run / "proposals" / "generated"
    build(
        run / "prm" / "train.h5",
        proposals / "train.h5",
        train,
        pgt,
        k,
        MatchParams.from_config(match),
        match["min_overlap"],
        source="generated",
        params=match,
    )
    quality = pseudo_gt_quality(run / "prm" / "train.h5", proposals / "train.h5", pgt, read_gt, match)
    retrieval = {**config["retrieval"], key: value}
    val, out = read_split(voc, "val"), work / f"retrieval_{key}{value:g}.h5"
    retrieve_split(
        run / "prm" / "val.h5",
        proposals / "val.h5",
        val,
        out,
        classes,
        MatchParams.from_config(retrieval),
        retrieval["nms_iou"],
        params=retrieval,
    )
    metrics = evaluate_instances(out, val, read_gt, classes, config["evaluation"]["iou_thresholds"])
    return {
        key: value,
        "pseudo_gt": {key: v for key, v in quality.items() if not isinstance(v, (list, dict))},
        "retrieval": {"map": metrics["map"], "abo": metrics["abo"], "extent": metrics["extent"]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="results/<run> of a finished default run")
    parser.add_argument("key", help="a key of MatchParams, e.g. size_prior or border_prior")
    parser.add_argument("values", type=float, nargs="+")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/matching_sweep"))
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    config = yaml.safe_load(args.config.read_text())
    args.work.mkdir(parents=True, exist_ok=True)
    rows = [measure(args.run, config, args.key, v, args.k, args.work) for v in args.values]
    for row in rows:
        print(row)
    write_record(args.out, args.run, k=args.k, key=args.key, rows=rows)


if __name__ == "__main__":
    main()
