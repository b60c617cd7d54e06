"""Sharding of the per-image stages: the shard count changes how the work is split, never the results,
and changing it reruns only the shard jobs and what depends on their output.

Marked ``e2e``; both tests start from a copy of the session's tiny run (``shards.count`` 1) with its
results and Snakemake's metadata, so the dataset and the backbone are reused, not rebuilt.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import h5py
import pytest
import yaml

from conftest import TINY, TinyRun, planned_jobs, run_differences, run_snakemake, tiny_results
from iam.workflow import shard_rules

pytestmark = pytest.mark.e2e

SHARD_RULES = shard_rules(Path(__file__).resolve().parents[1] / "rules")  # per-image stages, read from rules/
SHARD_FREE = ("make_dataset", "train_backbone", "dataset_stats")  # read no per-image stage output


def copy_run(run: TinyRun, dest: Path) -> Path:
    """A copy of a finished run's workdir: workflow, results and .snakemake metadata, mtimes kept."""
    return Path(shutil.copytree(run.workdir, dest, symlinks=True))


def set_shard_count(workdir: Path, count: int) -> int:
    """Set ``shards.count`` in the workdir's tiny config; returns the count it replaced."""
    path = workdir / TINY
    config = yaml.safe_load(path.read_text())
    old, config["shards"]["count"] = config["shards"]["count"], count
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return old


def dry_run(workdir: Path, *args: str) -> Counter[str]:
    result = run_snakemake(workdir, "-n", *args, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return planned_jobs(result)


def executed_rules(log: str) -> set[str]:
    """Rules that ran, from a (non-dry) run's log."""
    return set(re.findall(r"^(?:local)?rule (\w+):$", log, re.M))


def shard_file(artifact: Path, index: int) -> Path:
    """The per-shard file a split-level artifact is merged from: prm/val.h5 -> prm/val/shard0.h5."""
    stem, _, suffix = artifact.name.partition(".")
    return artifact.parent / stem / f"shard{index}.{suffix}"


def test_shard_count_change_reruns_only_shard_jobs_and_their_downstream(tiny_run, tmp_path):
    """Forcing the shard rules at the old count plans exactly "everything that depends on shard
    output"; after the count changes to 3, Snakemake must plan those same non-shard jobs (merges and
    downstream), every shard job of the new count, and nothing else."""
    work = copy_run(tiny_run, tmp_path / "work")
    downstream = dry_run(work, "--forcerun", *SHARD_RULES)
    old = set_shard_count(work, 3)
    planned = dry_run(work)
    assert old != 3 and downstream["extract_prm"] > 0
    assert not planned.keys() & set(SHARD_FREE)
    assert {r: n for r, n in planned.items() if r not in SHARD_RULES} == {
        r: n for r, n in downstream.items() if r not in SHARD_RULES
    }
    assert {r: planned[r] for r in SHARD_RULES} == {r: downstream[r] // old * 3 for r in SHARD_RULES}


def test_sharded_rerun_reproduces_the_unsharded_artifacts(tiny_run, tmp_path):
    """``shards.count`` 2 on a copy of the finished one-shard run: the rerun (same dataset and backbone)
    must merge its shards into the same split files, image for image and in split order, and give
    byte-identical metrics."""
    work = copy_run(tiny_run, tmp_path / "work")
    assert set_shard_count(work, 2) == 1
    result = run_snakemake(work)
    assert result.returncode == 0, result.stderr[-3000:]
    ran = executed_rules(result.stdout + result.stderr)
    assert set(SHARD_RULES) | {"train_filler", "report"} <= ran and not ran & set(SHARD_FREE)
    results = tiny_results(work)
    merged = [p for p in results.rglob("*.h5") if not p.name.startswith("shard") and shard_file(p, 1).exists()]
    assert len(merged) >= 10
    for artifact in merged:  # ids are dealt round-robin to the shards; the merge restores split order
        with (
            h5py.File(artifact, "r") as whole,
            h5py.File(shard_file(artifact, 0), "r") as first,
            h5py.File(shard_file(artifact, 1), "r") as second,
        ):
            assert (list(first), list(second)) == (list(whole)[0::2], list(whole)[1::2]), artifact
    assert run_differences(tiny_run.results, results) == {}
