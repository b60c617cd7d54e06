"""Pretraining the trunk on the generated many-class set (:mod:`iam.data.pretrain_set`).

The ImageNet recipe in miniature: a ResNet trunk (dilated as the benchmark's backbone is), global
average pooling and a linear classifier, softmax cross entropy on single image labels, SGD with
Nesterov momentum, a linear warm-up then cosine decay, flips. Every epoch draws a new set of
images (seeded by ``(seed, epoch)``), so the trunk cannot memorise it. The result is
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

from iam.data.pretrain_set import generate, hue_of, n_classes, outline_of
from iam.data.synthetic import load_textures
from iam.data.transforms import normalise
from iam.io.atomic import atomic_path
from iam.models.backbone import dilate_trunk
from iam.models.resnet import ResNet, resnet
from iam.training.checkpoint import run_fingerprint
from iam.training.loop import run_epochs, step

VAL_STREAM = 1 << 20  # the held-out set's key; epochs use (seed, epoch)


@dataclass(frozen=True)
class PretrainConfig:
    """The ``pretrain`` config section (the trunk's ``arch`` comes from ``backbone.arch``)."""

    arch: str = "resnet10"
    dilate_layer3: bool = False
    dilate_layer4: bool = False
    images: int = 2048
    val_images: int = 512
    image_size: int = 64
    epochs: int = 12
    batch_size: int = 64
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 1e-4


class Classifier(nn.Module):
    """Trunk + global average pooling + linear layer: torchvision's ResNet head."""

    def __init__(self, arch: str, classes: int, dilate_layer3: bool = False, dilate_layer4: bool = False) -> None:
        super().__init__()
        self.trunk: ResNet = resnet(arch)
        dilate_trunk(self.trunk, dilate_layer3, dilate_layer4)
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


def accuracy(model: Classifier, x: torch.Tensor, y: torch.Tensor, batch: int) -> dict[str, float]:
    """Held-out accuracy of the class, and of each of its two factors (outline family, hue bin)."""
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        predicted = [model(x[i : i + batch].to(device)).argmax(1).cpu() for i in range(0, len(x), batch)]
    pred, true = torch.cat(predicted).numpy(), y.numpy()
    hits = {
        "val_accuracy": pred == true,
        "val_outline_accuracy": outline_of(pred) == outline_of(true),
        "val_hue_accuracy": hue_of(pred) == hue_of(true),
    }
    return {k: float(v.mean(dtype=np.float32)) for k, v in hits.items()}


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
    """Train on a new set each epoch, write ``model.pth`` (torchvision layout) and
    ``metrics.{json,csv}``; the caller seeds the RNGs. Returns the per-epoch rows."""
    out_dir = Path(out_dir)
    textures = load_textures()
    val_images, val_labels = generate(cfg.val_images, cfg.image_size, [seed, VAL_STREAM], textures)
    vx, vy = _tensors(val_images), torch.from_numpy(val_labels)
    model = Classifier(cfg.arch, n_classes(), cfg.dilate_layer3, cfg.dilate_layer4).to(device or torch.device("cpu"))
    optimizer = torch.optim.SGD(
        model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, nesterov=cfg.momentum > 0
    )
    fingerprint = run_fingerprint({**asdict(cfg), "epochs": None, "seed": seed}, [])

    def epoch_metrics(epoch: int) -> dict[str, float]:
        images, labels = generate(cfg.images, cfg.image_size, [seed, epoch], textures)
        loss = train_epoch(model, _tensors(images), torch.from_numpy(labels), optimizer, cfg.batch_size, epoch)
        return {"loss": loss, **accuracy(model, vx, vy, 128)}

    rows = run_epochs(
        out_dir,
        model,
        optimizer,
        cfg.epochs,
        epoch_metrics,
        fingerprint,
        schedule="warmup_cosine",
    )
    with atomic_path(out_dir / "model.pth") as tmp:
        torch.save({k: v.cpu() for k, v in model.torchvision_state().items()}, tmp)
    return rows
