"""Interruptions: SIGKILL every long rule of the tiny config mid-run, resume, compare.

A fresh run of the tiny DAG is driven one long rule at a time (``--until RULE``). As soon as a job
of the rule is caught mid-run, the whole snakemake process group is SIGKILLed; everything left on
disk must be complete (or absent), and the run goes on after ``snakemake --unlock`` with
``--rerun-incomplete``. The finished run must equal the uninterrupted ``tiny_run`` artifact for
artifact, and both trainers must have resumed from their checkpoints to reach the same weights.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import yaml

from conftest import TINY, copy_workflow, run_differences, run_snakemake, start_snakemake, tiny_results
from iam.io.h5 import open_artifact

pytestmark = pytest.mark.e2e


def _half_written(pattern: str) -> Callable[[Path], bool]:
    """An atomic write of an output matching ``pattern`` is under way (its temporary file exists)."""
    return lambda out: any(out.glob(pattern))


def _between_epochs(pattern: str) -> Callable[[Path], bool]:
    """A trainer writing into a directory matching ``pattern`` has checkpointed epoch 1 of 2 but
    not written its model."""
    return lambda out: any(
        (d / "checkpoints" / "epoch0001.pt").exists() and not (d / "model.pt").exists() for d in out.glob(pattern)
    )


def _partial_proposal_dir(out: Path) -> bool:
    """A generate_proposals shard directory holds some .mat files but not yet its timing.json."""
    return any(
        any(d.glob("*.mat")) and not (d / "timing.json").exists() for d in out.glob("proposals/generated/mat/*/shard*")
    )


# The long rules of the tiny config in DAG order, each with the state of results/tiny in which one
# of its jobs is mid-run (a SIGKILL then leaves that state behind).
MID_RUN: dict[str, Callable[[Path], bool]] = {
    "train_backbone": _between_epochs("backbone"),
    "extract_prm": _half_written("prm/*/.shard*.h5.tmp-*"),
    "generate_proposals": _partial_proposal_dir,
    "make_pseudo_gt": _half_written("pseudo_gt/*/k*/.shard*.h5.tmp-*"),
    "train_filler": _between_epochs("filler/*/k*"),
    "infer_iam": _half_written("iam/*/k*/*/.shard*.tmp-*"),
}


def freeze_mid_run(proc: subprocess.Popen, mid_run: Callable[[Path], bool], out: Path) -> bool:
    """Wait until ``mid_run(out)`` holds, then SIGSTOP the process group led by ``proc`` and confirm
    it still holds in the frozen state (a job may have finished in between: then let it go on).
    False when snakemake ends first."""
    while proc.poll() is None:
        if mid_run(out):
            os.killpg(proc.pid, signal.SIGSTOP)
            if mid_run(out):
                return True
            os.killpg(proc.pid, signal.SIGCONT)
        time.sleep(0.01)
    return False


def kill_group(proc: subprocess.Popen, timeout: float = 10) -> None:
    """SIGKILL the process group led by ``proc`` and wait until none of its processes is left."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    pytest.fail(f"jobs of the killed snakemake (process group {proc.pid}) outlived SIGKILL")


def open_everything(out: Path) -> None:
    """Every HDF5 artifact, model/checkpoint and JSON file under ``out`` is complete: a half-written
    file must never carry a final name."""
    for path in out.rglob("*.h5"):
        open_artifact(path).close()
    for path in out.rglob("*.pt"):
        torch.load(path, map_location="cpu", weights_only=False)
    for path in out.rglob("*.json"):
        json.loads(path.read_text())


def state_dict(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=False)["state_dict"]


def test_every_long_rule_killed_mid_run_resumes_to_the_same_artifacts(tiny_run, tmp_path):
    work = copy_workflow(tmp_path / "work")
    config = yaml.safe_load((work / TINY).read_text())
    assert min(config["backbone"]["epochs"], config["filler"]["epochs"]) >= 2, "no checkpoint to resume from"
    out = tiny_results(work)
    killed: list[str] = []
    for rule, mid_run in MID_RUN.items():
        output = tmp_path / f"until_{rule}.out"
        proc = start_snakemake(work, "--rerun-incomplete", "--until", rule, output=output)
        if freeze_mid_run(proc, mid_run, out):
            kill_group(proc)
            killed.append(rule)
            open_everything(out)
            assert run_snakemake(work, "--unlock").returncode == 0  # a SIGKILL leaves Snakemake's lock behind
        else:
            assert proc.returncode == 0, output.read_text()[-3000:]
    assert killed == list(MID_RUN), "some rules finished before they were caught mid-run"

    result = run_snakemake(work, "--rerun-incomplete")
    assert result.returncode == 0, result.stderr[-3000:]

    ref = tiny_run.results
    assert re.search(r"resumed from \S+ after epoch 1", (out / "logs/train_backbone/train_backbone.log").read_text())
    assert any(
        re.search(r"resumed from \S+ after epoch 1", log.read_text())
        for log in (out / "logs/train_filler").glob("*.log")
    )
    for model in [Path("backbone/model.pt"), *sorted(p.relative_to(ref) for p in ref.glob("filler/*/k*/model.pt"))]:
        ours, theirs = state_dict(out / model), state_dict(ref / model)
        assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in theirs), model

    assert run_differences(ref, out) == {}
    metrics = "backbone/metrics.json"  # per-epoch loss and val mAP, the first epoch's from the checkpoint
    assert json.loads((out / metrics).read_text()) == json.loads((ref / metrics).read_text())
