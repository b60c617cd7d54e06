"""The cluster path for real: a single-node SLURM started by scripts/slurm/setup.sh runs workflows
through snakemake-executor-plugin-slurm and profiles/slurm, with the same results as a local run."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conftest import (
    ROOT,
    SLURM_CONF,
    SNAKEMAKE,
    TEARDOWN,
    TINY,
    copy_workflow,
    run_differences,
    run_snakemake,
    single_thread_env,
    tiny_results,
)

pytestmark = pytest.mark.slurm

STATE = Path("/tmp/iam-slurm")
PROFILE = ROOT / "profiles" / "slurm" / "profile.yaml"
NODE_CAPS = {"mem_mb": 1000, "cpus_per_task": 1}  # what one job may ask of the 2-core test node
# slurm-init-seconds-before-status-checks: the plugin's wait before polling squeue again after a round in
# which a job finished (after a round in which none did, the wait grows by 10 s, up to 180 s). 1 s instead
# of the profile's 5 s shortens the gap between a job's end and the submission of its dependants. The tiny
# run keeps the profile's `jobs: 64`, so SLURM holds every ready job and starts the next one itself while
# Snakemake has not polled yet.
STATUS_CHECK_S = 1
# The cluster run stops after IAM inference: every job type with its own resources (the trainers, PRM
# extraction, inference with its gpu resource) runs through SLURM, the evaluation and report jobs (plain
# default-resource jobs, as in the toy workflow) do not: 29 jobs instead of 60, half the test's time.
UNTIL = "merge_iam"
TOY = """
rule all:
    input: "squares.sum"

rule numbers:
    output: "numbers.txt"
    log: "logs/numbers.log"
    shell: "seq 1 5 > {output}; echo ${{SLURM_JOB_ID:-local}} > {log}"

rule squares:
    input: "numbers.txt"
    output: "squares.txt"
    log: "logs/squares.log"
    shell: "awk '{{print $1 * $1}}' {input} > {output}; echo ${{SLURM_JOB_ID:-local}} > {log}"

rule total:
    input: "squares.txt"
    output: "squares.sum"
    log: "logs/total.log"
    shell: "awk '{{s += $1}} END {{print s}}' {input} > {output}; echo ${{SLURM_JOB_ID:-local}} > {log}"
"""


def cluster_idle() -> bool:
    """Whether `sinfo` answers and shows a node that can take jobs."""
    if shutil.which("sinfo") is None:
        return False
    result = subprocess.run(["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, timeout=30)
    return result.returncode == 0 and bool({"idle", "mix", "alloc"} & set(result.stdout.split()))


def can_install() -> bool:
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


@pytest.fixture(scope="module")
def slurm_cluster() -> Iterator[None]:
    """A running cluster: the one already up, or one started here (and stopped afterwards)."""
    if cluster_idle():
        yield
        return
    if shutil.which("slurmctld") is None and not can_install():
        pytest.skip("SLURM binaries absent and scripts/slurm/setup.sh cannot install them (needs root + apt-get)")
    result = subprocess.run(
        ["bash", str(ROOT / "scripts/slurm/setup.sh"), str(STATE)], capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0 and shutil.which("slurmctld") is None:
        pytest.skip(f"apt-get could not install SLURM: {result.stderr[-500:]}")
    assert result.returncode == 0, f"scripts/slurm/setup.sh failed:\n{result.stdout}\n{result.stderr}"
    yield
    subprocess.run(["bash", str(TEARDOWN), str(STATE)], timeout=120, check=True)
    assert not SLURM_CONF.exists(), "teardown.sh left the config of the stopped cluster behind"


def node_profile(dest: Path) -> Path:
    """profiles/slurm with per-job memory and CPUs capped to fit this one small node, polling sooner."""
    profile = yaml.safe_load(PROFILE.read_text())
    profile["slurm-init-seconds-before-status-checks"] = STATUS_CHECK_S
    for resources in [profile["default-resources"], *profile["set-resources"].values()]:
        for key, cap in NODE_CAPS.items():
            if key in resources:
                resources[key] = min(resources[key], cap)
    dest.mkdir(parents=True)
    (dest / "profile.yaml").write_text(yaml.safe_dump(profile))
    return dest


def snakemake(workdir: Path, *args: str, timeout: float = 600) -> None:
    """Run the venv's snakemake in `workdir`; fail the test with its log tail when it fails."""
    result = subprocess.run(
        [str(SNAKEMAKE), *args], cwd=workdir, capture_output=True, text=True, timeout=timeout, env=single_thread_env()
    )
    assert result.returncode == 0, result.stderr[-4000:]


def test_toy_workflow_runs_as_slurm_jobs(slurm_cluster, tmp_path: Path) -> None:
    local, cluster = tmp_path / "local", tmp_path / "cluster"
    for workdir in (local, cluster):
        workdir.mkdir()
        (workdir / "Snakefile").write_text(TOY)
    snakemake(local, "--cores", "1")
    profile = node_profile(tmp_path / "profile")
    snakemake(cluster, "--workflow-profile", str(profile), "--executor", "slurm", "--jobs", "3")
    assert (cluster / "squares.sum").read_text() == (local / "squares.sum").read_text() == "55\n"
    assert (cluster / "squares.txt").read_bytes() == (local / "squares.txt").read_bytes()
    job_ids = {(cluster / "logs" / f"{rule}.log").read_text().strip() for rule in ("numbers", "squares", "total")}
    assert all(job_id.isdigit() for job_id in job_ids) and len(job_ids) == 3
    assert (local / "logs" / "numbers.log").read_text().strip() == "local"


def tiny_dag_problem(workdir: Path) -> str | None:
    """Why the tiny config does not resolve to a DAG yet (None when `snakemake -n` succeeds)."""
    result = run_snakemake(workdir, "-n", timeout=300)
    return None if result.returncode == 0 else result.stderr.strip()[-300:]


@pytest.mark.e2e
def test_tiny_config_through_slurm_equals_local_run(slurm_cluster, request, tmp_path: Path) -> None:
    workdir = copy_workflow(tmp_path / "cluster")
    problem = tiny_dag_problem(workdir)
    if problem:
        pytest.skip(f"`snakemake -n --configfile {TINY}` does not resolve yet: {problem}")
    local = request.getfixturevalue("tiny_run").results
    profile = node_profile(tmp_path / "profile")
    snakemake(
        workdir,
        "--configfile",
        TINY,
        "--workflow-profile",
        str(profile),
        "--executor",
        "slurm",
        "--until",
        UNTIL,
        timeout=1800,
    )
    cluster = tiny_results(workdir)
    assert {p.parent.name for p in cluster.rglob("model.pt")} >= {"backbone", "k1"}  # both trainers ran there
    assert run_differences(cluster, local, finished=False) == {}
