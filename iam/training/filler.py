"""Train the filling module on pseudo GT (paper §3.2-3.3): BCE between IAM logits and one of each
peak's top-k candidate proposals, sampled anew in every pass (k = 1 is deterministic).

The backbone is frozen by default, so its res2/res3/res4 features are computed once per image and
cached (float16); ``finetune_backbone`` runs it in every step instead. PRMs (rescaled to max 1) and
candidate masks are resized to the network input once. Every epoch draws its image order, peak
subset and candidates from ``numpy.random.default_rng((seed, epoch))``, so a run resumed from an
epoch checkpoint repeats an uninterrupted run exactly on CPU.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from iam.data.transforms import to_tensor
from iam.data.voc import read_image
from iam.errors import ArtifactError, TrainingError
from iam.io.atomic import atomic_path
from iam.io.h5 import open_artifact
from iam.models.filling import LEVELS, FillingModule
from iam.training.checkpoint import load_latest, restore, save_checkpoint

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FillerConfig:
    """Architecture and optimisation settings (config section ``filler``)."""

    channels: int = 8
    radius: int = 3
    pyramid_channels: int = 64
    epochs: int = 4
    batch_size: int = 16
    peaks_per_image: int = 2
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    schedule: str = "cosine"
    finetune_backbone: bool = False
    amp: bool = False
    recompute: bool = True
    seed: int = 0


@dataclass
class Sample:
    """One training image at network input size S."""

    image_id: str
    image: torch.Tensor  # (3, S, S) normalised network input
    prms: torch.Tensor  # (n, S, S) float16, each rescaled to max 1
    masks: torch.Tensor  # (m, S, S) uint8 candidate proposals
    candidates: np.ndarray  # (n, k) int64 rows into masks, -1 = none (every row has >= 1)


def resize_stack(maps: np.ndarray, size: int, interpolation: int) -> np.ndarray:
    """(n, H, W) -> (n, size, size) with OpenCV."""
    return np.stack([cv2.resize(m, (size, size), interpolation=interpolation) for m in maps]) if len(maps) else (
        np.zeros((0, size, size), maps.dtype))


def scale_to_max(prms: np.ndarray) -> np.ndarray:
    """Rescale each (non-zero) map to max 1, the filler's PRM input convention."""
    peak = prms.reshape(len(prms), -1).max(1) if len(prms) else np.zeros(0, prms.dtype)
    return prms / np.where(peak > 0, peak, 1)[:, None, None]


def load_samples(
    voc_root: str | Path, prm_path: str | Path, pseudo_gt_path: str | Path, image_ids: list[str],
    input_size: int, k: int, source: str,
) -> list[Sample]:
    """Training samples of ``image_ids``: peaks with a candidate and a non-zero PRM only."""
    samples, skipped = [], {"no_candidate": 0, "zero_prm": 0}
    with open_artifact(prm_path, "prm") as prm_f, open_artifact(pseudo_gt_path, "pseudo_gt") as pgt_f:
        check_pseudo_gt(pgt_f, pseudo_gt_path, k, source)
        for image_id in image_ids:
            g = pgt_f[image_id]
            cands = g["candidates"][()]
            prms = prm_f[image_id]["prm"][()][g["prm_index"][()]].astype(np.float32)
            peak = prms.reshape(len(prms), -1).max(1) if len(prms) else np.zeros(0)
            has_cand, nonzero = (cands >= 0).any(1), peak > 0
            skipped["no_candidate"] += int((~has_cand).sum())
            skipped["zero_prm"] += int((has_cand & ~nonzero).sum())
            keep = has_cand & nonzero
            if not keep.any():
                continue
            prms = scale_to_max(resize_stack(prms[keep], input_size, cv2.INTER_AREA))
            masks = resize_stack(g["masks"][()], input_size, cv2.INTER_NEAREST)
            image = to_tensor(read_image(voc_root, image_id), input_size)
            samples.append(Sample(image_id, image, torch.from_numpy(prms).half(), torch.from_numpy(masks), cands[keep]))
    log.info("%d training images; peaks skipped: %s", len(samples), skipped)
    return samples


