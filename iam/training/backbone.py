"""Backbone training with image-level labels only (paper §3.1, §4 training details).

Multi-label soft margin loss on the peak-stimulated scores, SGD with two parameter groups
(``lr`` for the classifier, ``trunk_lr`` for the ResNet trunk, both scaled by ``schedule`` over the
epochs), horizontal flips, a fixed input
size; ``dtype`` bfloat16 runs the forward (and so the backward) convolutions under autocast, weights
and loss stay float32 (``auto``: bfloat16 where native, :func:`iam.device.resolve_dtype`). After every
epoch: classification mAP on val, a checkpoint (resumed from when rerun;
:mod:`iam.training.loop`). Outputs in ``out_dir``: ``model.pt`` (atomic), ``metrics.json``,
``metrics.csv`` (``epoch``, ``loss``, ``val_map``, ``lr``), ``checkpoints/``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from iam.data.datasets import ImageLabelDataset
from iam.device import resolve_dtype
from iam.io.atomic import atomic_path
from iam.models.backbone import PeakBackbone, save_backbone
from iam.training.checkpoint import run_fingerprint
from iam.training.loop import run_epochs, step

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackboneConfig:
    """The ``backbone`` config section."""

    arch: str = "resnet18"
    weights: str = "none"
    dilate_layer3: bool = True
    dilate_layer4: bool = True
    input_size: int = 128
    epochs: int = 6
    batch_size: int = 32
    lr: float = 0.01
    trunk_lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 1e-4
    schedule: str = "constant"
    dtype: str = "auto"


def average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """Non-interpolated AP of one class: mean precision at the rank of each positive (NaN without positives)."""
    if labels.sum() == 0:
        return float("nan")
    hits = labels[np.argsort(-scores, kind="stable")] > 0
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision[hits].mean())


def classification_map(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mean over classes with positives of the per-class AP of (N, C) scores against (N, C) labels."""
    return float(np.nanmean([average_precision(scores[:, c], labels[:, c]) for c in range(labels.shape[1])]))


def build_optimizer(model: PeakBackbone, cfg: BackboneConfig) -> torch.optim.SGD:
    """SGD: ``lr`` for the classifier, ``trunk_lr`` for the trunk."""
    groups = [
        {"params": list(model.classifier.parameters()), "lr": cfg.lr},
        {"params": model.trunk_parameters(), "lr": cfg.trunk_lr},
    ]
    return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


def precision(device: torch.device, dtype: torch.dtype) -> torch.autocast:
    """The autocast context of the forward pass: bfloat16 convolutions, or none for float32."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=dtype == torch.bfloat16)


def train_epoch(
    model: nn.Module,
    loader: DataLoader,
    optimizer: torch.optim.Optimizer,
    epoch: int,
    device: torch.device,
    dtype: torch.dtype = torch.float32,
) -> float:
    """One pass over ``loader`` in (0-based) ``epoch``; mean loss."""
    model.train()
    criterion, total, count = nn.MultiLabelSoftMarginLoss(), 0.0, 0
    for batch, (x, y) in enumerate(tqdm(loader, desc=f"epoch {epoch + 1}", mininterval=10)):
        with precision(device, dtype):
            scores = model(x.to(device)).scores
        loss = criterion(scores, y.to(device))
        total, count = total + step(optimizer, loss, epoch, batch) * len(x), count + len(x)
    return total / count


@torch.no_grad()
def evaluate(
    model: nn.Module, data: ImageLabelDataset, device: torch.device, batch_size: int, dtype: torch.dtype = torch.float32
) -> float:
    """Classification mAP of ``model`` on ``data``."""
    model.eval()
    with precision(device, dtype):
        scores = [model(x.to(device)).scores.cpu() for x, _ in DataLoader(data, batch_size=batch_size)]
    return classification_map(torch.cat(scores).numpy(), data.labels.numpy())


def train_fingerprint(
    cfg: BackboneConfig,
    classes: list[str],
    seed: int | None = None,
    inputs: Sequence[str | Path] = (),
) -> str:
    """The run identity checkpoints must match to be resumed: config but ``epochs`` (which may grow),
    classes, seed, and the input files' size + mtime."""
    return run_fingerprint({**asdict(cfg), "epochs": None, "classes": list(classes), "seed": seed}, inputs)


def train_backbone(
    voc_root: str | Path,
    train_ids: list[str],
    val_ids: list[str],
    classes: list[str],
    cfg: BackboneConfig,
    device: torch.device,
    out_dir: str | Path,
    fingerprint: str | None = None,
) -> list[dict]:
    """Train the backbone, resuming from checkpoints of the same run (``fingerprint``, by default
    :func:`train_fingerprint` of the config); the caller seeds the RNGs. Returns the per-epoch metrics."""
    out_dir, dtype = Path(out_dir), resolve_dtype(cfg.dtype, device, "backbone.dtype")
    log.info("training in %s on %s", dtype, device)
    fingerprint = fingerprint or train_fingerprint(cfg, classes)
    model = PeakBackbone(cfg.arch, len(classes), cfg.dilate_layer3, cfg.dilate_layer4, cfg.weights).to(device)
    optimizer = build_optimizer(model, cfg)
    train = ImageLabelDataset(voc_root, train_ids, classes, cfg.input_size, flip=True)
    val = ImageLabelDataset(voc_root, val_ids, classes, cfg.input_size)

    def epoch_metrics(epoch: int) -> dict[str, float]:
        loader = DataLoader(train, batch_size=cfg.batch_size, shuffle=True, num_workers=0)
        loss = train_epoch(model, loader, optimizer, epoch, device, dtype)
        return {"loss": loss, "val_map": evaluate(model, val, device, cfg.batch_size, dtype)}

    rows = run_epochs(
        out_dir,
        model,
        optimizer,
        cfg.epochs,
        epoch_metrics,
        fingerprint,
        schedule=cfg.schedule,
    )
    with atomic_path(out_dir / "model.pt") as tmp:
        save_backbone(model, classes, tmp)
    return rows
