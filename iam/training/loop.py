"""The epoch loop every trainer shares: resume from the newest checkpoint, one metrics row and one
checkpoint per epoch, ``metrics.json`` and ``metrics.csv`` at the end.

Rows, logs, errors and checkpoint names count epochs from 1 (``epoch`` = epochs completed); the
function that trains one epoch gets its 0-based index, which seeds and learning-rate schedules use.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from iam.errors import TrainingError
from iam.io.atomic import write_json, write_text
from iam.training.checkpoint import load_latest, restore, save_checkpoint

log = logging.getLogger(__name__)


def lr_factor(schedule: str, epoch: int, epochs: int) -> float:
    """Multiplier of the initial lr in ``epoch``: cosine decay, warmup_cosine (linear warm-up over
    the first 30 % of the epochs, then cosine decay), step (x0.1 at 1/2 and 3/4), or constant."""
    if schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * epoch / epochs))
    if schedule == "warmup_cosine":
        warm = round(0.3 * epochs)
        if epoch < warm:
            return (epoch + 1) / (warm + 1)
        return lr_factor("cosine", epoch - warm, epochs - warm)
    if schedule == "step":
        return 0.1 ** ((epoch >= epochs // 2) + (epoch >= 3 * epochs // 4))
    return 1.0


def step(optimizer: torch.optim.Optimizer, loss: torch.Tensor, epoch: int, batch: int) -> float:
    """Backpropagate ``loss`` and step; the loss value. A non-finite loss raises before the step that
    would use it, so the last checkpoint stays good."""
    if not torch.isfinite(loss):
        raise TrainingError(
            f"epoch {epoch + 1}, batch {batch}: loss is {loss.item()}; the last good checkpoint is kept"
        )
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()


def resume(
    directory: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    fingerprint: str | None,
    same: Mapping[str, Any],
) -> tuple[int, list[dict[str, float]]]:
    """Restore the newest checkpoint of ``directory`` written by run ``fingerprint`` when there is one;
    the epochs it completed and its metric rows. Its values of ``same`` must equal ours."""
    state = load_latest(directory, fingerprint)
    if state is None:
        return 0, []
    for key, value in same.items():
        if state["extra"].get(key) != value:
            raise TrainingError(f"{directory}: checkpoint was written with another {key}; delete it to start over")
    epoch = restore(state, model, optimizer)
    log.info("resumed from %s after epoch %d", directory, epoch)
    return epoch, state["extra"]["rows"]


def write_metrics(rows: list[dict[str, float]], out_dir: Path) -> None:
    """``metrics.json`` (the list of rows) and ``metrics.csv``."""
    write_json(out_dir / "metrics.json", rows)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    write_text(out_dir / "metrics.csv", buf.getvalue())


def run_epochs(
    out_dir: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    train_epoch: Callable[[int], dict[str, float]],
    fingerprint: str | None = None,
    schedule: str = "constant",
    same: Mapping[str, Any] | None = None,
) -> list[dict[str, float]]:
    """Train ``epochs`` epochs, resuming from ``out_dir/checkpoints`` (:func:`resume`); returns the rows.

    Each epoch sets every parameter group's lr to its initial lr (as ``optimizer`` was built, also
    after a resume) times ``lr_factor(schedule, epoch, epochs)``, runs ``train_epoch(epoch)``
    (its metrics, loss first), appends the row ``epoch``, metrics, ``lr`` (the first group's) and saves
    ``model`` and ``optimizer`` with the rows, ``fingerprint`` and ``same``. Writes the metrics files.
    """
    directory, same = out_dir / "checkpoints", dict(same or {})
    initial = [group["lr"] for group in optimizer.param_groups]
    start, rows = resume(directory, model, optimizer, fingerprint, same)
    for epoch in range(start, epochs):
        for group, lr in zip(optimizer.param_groups, initial):
            group["lr"] = lr * lr_factor(schedule, epoch, epochs)
        rows.append({"epoch": epoch + 1, **train_epoch(epoch), "lr": optimizer.param_groups[0]["lr"]})
        log.info(
            "epoch %d/%d: %s", epoch + 1, epochs, ", ".join(f"{k} {v:.4g}" for k, v in rows[-1].items() if k != "epoch")
        )
        save_checkpoint(directory, model, optimizer, epoch + 1, {"rows": rows, "fingerprint": fingerprint, **same})
    write_metrics(rows, out_dir)
    return rows
