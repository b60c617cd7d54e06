"""Shared fixtures: a temporary copy of the workflow and one end-to-end run of the tiny config."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
WORKFLOW_FILES = ("Snakefile", "config.yaml")
WORKFLOW_DIRS = ("rules", "workflow_scripts", "config", "envs", "profiles")
TINY = "config/tiny.yaml"


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


def run_snakemake(
    workdir: Path, *args: str, configfile: str = TINY, timeout: float = 900
) -> subprocess.CompletedProcess:
    """Run the venv's snakemake in `workdir` (on the tiny config unless told otherwise); output
    captured as text. ``args`` (flags and targets) come before ``--configfile``, which takes several
    values and would swallow targets placed after it."""
    return subprocess.run(
        [str(SNAKEMAKE), "--cores", "2", *args, "--configfile", configfile],
        cwd=workdir, capture_output=True, text=True, timeout=timeout, env=single_thread_env(),
    )


def tiny_results(workdir: Path) -> Path:
    return workdir / "results" / yaml.safe_load((workdir / TINY).read_text())["run"]


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
