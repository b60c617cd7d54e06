"""Self-supervised pretraining of the trunk on the benchmark's own training images, labels unread.

SimCLR (Chen et al., ICML 2020) in miniature: two random crops of every image go through the
trunk, global average pooling and a two-layer projection; the NT-Xent loss asks each view to find
its twin among the batch's other views. Hue and saturation are not jittered and no view is turned
grey, unlike SimCLR's recipe: the benchmark's classes are told by a part's colour, and a trunk made
blind to colour left the backbone trained from it at val mAP 0.69 against 0.97 from scratch
(README, method notes). The trunk is saved in torchvision's layout, as :mod:`iam.training.pretrain`
saves the stand-in's, so ``backbone.weights`` loads it the same way. Every epoch reseeds the
augmentations from ``(seed, epoch)``, so a run resumed from its per-epoch checkpoint ends where an
uninterrupted one does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.transforms import v2

from iam.data.transforms import MEAN, STD, resize
from iam.data.voc import read_image
from iam.io.atomic import atomic_path
from iam.models.backbone import dilate_trunk
from iam.models.resnet import ResNet, resnet
from iam.training.backbone import precision
from iam.training.checkpoint import run_fingerprint
from iam.training.loop import run_epochs, step


@dataclass(frozen=True)
class SelfSupConfig:
    """The ``selfsup`` config section (the trunk's ``arch`` and dilation come from ``backbone``)."""

    arch: str = "resnet10"
    dilate_layer3: bool = False
    dilate_layer4: bool = False
    image_size: int = 64
    min_crop: float = 0.15
    jitter: float = 0.2
    epochs: int = 60
    batch_size: int = 128
    lr: float = 0.002
    weight_decay: float = 1e-4
    temperature: float = 0.2


class Contrastive(nn.Module):
    """Trunk + global average pooling + SimCLR's projection (Linear-ReLU-Linear to 128 dimensions)."""

    def __init__(self, arch: str, dilate_layer3: bool = False, dilate_layer4: bool = False) -> None:
        super().__init__()
        self.trunk: ResNet = resnet(arch)
        dilate_trunk(self.trunk, dilate_layer3, dilate_layer4)
        width = self.trunk.channels
        self.projection = nn.Sequential(nn.Linear(width, width), nn.ReLU(inplace=True), nn.Linear(width, 128))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.projection(self.trunk(x).mean(dim=(2, 3)))


def load_images(voc_root: str | Path, image_ids: list[str], size: int) -> torch.Tensor:
    """The images alone, resized to ``size``: (n, 3, size, size) uint8. No label or annotation is read."""
    return torch.stack([torch.from_numpy(resize(read_image(voc_root, i), size)).permute(2, 0, 1) for i in image_ids])


def augmentation(cfg: SelfSupConfig) -> v2.Transform:
    """A random crop of at least ``min_crop`` of the image at ``image_size``, a flip, and brightness and
    contrast jitter on half the views (colour itself is kept; module docstring)."""
    return v2.Compose(
        [
            v2.RandomResizedCrop(cfg.image_size, scale=(cfg.min_crop, 1.0), antialias=True),
            v2.RandomHorizontalFlip(),
            v2.RandomApply([v2.ColorJitter(brightness=cfg.jitter, contrast=cfg.jitter)], p=0.5),
        ]
    )


def views(images: torch.Tensor, augment: v2.Transform) -> torch.Tensor:
    """One augmented view of each uint8 image, ImageNet-normalised float32 (torch's global RNG)."""
    mean, std = (torch.from_numpy(v).view(1, 3, 1, 1) for v in (MEAN, STD))
    return (torch.stack([augment(im) for im in images]).float() / 255 - mean) / std


def nt_xent(z: torch.Tensor, temperature: float) -> tuple[torch.Tensor, float]:
    """NT-Xent over 2n embeddings whose rows i and i + n are two views of one image: the loss and the
    share of views whose most similar other view is their twin."""
    z = F.normalize(z.float(), dim=1)
    n = len(z) // 2
    similarity = (z @ z.t() / temperature).fill_diagonal_(float("-inf"))
    twin = torch.arange(2 * n, device=z.device).roll(n)
    found = (similarity.argmax(1) == twin).float().mean().item()
    return F.cross_entropy(similarity, twin), found


def train_epoch(
    model: Contrastive,
    images: torch.Tensor,
    cfg: SelfSupConfig,
    optimizer: torch.optim.Optimizer,
    epoch: int,
    dtype: torch.dtype,
) -> dict[str, float]:
    """One shuffled pass over batches of ``min(batch_size, n)`` images (the last partial one dropped)."""
    model.train()
    device = next(model.parameters()).device
    augment, batch = augmentation(cfg), min(cfg.batch_size, len(images))
    order, losses, found = torch.randperm(len(images)), [], []
    for b, start in enumerate(range(0, len(images) - batch + 1, batch)):
        chunk = images[order[start : start + batch]]
        x = torch.cat([views(chunk, augment), views(chunk, augment)]).to(device)
        with precision(device, dtype):
            z = model(x)
        loss, share = nt_xent(z, cfg.temperature)
        losses.append(step(optimizer, loss, epoch, b))
        found.append(share)
    return {"loss": float(np.mean(losses)), "view_accuracy": float(np.mean(found))}


def pretrain_selfsup(
    images: torch.Tensor,
    cfg: SelfSupConfig,
    seed: int,
    out_dir: str | Path,
    device: torch.device,
    dtype: torch.dtype = torch.float32,
) -> list[dict]:
    """Train on ``images`` (uint8, from :func:`load_images`), write ``model.pth`` (the trunk in
    torchvision's layout) and ``metrics.{json,csv}``; returns the per-epoch rows."""
    out_dir = Path(out_dir)
    torch.manual_seed(seed)
    model = Contrastive(cfg.arch, cfg.dilate_layer3, cfg.dilate_layer4).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    fingerprint = run_fingerprint({**asdict(cfg), "epochs": None, "seed": seed, "images": len(images)}, [])

    def epoch_metrics(epoch: int) -> dict[str, float]:
        torch.manual_seed(seed * 100_003 + epoch)
        return train_epoch(model, images, cfg, optimizer, epoch, dtype)

    rows = run_epochs(out_dir, model, optimizer, cfg.epochs, epoch_metrics, fingerprint, schedule="cosine")
    with atomic_path(out_dir / "model.pth") as tmp:
        torch.save({k: v.cpu() for k, v in model.trunk.state_dict().items()}, tmp)
    return rows
