"""Generic resumable checkpoints: model, optimizer, epoch, Python/NumPy/torch RNG states, extra.

Files are ``<dir>/epoch<NNNN>.pt`` (NNNN = epochs completed), written atomically; the newest
``keep`` are kept. :func:`load_latest` + :func:`restore` continue a run exactly where it stopped.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from iam.errors import InputError
from iam.io.atomic import atomic_path
from iam.io.h5 import config_hash

log = logging.getLogger(__name__)

PATTERN = re.compile(r"epoch(\d{4,})\.pt$")


def rng_state() -> dict[str, Any]:
    """Python, NumPy and torch (CPU, and CUDA when present) RNG states."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Inverse of :func:`rng_state`."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def checkpoints(directory: str | Path) -> list[Path]:
    """Checkpoint files of ``directory``, oldest first."""
    directory = Path(directory)
    found = [p for p in directory.glob("epoch*.pt") if PATTERN.search(p.name)] if directory.is_dir() else []
    return sorted(found, key=_epoch)


def _epoch(path: Path) -> int:
    """The epoch number in a checkpoint file name."""
    match = PATTERN.search(path.name)
    assert match is not None, path
    return int(match.group(1))


def save_checkpoint(
    directory: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    epoch: int,
    extra: dict[str, Any] | None = None,
    keep: int = 2,
) -> Path:
    """Save the state after ``epoch`` completed epochs; drop all but the newest ``keep`` files."""
    path = Path(directory) / f"epoch{epoch:04d}.pt"
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": epoch,
        "rng": rng_state(),
        "extra": extra or {},
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    for old in checkpoints(directory)[:-keep]:
        old.unlink()
    return path


def run_fingerprint(params: Mapping[str, Any], inputs: Iterable[str | Path]) -> str:
    """Identity of a training run: its parameters and the size + mtime of every input file.

    A checkpoint resumes only the run that wrote it; when Snakemake reruns a rule because an
    input or parameter changed, the old checkpoints no longer match and training starts afresh.
    """
    stats = [(str(p), Path(p).stat().st_size, Path(p).stat().st_mtime_ns) for p in inputs if Path(p).is_file()]
    return config_hash({"params": dict(params), "inputs": stats})


def load_latest(directory: str | Path, fingerprint: str | None = None) -> dict[str, Any] | None:
    """The newest checkpoint of ``directory`` (None when there is none).

    With ``fingerprint``, checkpoints written by another run (see :func:`run_fingerprint`) are
    deleted and None is returned.
    """
    found = checkpoints(directory)
    if not found:
        return None
    try:
        state = torch.load(found[-1], map_location="cpu", weights_only=False)
    except Exception as exc:  # torch.load fails in many ways on a truncated file
        raise InputError(found[-1], f"unreadable checkpoint (delete it to restart that epoch): {exc}") from exc
    if fingerprint is not None and state.get("extra", {}).get("fingerprint") != fingerprint:
        log.warning("%s: checkpoints belong to another run (inputs or parameters changed); starting afresh", directory)
        for path in found:
            path.unlink()
        return None
    return state


def restore(state: dict[str, Any], model: nn.Module, optimizer: torch.optim.Optimizer) -> int:
    """Load a checkpoint into ``model``/``optimizer`` and the RNGs; returns the epochs completed."""
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    set_rng_state(state["rng"])
    return int(state["epoch"])
