"""Shared fixtures: a temporary copy of the workflow and one end-to-end run of the tiny config."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import h5py
import pytest
import yaml

from iam.io.compare import artifact_differences

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
WORKFLOW_FILES = ("Snakefile", "config.yaml")
WORKFLOW_DIRS = ("rules", "workflow_scripts", "config", "envs", "profiles")
TINY = "config/tiny.yaml"
TEARDOWN = ROOT / "scripts" / "slurm" / "teardown.sh"
SLURM_CONF = Path("/etc/slurm/slurm.conf")


@dataclass(frozen=True)
class TinyRun:
    """A finished run of config/tiny.yaml: the workflow copy it ran in and its results dir."""

    workdir: Path
    results: Path


def copy_workflow(dest: Path) -> Path:
    """Copy the files Snakemake needs to run the workflow (not results/, not .snakemake/)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        shutil.copy2(ROOT / name, dest / name)
    for name in WORKFLOW_DIRS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def single_thread_env() -> dict[str, str]:
    """The environment for child runs: one BLAS/OpenMP thread per job (shared 2-core machines)."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def snakemake_command(*args: str, configfile: str = TINY) -> list[str]:
    """The venv's snakemake on 2 cores. ``args`` (flags and targets) come before ``--configfile``,
    which takes several values and would swallow targets placed after it."""
    return [str(SNAKEMAKE), "--cores", "2", *args, "--configfile", configfile]


def run_snakemake(
    workdir: Path, *args: str, configfile: str = TINY, timeout: float = 900
) -> subprocess.CompletedProcess:
    """Run the venv's snakemake in `workdir` (on the tiny config unless told otherwise); output
    captured as text (see :func:`snakemake_command` for the order of ``args``)."""
    return subprocess.run(
        snakemake_command(*args, configfile=configfile),
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=single_thread_env(),
    )


def start_snakemake(workdir: Path, *args: str, output: Path, configfile: str = TINY) -> subprocess.Popen:
    """Start snakemake in `workdir` in the background, as the leader of a new process group (so
    ``os.killpg(proc.pid, ...)`` reaches every job it spawned), stdout and stderr going to `output`."""
    with open(output, "w") as sink:
        return subprocess.Popen(
            snakemake_command(*args, configfile=configfile),
            cwd=workdir,
            env=single_thread_env(),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def tiny_results(workdir: Path) -> Path:
    return workdir / "results" / yaml.safe_load((workdir / TINY).read_text())["run"]


@pytest.fixture(scope="session", autouse=True)
def no_stale_slurm_conf() -> None:
    """Remove the SLURM config of a test cluster that is no longer running, if an earlier teardown
    left one: with it every snakemake start waits 9 s (see scripts/slurm/teardown.sh)."""
    if SLURM_CONF.exists() and os.access(SLURM_CONF.parent, os.W_OK):
        subprocess.run(["bash", str(TEARDOWN), "--conf-only"], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def workflow_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pristine copy of the workflow (session-wide; copy it again before modifying it)."""
    return copy_workflow(tmp_path_factory.mktemp("workflow"))


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> TinyRun:
    """Run the whole tiny DAG once per session in a temporary copy of the repository."""
    workdir = copy_workflow(tmp_path_factory.mktemp("tiny_run"))
    result = run_snakemake(workdir)
    if result.returncode != 0:
        pytest.fail(f"tiny run failed in {workdir}:\n{result.stderr[-4000:]}", pytrace=False)
    return TinyRun(workdir=workdir, results=tiny_results(workdir))


def planned_jobs(result: subprocess.CompletedProcess) -> Counter[str]:
    """Jobs per rule in the job table of a dry run (empty when nothing is to be done)."""
    if "Job stats:" not in result.stdout:
        return Counter()
    table = result.stdout.split("Job stats:")[-1].split("Reasons:")[0]
    rows = re.finditer(r"^(\w+)\s+(\d+)\s*$", table, re.M)
    return Counter({m.group(1): int(m.group(2)) for m in rows if m.group(1) not in ("job", "total")})


def run_differences(reference: Path, other: Path, finished: bool = True) -> dict[str, list[str]]:
    """How the results dir `other` differs from `reference`, per path relative to it (files that agree
    are left out): every split-level HDF5 artifact of `reference` (per-shard files excluded) array by
    array and in image order, every file in its metrics/ byte for byte. A `reference` run cut short
    by ``--until`` (``finished=False``) has no metrics; a finished one must have them."""
    artifacts = sorted(p for p in reference.rglob("*.h5") if not p.name.startswith("shard"))
    metrics = sorted((reference / "metrics").iterdir()) if finished else []
    assert artifacts and (metrics or not finished), f"{reference} holds nothing to compare"
    differing: dict[str, list[str]] = {}
    for path in artifacts + metrics:
        name, theirs = path.relative_to(reference), other / path.relative_to(reference)
        if not theirs.exists():
            differing[str(name)] = ["missing"]
        elif path.suffix != ".h5":
            if path.read_bytes() != theirs.read_bytes():
                differing[str(name)] = ["bytes differ"]
        else:
            diffs = artifact_differences(path, theirs)
            with h5py.File(path, "r") as a, h5py.File(theirs, "r") as b:
                if list(a) != list(b):
                    diffs.append("image order differs")
            if diffs:
                differing[str(name)] = diffs
    return differing
