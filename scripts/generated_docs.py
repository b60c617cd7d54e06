"""Rewrite the generated tables of README.md and benchmarks/README.md from the code and benchmarks/results/*.json.

A generated region is everything between ``<!-- generated: NAME -->`` and ``<!-- end generated -->``;
the prose around it is left alone. ``--check`` writes nothing and exits 1 when a region is stale.
Run from the repo root: ``.venv/bin/python scripts/generated_docs.py``.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from iam import config
from iam.io import schema

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DOCS = (ROOT / "README.md", ROOT / "benchmarks" / "README.md")
REGION = re.compile(r"(<!-- generated: (?P<name>[\w-]+) -->\n).*?(<!-- end generated -->)", re.S)


def markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table."""
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def number(value: float | None, digits: int = 1) -> str:
    """``value`` rounded, or a dash when it was not recorded."""
    return "–" if value is None else f"{value:,.{digits}f}"


def _results(pattern: str) -> list[tuple[str, dict[str, Any]]]:
    """(file name, contents) of the result files matching ``pattern``, oldest first: by date, then the
    time they were recorded (files from before ``recorded`` existed come first), then name."""
    found = [(path.name, json.loads(path.read_text())) for path in RESULTS.glob(pattern)]
    return sorted(found, key=lambda item: (item[1].get("date", ""), item[1].get("recorded", ""), item[0]))


def machine(run: dict[str, Any]) -> str:
    """The run's CPU and cores, with its GPU where it had one."""
    return f"{run['machine']} + {run['gpu']}" if run.get("gpu") else run["machine"]


def _map_r(headline: dict[str, dict[str, float]], method: str) -> str:
    """mAP^r @.25 / @.5 (ABO) of one method."""
    if method not in headline:
        return "–"
    row = headline[method]
    return f"{row['map@0.25']:.2f} / {row['map@0.5']:.2f} ({row['abo']:.3f})"


def default_runs() -> str:
    """One row per full run of the DAG (``benchmarks/run_summary.py``'s default-run*.json)."""
    header = [
        "file",
        "commit",
        "date",
        "machine",
        "wall s",
        "job CPU-s",
        "no-op s",
        "backbone val mAP",
        "IAM-S5 .25 / .5 (ABO)",
        "IAM-S5 snapped .25 / .5 (ABO)",
        "PRM retrieval .25 / .5 (ABO)",
    ]
    rows = [
        [
            f"`{name}`",
            run["commit"],
            run["date"],
            machine(run),
            number(run.get("wall_s"), 0),
            number(run.get("sum_job_cpu_s") or None, 0),
            number(run.get("noop_rerun_s")),
            number(run.get("backbone_val_map"), 2),
            _map_r(run["headline"], "iam_s5"),
            _map_r(run["headline"], "iam_s5_snap"),
            _map_r(run["headline"], "prm_retrieval"),
        ]
        for name, run in _results("default-run*.json")
    ]
    return markdown(header, rows)


# Table 1's rows in the paper's order, then the upper bounds; names as in metrics/{method}.json.
TABLE1 = {
    "cam_rect": "CAM box → Rect",
    "cam_ellipse": "CAM box → Ellipse",
    "cam_proposal": "CAM box → best proposal",
    "prm_retrieval": "PRM retrieval",
    "iam_s1": "IAM-S1",
    "iam_s5_nocrf": "IAM-S5, no CRF",
    "iam_s5": "IAM-S5",
    "iam_s9": "IAM-S9",
    "iam_s5_snap": "IAM-S5 snapped to proposals (ours, not the paper's)",
    "iam_ceiling": "filler trained on GT masks (upper bound, uses GT masks)",
    "iam_s5_prm_oracle": "IAM-S5 filler fed PRMs cut to their GT instance (diagnostic, uses GT masks)",
    "gt_box_rect": "GT box → Rect (upper bound)",
    "gt_box_ellipse": "GT box → Ellipse (upper bound)",
    "gt_box_proposal": "GT box → best proposal (upper bound)",
}


SCHEMA = config.load_schema()["properties"]  # the config sections' schemas


def _of_shipped_config(run: dict[str, Any], shipped: dict[str, Any]) -> bool:
    """Whether a recorded run used the ``shipped`` config's benchmark, backbone, PRM and (recorded) filler
    settings (variants, e.g. an overlay's, do not); keys a record predates count at their schema default."""

    def settings(key: str, section: dict[str, Any] | None) -> dict[str, Any] | None:
        if section is None:
            return None
        section = copy.deepcopy(section)
        config.fill_defaults(section, SCHEMA[key])
        return {k: v for k, v in section.items() if k != "seed"}  # records before synthetic.seed lack it

    same_seed = run["workload"].get("seed", 0) == shipped["seed"]  # records before the seed was recorded ran 0
    same_filler = all(shipped["filler"].get(k) == v for k, v in run["workload"]["filler"].items())
    return (
        same_seed
        and same_filler
        and all(
            settings(key, run["workload"].get(key)) == settings(key, shipped[key])
            for key in ("synthetic", "backbone", "prm")
        )
    )