def check_pseudo_gt(f, path: str | Path, k: int, source: str) -> None:
    """The pseudo-GT file must be the one for this ``k`` and proposal ``source``."""
    found = (int(f.attrs.get("k", -1)), str(f.attrs.get("source", "")))
    if found != (k, source):
        raise ArtifactError(path, f"pseudo GT is for k={found[0]}, source={found[1]!r}; expected k={k}, source={source!r}")


def cache_features(backbone: nn.Module, images: list[torch.Tensor], device: torch.device, batch: int = 32) -> list[dict[str, torch.Tensor]]:
    """res2/res3/res4 of every image, computed once with the frozen backbone (float16, on ``device``)."""
    cached = []
    with torch.no_grad():
        for start in range(0, len(images), batch):
            feats = backbone(torch.stack(images[start:start + batch]).to(device)).features
            for i in range(len(feats[LEVELS[0]])):
                cached.append({level: feats[level][i].half() for level in LEVELS})
    return cached


def lr_factor(schedule: str, epoch: int, epochs: int) -> float:
    """Multiplier of the initial lr in ``epoch``: cosine decay, step (x0.1 at 1/2 and 3/4), or constant."""
    if schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * epoch / epochs))
    if schedule == "step":
        return 0.1 ** ((epoch >= epochs // 2) + (epoch >= 3 * epochs // 4))
    return 1.0


def draw_batch(samples: list[Sample], rng: np.random.Generator, peaks_per_image: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(P, 1, S, S) PRMs, (P,) owner index within the batch, (P, 1, S, S) sampled pseudo-GT masks."""
    prms, owner, targets = [], [], []
    for b, s in enumerate(samples):
        rows = np.arange(len(s.candidates))
        if len(rows) > peaks_per_image:
            rows = np.sort(rng.choice(rows, peaks_per_image, replace=False))
        for row in rows:
            valid = s.candidates[row][s.candidates[row] >= 0]
            targets.append(s.masks[int(valid[rng.integers(len(valid))])])
            prms.append(s.prms[row])
            owner.append(b)
    return (torch.stack(prms)[:, None].float(), torch.tensor(owner), torch.stack(targets)[:, None].float())


@dataclass
class Trainer:
    """State of one filler training run."""

    model: FillingModule
    backbone: nn.Module
    optimizer: torch.optim.Optimizer
    cfg: FillerConfig
    device: torch.device

    def features(self, batch: list[Sample], cache: list[dict[str, torch.Tensor]] | None, idx: np.ndarray) -> dict[str, torch.Tensor]:
        if cache is None:
            return self.backbone(torch.stack([s.image for s in batch]).to(self.device)).features
        return {level: torch.stack([cache[i][level] for i in idx]).float() for level in LEVELS}

    def epoch(self, samples: list[Sample], cache: list[dict[str, torch.Tensor]] | None, epoch: int) -> float:
        """One pass over ``samples``; returns the mean loss."""
        rng = np.random.default_rng((self.cfg.seed, epoch))
        order = rng.permutation(len(samples))
        batches = [order[i:i + self.cfg.batch_size] for i in range(0, len(order), self.cfg.batch_size)]
        total, count = 0.0, 0
        for b, idx in enumerate(tqdm(batches, desc=f"filler epoch {epoch}", leave=False, mininterval=10)):
            batch = [samples[i] for i in idx]
            prms, owner, target = draw_batch(batch, rng, self.cfg.peaks_per_image)
            with self.autocast():
                logits = self.model(prms.to(self.device), self.features(batch, cache, idx), owner.to(self.device))
            loss = F.binary_cross_entropy_with_logits(logits.float(), target.to(self.device))
            if not torch.isfinite(loss):
                raise TrainingError(f"filler loss is {loss.item()} at epoch {epoch}, batch {b}; last good checkpoint kept")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            total, count = total + loss.item() * len(prms), count + len(prms)
        return total / max(count, 1)

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.cfg.amp and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()


def build_model(in_channels: dict[str, int], cfg: FillerConfig) -> FillingModule:
    return FillingModule(in_channels, cfg.channels, cfg.radius, cfg.pyramid_channels, cfg.recompute)


def feature_channels(backbone: nn.Module, input_size: int, device: torch.device) -> dict[str, int]:
    with torch.no_grad():
        feats = backbone(torch.zeros(1, 3, input_size, input_size, device=device)).features
    return {level: int(feats[level].shape[1]) for level in LEVELS}


def train(
    backbone: nn.Module, samples: list[Sample], cfg: FillerConfig, device: torch.device,
    out_dir: str | Path, fingerprint: str | None = None,
) -> FillingModule:
    """Train (resuming from ``out_dir/checkpoints/`` when it holds a checkpoint of the run
    ``fingerprint``); write ``model.pt`` and ``metrics.csv``."""
    out_dir = Path(out_dir)
    if not samples:
        raise TrainingError("no training peak has a pseudo-GT candidate; nothing to train the filler on")
    torch.manual_seed(cfg.seed)
    input_size = samples[0].image.shape[-1]
    backbone = backbone.to(device).train(cfg.finetune_backbone)
    backbone.requires_grad_(cfg.finetune_backbone)
    model = build_model(feature_channels(backbone, input_size, device), cfg).to(device)
    params = list(model.parameters()) + (list(backbone.parameters()) if cfg.finetune_backbone else [])
    optimizer = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    trainer = Trainer(model, backbone, optimizer, cfg, device)
    start, rows = resume(out_dir / "checkpoints", trainer, fingerprint)
    cache = None if cfg.finetune_backbone else cache_features(backbone, [s.image for s in samples], device)
    for epoch in range(start, cfg.epochs):
        for group in optimizer.param_groups:
            group["lr"] = cfg.lr * lr_factor(cfg.schedule, epoch, cfg.epochs)
        tic = time.perf_counter()
        loss = trainer.epoch(samples, cache, epoch)
        seconds = time.perf_counter() - tic
        rows.append({"epoch": epoch, "loss": loss, "lr": optimizer.param_groups[0]["lr"],
                     "seconds": seconds, "images_per_s": len(samples) / seconds})
        log.info("epoch %d loss %.4f (%.1f s, %.1f img/s)", epoch, loss, seconds, len(samples) / seconds)
        save_checkpoint(out_dir / "checkpoints", trained_modules(trainer), optimizer, epoch + 1,
                        {"rows": rows, "config": asdict(cfg), "fingerprint": fingerprint})
    write_metrics(out_dir / "metrics.csv", rows)
    save_model(out_dir / "model.pt", model, cfg, input_size)
    return model.eval()


def trained_modules(trainer: Trainer) -> nn.ModuleDict:
    """What a checkpoint holds: the filler, plus the backbone when it is fine-tuned."""
    modules = {"filler": trainer.model}
    if trainer.cfg.finetune_backbone:
        modules["backbone"] = trainer.backbone
    return nn.ModuleDict(modules)


def resume(directory: Path, trainer: Trainer, fingerprint: str | None = None) -> tuple[int, list[dict]]:
    """Restore the newest checkpoint of ``directory`` written by run ``fingerprint`` when there is
    one; return the next epoch and the metric rows so far."""
    state = load_latest(directory, fingerprint)
    if state is None:
        return 0, []
    if state["extra"].get("config") != asdict(trainer.cfg):
        raise TrainingError(f"{directory}: checkpoint was written with another filler config; delete it to start over")
    epoch = restore(state, trained_modules(trainer), trainer.optimizer)
    log.info("resumed from %s after epoch %d", directory, epoch)
    return epoch, state["extra"]["rows"]


def write_metrics(path: Path, rows: list[dict]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def save_model(path: Path, model: FillingModule, cfg: FillerConfig, input_size: int) -> None:
    state = {"state_dict": model.state_dict(), "config": asdict(cfg), "input_size": input_size,
             "in_channels": {level: model.weights.lateral[level][0].in_channels for level in LEVELS}}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_filler(path: str | Path, device: torch.device) -> tuple[FillingModule, int]:
    """The trained filling module (eval mode) and its input size."""
    try:
        state = torch.load(path, map_location=device, weights_only=False)
        model = build_model(state["in_channels"], FillerConfig(**state["config"]))
        model.load_state_dict(state["state_dict"])
    except Exception as exc:  # torch.load fails in many ways on a foreign or truncated file
        raise ArtifactError(path, f"not a filler model written by train_filler: {exc}") from exc
    return model.to(device).eval(), int(state["input_size"])
