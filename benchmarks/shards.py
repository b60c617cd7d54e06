"""Wall time of a whole pipeline run against the shard count (`shards.count`) on a few cores.

For each shard count the config runs through `snakemake --cores N` in a fresh temporary copy of the
workflow, one BLAS/OpenMP thread per job as in the tests. Recorded per count: the run's wall time and,
per rule, the jobs and the seconds (`s`) and CPU seconds (`cpu_time`) summed over the
`benchmarks/<rule>/*.tsv` files that run wrote; load averages before and after (the machine may be shared).

--reuse-upstream first runs, once and timed on its own, what does not depend on the shard count
(`--omit-from` the shard rules: dataset, backbone, dataset statistics, GT-box baselines), then runs each
count from a copy of it, so the backbone is trained once. A count's full-run wall time is then
upstream + its part: an estimate that misses the little overlap of the two parts in a single run.

    .venv/bin/python benchmarks/shards.py [--configfile config.yaml] [--shards 1 2 4] [--cores 2]
        [--reuse-upstream] [--out benchmarks/results/shards.json]

Relative paths inside the config resolve against the temporary copy.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import yaml

from iam.data.voc import GTInstances, read_split
from iam.device import cpu_flags
from iam.evaluation.gt import instance_reader
from iam.io.atomic import write_json
from iam.workflow import shard_rules

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
WORKFLOW = ("Snakefile", "config.yaml", "rules", "workflow_scripts", "config", "envs", "profiles")
# Rules with one job per shard (output .../shard{i}...); everything downstream of them depends on the count.
SHARD_RULES = shard_rules(Path(__file__).resolve().parents[1] / "rules")
CONFIG_NAME = "shards-benchmark.yaml"


def cpu_model() -> str:
    """The CPU's model name and its widest vector extensions (the convolutions' speed depends on them)."""
    cpuinfo = Path("/proc/cpuinfo")
    names = (
        [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        if cpuinfo.exists()
        else []
    )
    flags = cpu_flags()
    vector = [
        name
        for flag, name in (("avx2", "AVX2"), ("avx512f", "AVX-512"), ("avx512_bf16", "AVX512-BF16"))
        if flag in flags
    ]
    name = names[0] if names else platform.processor() or platform.machine()
    return f"{name} ({', '.join(vector)})" if vector else name


def val_split(run: Path, config: dict) -> tuple[Path, list[str], list[str], Callable[[str], GTInstances]]:
    """A finished run's VOC root, its classes, the val image ids and their GT instance reader."""
    voc, classes = run / "data" / "VOC2012", config["dataset"]["classes"]
    return voc, classes, read_split(voc, "val"), instance_reader("voc", str(voc), None, classes)


def write_record(out: Path, run: Path, **fields: object) -> None:
    """A benchmark's result file: today's date, the UTC time (which orders records of one day), this
    machine (:func:`cpu_model`), the run it read and ``fields``."""
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp = {"date": datetime.date.today().isoformat(), "recorded": now.isoformat(timespec="seconds")}
    write_json(out, {**stamp, "machine": cpu_model(), "run": str(run), **fields})


def copy_workflow(dest: Path, config: dict, count: int) -> Path:
    """The workflow files and `config` with shards.count = `count` (as CONFIG_NAME) in `dest`."""
    dest.mkdir(parents=True)
    for name in WORKFLOW:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy2(src, dest / name)
    set_shard_count(dest, config, count)
    return dest


def set_shard_count(workdir: Path, config: dict, count: int) -> None:
    """Write `config` with shards.count = `count` as the workdir's CONFIG_NAME."""
    config = {**config, "shards": {**config.get("shards", {}), "count": count}}
    (workdir / CONFIG_NAME).write_text(yaml.safe_dump(config, sort_keys=False))


def snakemake(workdir: Path, cores: int, *args: str) -> dict:
    """Run snakemake in `workdir`; its wall time, load averages and per-rule sums of the tsv files it wrote."""
    load_before, start = os.getloadavg(), time.time()
    result = subprocess.run(
        [str(SNAKEMAKE), "--cores", str(cores), *args, "--configfile", CONFIG_NAME],
        cwd=workdir,
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
    )
    wall = time.time() - start
    if result.returncode != 0:
        sys.exit(f"snakemake failed in {workdir}:\n{result.stderr[-4000:]}")
    return {
        "wall_s": round(wall, 1),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "rules": rule_seconds(workdir, since=start),
    }


