"""profiles/slurm and profiles/kubernetes parse with the installed executor plugins, apply their
per-rule resources, and name only rules that exist; the Dockerfile installs an existing extra."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomllib
import yaml

from conftest import ROOT, SNAKEMAKE
from test_envs import all_rules

PROFILES = ROOT / "profiles"
GPU_RULES = ("train_filler", "infer_iam")
# Two rules named like the GPU rules, with the `gpu` resource the workflow gives them.
TOY = """
rule all:
    input: "b.txt"

rule train_filler:
    output: "a.txt"
    resources: gpu=0
    shell: "echo a > {output}"

rule infer_iam:
    input: "a.txt"
    output: "b.txt"
    resources: gpu=0
    shell: "cat {input} > {output}"
"""


def profile(name: str) -> dict:
    return yaml.safe_load((PROFILES / name / "profile.yaml").read_text())


def dry_run(workdir: Path, name: str, *args: str, env: dict[str, str] | None = None) -> str:
    """`snakemake -n` of the toy workflow with profiles/<name>; its output (asserts success)."""
    (workdir / "Snakefile").write_text(TOY)
    result = subprocess.run(
        [str(SNAKEMAKE), "-n", "--workflow-profile", str(PROFILES / name), *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def job_resources(output: str, rule: str) -> str:
    """The `resources:` line of one rule's job in a dry run's output."""
    block = output.split(f"rule {rule}:", 1)[1]
    return next(line for line in block.splitlines() if line.strip().startswith("resources:"))


@pytest.mark.parametrize("name", ["slurm", "kubernetes"])
def test_profile_resources_name_existing_rules(name: str) -> None:
    rules = {rule for _, rule, _ in all_rules()}
    assert set(profile(name)["set-resources"]) <= rules


def test_gpu_rules_carry_the_gpu_resource() -> None:
    """Both profiles turn the rules' `gpu` resource into a GPU request (--gpus / nvidia.com/gpu)."""
    bodies = {rule: body for _, rule, body in all_rules()}
    for rule in GPU_RULES:
        assert "gpu=" in bodies[rule], f"rule {rule} declares no gpu resource"


@pytest.mark.slow
def test_slurm_profile_dry_run_applies_per_rule_resources(tmp_path: Path) -> None:
    settings = profile("slurm")
    assert settings["executor"] == "slurm"
    assert settings["slurm-status-command"] == "squeue" and settings["slurm-no-account"] is True
    output = dry_run(tmp_path, "slurm")
    for rule in GPU_RULES:
        wanted = settings["set-resources"][rule]
        line = job_resources(output, rule)
        assert f"mem_mb={wanted['mem_mb']}," in line and f"runtime={wanted['runtime']}" in line
    assert f"mem_mb={settings['default-resources']['mem_mb']}," in job_resources(output, "all")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    """A local S3 server (moto) with a bucket named `bucket`."""
    server = shutil.which("moto_server", path=str(SNAKEMAKE.parent))
    boto3 = pytest.importorskip("boto3", reason="boto3 comes with moto[server]")
    if server is None:
        pytest.skip("moto_server not installed (pip install 'moto[server]'): no local S3 to dry-run against")
    port = free_port()
    process = subprocess.Popen([server, "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="key",
            aws_secret_access_key="secret",
        )
        for _ in range(100):
            try:
                client.create_bucket(Bucket="bucket")
                break
            except Exception:  # the server is still starting
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
def test_kubernetes_profile_dry_run_keeps_artifacts_in_s3(tmp_path: Path, s3_endpoint: str) -> None:
    settings = profile("kubernetes")
    assert settings["executor"] == "kubernetes" and settings["default-storage-provider"] == "s3"
    env = {"IAM_IMAGE": "registry.example/iam-pipeline:0.1.0", "IAM_S3_PREFIX": "s3://bucket/iam"}
    output = dry_run(
        tmp_path,
        "kubernetes",
        "--storage-s3-endpoint-url",
        s3_endpoint,
        "--storage-s3-access-key",
        "key",
        "--storage-s3-secret-key",
        "secret",
        env=env,
    )
    assert "output: s3://bucket/iam/b.txt" in output
    assert "gpu_manufacturer=nvidia" in job_resources(output, "infer_iam")


def test_dockerfile_installs_a_declared_extra_and_copies_existing_paths() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    assert "RUN pip install -c requirements.lock '.[kubernetes]'" in lines and "kubernetes" in extras
    copied = [path for line in lines if line.startswith("COPY ") for path in line.split()[1:-1]]
    assert copied and all((ROOT / path).exists() for path in copied)
