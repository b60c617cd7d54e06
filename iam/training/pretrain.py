"""Pretraining the trunk on the generated many-class set (:mod:`iam.data.pretrain_set`).

The ImageNet recipe in miniature: a ResNet trunk, global average pooling and a linear classifier,
softmax cross entropy on single image labels, SGD with momentum, cosine decay, flips. The result is
saved as a torchvision-layout state dict (``conv1``, ``bn1``, ``layer1..4``, ``fc``), so
``backbone.weights`` loads it exactly as it loads torchvision's ImageNet ``.pth`` files. Per-epoch
checkpoints are resumed when the rule reruns after an interruption (:mod:`iam.training.loop`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from iam.data.pretrain_set import generate, n_classes
from iam.data.synthetic import load_textures
from iam.data.transforms import normalise
from iam.io.atomic import atomic_path
from iam.models.resnet import ResNet, resnet
from iam.training.checkpoint import run_fingerprint
from iam.training.loop import lr_factor, run_epochs, step


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
        pred = torch.cat([model(x[i : i + batch].to(device)).argmax(1).cpu() for i in range(0, len(x), batch)])
    return float((pred == y).float().mean())


def train_epoch(
    model: Classifier, x: torch.Tensor, y: torch.Tensor, optimizer: torch.optim.Optimizer, batch: int, epoch: int
) -> float:
    """One shuffled pass in (0-based) ``epoch`` with random flips (torch's global RNG); the mean loss."""
    model.train()
    device = next(model.parameters()).device
    order, total = torch.randperm(len(x)), 0.0
    for b, start in enumerate(range(0, len(x), batch)):
        idx = order[start : start + batch]
        xb = torch.where(torch.rand(len(idx), 1, 1, 1) < 0.5, x[idx].flip(-1), x[idx])
        loss = F.cross_entropy(model(xb.to(device)), y[idx].to(device))
        total += step(optimizer, loss, epoch, b) * len(idx)
    return total / len(x)


def pretrain(cfg: PretrainConfig, seed: int, out_dir: str | Path, device: torch.device | None = None) -> list[dict]:
    """Generate the set, train, write ``model.pth`` (torchvision layout) and ``metrics.{json,csv}``;
    the caller seeds the RNGs. Returns the per-epoch rows."""
    out_dir = Path(out_dir)
    textures = load_textures()
    train_images, train_labels = generate(cfg.images, cfg.image_size, seed, textures)
    val_images, val_labels = generate(cfg.val_images, cfg.image_size, seed + 1, textures)
    x, y, vx, vy = (
        _tensors(train_images),
        torch.from_numpy(train_labels),
        _tensors(val_images),
        torch.from_numpy(val_labels),
    )
    model = Classifier(cfg.arch, n_classes()).to(device or torch.device("cpu"))
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    fingerprint = run_fingerprint({**asdict(cfg), "epochs": None, "seed": seed}, [])

    def epoch_metrics(epoch: int) -> dict[str, float]:
        loss = train_epoch(model, x, y, optimizer, cfg.batch_size, epoch)
        return {"loss": loss, "val_accuracy": accuracy(model, vx, vy, 128)}

    rows = run_epochs(
        out_dir,
        model,
        optimizer,
        cfg.epochs,
        epoch_metrics,
        fingerprint,
        lr=lambda epoch: cfg.lr * lr_factor("cosine", epoch, cfg.epochs),
    )
    with atomic_path(out_dir / "model.pth") as tmp:
        torch.save({k: v.cpu() for k, v in model.torchvision_state().items()}, tmp)
    return rows