def rule_seconds(workdir: Path, since: float) -> dict[str, dict[str, float]]:
    """Jobs, seconds and CPU seconds per rule from the benchmark tsv files written after `since`."""
    totals: dict[str, dict[str, float]] = defaultdict(lambda: {"jobs": 0, "s": 0.0, "cpu_s": 0.0})
    for tsv in (workdir / "results").glob("*/benchmarks/*/*.tsv"):
        if tsv.stat().st_mtime < since:
            continue
        with tsv.open() as f:
            for row in csv.DictReader(f, delimiter="\t"):
                sums = totals[tsv.parent.name]
                sums["jobs"] += 1
                sums["s"] += float(row["s"])
                sums["cpu_s"] += float(row["cpu_time"]) if row.get("cpu_time", "NA") != "NA" else 0.0
    return {name: {k: round(v, 1) for k, v in t.items()} for name, t in sorted(totals.items())}


def run_counts(config: dict, counts: list[int], cores: int, reuse_upstream: bool, tmp: Path) -> dict:
    """The measurements of every count (and of the shared upstream part with `reuse_upstream`)."""
    report: dict = {"runs": []}
    if reuse_upstream:
        base = copy_workflow(tmp / "upstream", config, counts[0])
        report["upstream"] = snakemake(base, cores, "--omit-from", *SHARD_RULES)
    for count in counts:
        if reuse_upstream:
            workdir = Path(shutil.copytree(base, tmp / f"shards{count}", symlinks=True))
            set_shard_count(workdir, config, count)
            part = snakemake(workdir, cores)
            run = {
                "shards": count,
                "wall_s": round(report["upstream"]["wall_s"] + part["wall_s"], 1),
                "part_wall_s": part["wall_s"],
                **{k: v for k, v in part.items() if k != "wall_s"},
            }
        else:
            run = {"shards": count, **snakemake(copy_workflow(tmp / f"shards{count}", config, count), cores)}
        report["runs"].append(run)
        print(f"shards {count}: {run['wall_s']} s", flush=True)
        shutil.rmtree(tmp / f"shards{count}")
    return report


def print_table(report: dict) -> None:
    runs = report["runs"]
    rules = sorted({rule for run in runs for rule in run["rules"]})
    print(f"{'shards':<24}" + "".join(f"{run['shards']:>16}" for run in runs))
    print(f"{'wall s':<24}" + "".join(f"{run['wall_s']:>16}" for run in runs))
    if "upstream" in report:
        print(f"{'  of which upstream s':<24}" + f"{report['upstream']['wall_s']:>16}" * len(runs))
        print(
            "  upstream rules: "
            + ", ".join(f"{rule} {t['s']} s ({t['jobs']})" for rule, t in report["upstream"]["rules"].items())
        )
    print(f"{'rule: s (jobs)':<24}")
    for rule in rules:
        cells = [run["rules"].get(rule) for run in runs]
        print(f"  {rule:<22}" + "".join(f"{c['s']:>10} ({c['jobs']:>2})" if c else f"{'-':>16}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", default="config.yaml", help="relative to the repository root")
    parser.add_argument("--shards", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--reuse-upstream", action="store_true", help="train the backbone once (see above)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "shards.json")
    args = parser.parse_args()
    config = yaml.safe_load((ROOT / args.configfile).read_text())
    with tempfile.TemporaryDirectory(prefix="iam-shards-") as tmp:
        measured = run_counts(config, args.shards, args.cores, args.reuse_upstream, Path(tmp))
    report = {
        "benchmark": f"whole pipeline, snakemake --cores {args.cores}, against shards.count",
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "platform": platform.platform()},
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "config": args.configfile,
        "cores": args.cores,
        "threads_per_job": "OMP_NUM_THREADS=MKL_NUM_THREADS=1",
        "mode": "reuse-upstream" if args.reuse_upstream else "full",
        **measured,
    }
    print_table(report)
    write_json(args.out, report)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
