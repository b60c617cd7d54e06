"""Pretraining the trunk on the generated many-class set (:mod:`iam.data.pretrain_set`).

The ImageNet recipe in miniature: a ResNet trunk, global average pooling and a linear classifier,
softmax cross entropy on single image labels, SGD with momentum, cosine decay, flips. The result is
saved as a torchvision-layout state dict (``conv1``, ``bn1``, ``layer1..4``, ``fc``), so
``backbone.weights`` loads it exactly as it loads torchvision's ImageNet ``.pth`` files. Per-epoch
checkpoints are resumed when the rule reruns after an interruption.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from iam.data.pretrain_set import generate, n_classes
from iam.data.synthetic import load_textures
from iam.data.transforms import normalise
from iam.errors import TrainingError
from iam.io.atomic import atomic_path
from iam.models.resnet import ResNet, resnet
from iam.training.backbone import write_metrics
from iam.training.checkpoint import load_latest, restore, run_fingerprint, save_checkpoint

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PretrainConfig:
    """The ``pretrain`` config section (the trunk's ``arch`` comes from ``backbone.arch``)."""

    arch: str = "resnet10"
    images: int = 2048
    val_images: int = 256
    image_size: int = 64
    epochs: int = 6
    batch_size: int = 32
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 1e-4


class Classifier(nn.Module):
    """Trunk + global average pooling + linear layer: torchvision's ResNet head."""

    def __init__(self, arch: str, classes: int) -> None:
        super().__init__()
        self.trunk: ResNet = resnet(arch)
        self.fc = nn.Linear(self.trunk.channels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.trunk(x).mean(dim=(2, 3)))

    def torchvision_state(self) -> dict[str, torch.Tensor]:
        """The weights under torchvision's names (what ``backbone.weights`` reads)."""
        state = dict(self.trunk.state_dict())
        state.update({f"fc.{k}": v for k, v in self.fc.state_dict().items()})
        return state


def _tensors(images: np.ndarray) -> torch.Tensor:
    return torch.stack([normalise(im) for im in images])


def accuracy(model: Classifier, x: torch.Tensor, y: torch.Tensor, batch: int) -> float:
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        pred = torch.cat([model(x[i:i + batch].to(device)).argmax(1).cpu() for i in range(0, len(x), batch)])
    return float((pred == y).float().mean())


def train_epoch(model: Classifier, x: torch.Tensor, y: torch.Tensor, optimizer: torch.optim.Optimizer,
                batch: int) -> float:
    """One shuffled pass with random flips (torch's global RNG); the mean loss."""
    model.train()
    device = next(model.parameters()).device
    order, total = torch.randperm(len(x)), 0.0
    for start in range(0, len(x), batch):
        idx = order[start:start + batch]
        xb = torch.where(torch.rand(len(idx), 1, 1, 1) < 0.5, x[idx].flip(-1), x[idx])
        loss = F.cross_entropy(model(xb.to(device)), y[idx].to(device))
        if not torch.isfinite(loss):
            raise TrainingError(f"pretraining loss is {loss.item()} at sample {start}; the last good checkpoint is kept")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    return total / len(x)


def pretrain(cfg: PretrainConfig, seed: int, out_dir: str | Path, device: torch.device = torch.device("cpu")) -> list[dict]:
    """Generate the set, train, write ``model.pth`` (torchvision layout) and ``metrics.{json,csv}``;
    the caller seeds the RNGs. Returns the per-epoch rows."""
    out_dir = Path(out_dir)
    textures = load_textures()
    train_images, train_labels = generate(cfg.images, cfg.image_size, seed, textures)
    val_images, val_labels = generate(cfg.val_images, cfg.image_size, seed + 1, textures)
    x, y, vx, vy = _tensors(train_images), torch.from_numpy(train_labels), _tensors(val_images), torch.from_numpy(val_labels)
    model = Classifier(cfg.arch, n_classes()).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    fingerprint = run_fingerprint({**asdict(cfg), "epochs": None, "seed": seed}, [])
    start, rows = 0, []
    state = load_latest(out_dir / "checkpoints", fingerprint)
    if state is not None:
        start, rows = restore(state, model, optimizer), state["extra"]["rows"]
    for epoch in range(start, cfg.epochs):
        for group in optimizer.param_groups:
            group["lr"] = cfg.lr * 0.5 * (1 + math.cos(math.pi * epoch / cfg.epochs))
        loss = train_epoch(model, x, y, optimizer, cfg.batch_size)
        rows.append({"epoch": epoch + 1, "loss": loss, "val_accuracy": accuracy(model, vx, vy, 128)})
        log.info("pretrain epoch %d: loss %.4f, val accuracy %.3f", epoch + 1, loss, rows[-1]["val_accuracy"])
        save_checkpoint(out_dir / "checkpoints", model, optimizer, epoch + 1, {"rows": rows, "fingerprint": fingerprint})
    with atomic_path(out_dir / "model.pth") as tmp:
        torch.save({k: v.cpu() for k, v in model.torchvision_state().items()}, tmp)
    write_metrics(rows, out_dir)
    return rows