def latest_table1() -> str:
    """Table 1 (val mAP^r in %, ABO) of the newest recorded run of the shipped config, and where it
    comes from."""
    shipped = yaml.safe_load((ROOT / "config.yaml").read_text())
    name, run = [item for item in _results("default-run*.json") if _of_shipped_config(item[1], shipped)][-1]
    header = ["method", "mAP^r@0.25", "mAP^r@0.5", "mAP^r@0.75", "ABO"]
    rows = [
        [
            label,
            *(number(run["headline"][m][f"map@{t}"], 2) for t in ("0.25", "0.5", "0.75")),
            number(run["headline"][m]["abo"], 3),
        ]
        for m, label in TABLE1.items()
        if m in run["headline"]
    ]
    source = (
        f"`benchmarks/results/{name}`: commit {run['commit']}, {run['date']}, {machine(run)}; "
        f"DAG {number(run.get('wall_s'), 0)} s wall, no-op rerun {number(run.get('noop_rerun_s'))} s."
    )
    return f"{source}\n\n{markdown(header, rows)}"


def test_runs() -> str:
    """One row per recorded run of the README's test command (``results/test-runs.json``, oldest first)."""
    header = ["commit", "date", "machine", "tests", "make test s", "with install s", "note"]
    runs = json.loads((RESULTS / "test-runs.json").read_text())
    rows = [
        [
            r["commit"],
            r["date"],
            r["machine"],
            str(r["tests"]),
            number(r["test_s"], 0),
            number(r.get("with_install_s"), 0),
            r.get("note", ""),
        ]
        for r in runs
    ]
    return markdown(header, rows)


def _stage(run: dict[str, Any], name: str) -> str:
    """Median seconds per image of one Table 2 stage (p90 in brackets)."""
    stage = run["stages"][name]
    return f"{stage['median_s']:.3f} ({stage['p90_s']:.3f})"


def table2_runs() -> str:
    """One row per Table 2 measurement (``benchmarks/table2.py``'s table2-*.json with a ``stages`` record)."""
    header = [
        "file",
        "date",
        "device",
        "size",
        "dtype",
        "images",
        "peaks/image",
        "PRM stage s",
        "IAM s",
        "retrieval s",
        "IAM / retrieval",
        "without proposals",
        "after PRMs",
    ]
    rows = [
        [
            f"`{name}`",
            run["date"],
            run["device"],
            str(run["size"]),
            run.get("prm_dtype", "float32"),
            str(run["images"]),
            number(run["peaks_per_image"], 2),
            _stage(run, "prm"),
            _stage(run, "iam_total"),
            _stage(run, "prm_retrieval_total"),
            number(run["ratio_with_proposals"], 2),
            number(run["ratio_without_proposal_generation"], 2),
            number(run["ratio_after_prms"], 2),
        ]
        for name, run in _results("table2-*.json")
        if "stages" in run
    ]
    return markdown(header, rows)


def _spans_shipped_config(spread: dict[str, Any], shipped: dict[str, Any]) -> bool:
    """Whether every run a ``seed_spread.py`` record spans used the ``shipped`` config, its training seed
    aside (a spread over an overlay's runs is a variant, as a single run of one is)."""
    paths = [RESULTS / r["record"] for r in spread["runs"]]
    runs = [json.loads(path.read_text()) for path in paths if path.exists()]
    return len(runs) == len(paths) and all(
        _of_shipped_config({**run, "workload": {**run["workload"], "seed": shipped["seed"]}}, shipped) for run in runs
    )


def seed_spread() -> str:
    """The newest ``seed_spread.py`` record over runs of the shipped config: Table 1's mean ± sd over its
    runs, then the paired differences."""
    shipped = yaml.safe_load((ROOT / "config.yaml").read_text())
    name, spread = [item for item in _results("seed_spread-*.json") if _spans_shipped_config(item[1], shipped)][-1]
    runs = ", ".join(f"seed {r['seed']} on {r['gpu'] or r['machine']} (`{r['record']}`)" for r in spread["runs"])
    header = ["method", *(f"{m} mean ± sd (min – max)" for m in ("mAP^r@0.25", "mAP^r@0.5", "mAP^r@0.75", "ABO×100"))]

    def cell(row: dict[str, float]) -> str:
        return f"{row['mean']:.2f} ± {row['sd']:.2f} ({row['min']:.2f} – {row['max']:.2f})"

    rows = [
        [label, *(cell(spread["methods"][m][k]) for k in ("map@0.25", "map@0.5", "map@0.75", "abo"))]
        for m, label in TABLE1.items()
        if m in spread["methods"] and not m.startswith("gt_box")
    ]
    paired = [
        [label, ", ".join(f"{v:+.2f}" for v in row["values"]), cell(row)] for label, row in spread["paired"].items()
    ]
    return (
        f"`benchmarks/results/{name}`, {len(spread['runs'])} runs: {runs}.\n\n"
        f"{markdown(header, rows)}\n\n{markdown(['within each run', 'per run', 'mean ± sd (min – max)'], paired)}"
    )


TABLES: dict[str, Callable[[], str]] = {
    "dataset-schema": schema.markdown_table,
    "config-keys": config.markdown_table,
    "default-runs": default_runs,
    "table2-runs": table2_runs,
    "latest-table1": latest_table1,
    "test-runs": test_runs,
    "seed-spread": seed_spread,
}


def render(text: str) -> str:
    """``text`` with every generated region rewritten."""
    return REGION.sub(lambda m: f"{m.group(1)}{TABLES[m.group('name')]()}\n{m.group(3)}", text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a region is stale")
    args = parser.parse_args(argv)
    stale = [path for path in DOCS if render(path.read_text()) != path.read_text()]
    for path in stale:
        if args.check:
            print(f"{path.relative_to(ROOT)} is stale: run .venv/bin/python scripts/generated_docs.py")
        else:
            path.write_text(render(path.read_text()))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
