"""Train the filling module on pseudo GT (paper §3.2-3.3): BCE between IAM logits and one of each
peak's top-k candidate proposals, sampled anew in every pass (k = 1 is deterministic).

The backbone is frozen by default, so its res2/res3/res4 features are computed once per image and
cached (float16); ``finetune_backbone`` runs it in every step instead. PRMs (rescaled to max 1) and
candidate masks are resized to the network input once. When the samples and the feature cache would
take more than ``memory_mb`` (:func:`training_samples`), samples are streamed from the artifacts by
``workers`` DataLoader processes and the features recomputed per batch, rounded to float16 as the
cache would hold them: the same training, memory bounded by a batch. With ``flip`` (ours) each image
of a batch is mirrored left-right with probability 1/2, with its PRMs, targets and features (the
cache holds the mirrored images' features after the originals'). Every epoch draws its image order,
peak subset, candidates and flips from ``numpy.random.default_rng((seed, epoch))``, so a run resumed
from an epoch checkpoint repeats an uninterrupted run exactly on CPU.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import AveragedModel
from torch.utils.data import DataLoader
from tqdm import tqdm

from iam.errors import ArtifactError, TrainingError
from iam.io.atomic import atomic_path
from iam.models.backbone import PeakBackbone, load_backbone
from iam.models.filling import FEATURES, LEVELS, FillingModule
from iam.training.loop import run_epochs, step
from iam.training.samples import Sample, Samples, SampleSource, StreamedSamples, index_samples, sample_megabytes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FillerConfig:
    """Architecture and optimisation settings (config section ``filler``)."""

    channels: int = 8
    radius: int = 3
    pyramid_channels: int = 64
    affinity: int = 0
    image_channels: int = 0
    dilations: tuple[int, ...] = (1,)
    epochs: int = 4
    batch_size: int = 16
    peaks_per_image: int = 2
    target: str = "sample"
    select_after: int = 3
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    schedule: str = "cosine"
    finetune_backbone: bool = False
    amp: bool = False
    recompute: bool = True
    kept_weight: bool = False
    flip: bool = False
    ema_decay: float = 0.0
    memory_mb: int = 8192
    workers: int = 0
    seed: int = 0

    def target_in(self, epoch: int) -> str:
        """The target of (0-based) ``epoch``: ``select`` trains towards the mean in its warm-up epochs."""
        return "mean" if self.target == "select" and epoch < self.select_after else self.target


def training_samples(
    where: SampleSource,
    image_ids: list[str],
    k: int,
    source: str,
    cfg: FillerConfig,
    feature_bytes: int,
) -> Samples:
    """The samples of proposal ``source``'s pseudo GT in memory (a list) when they and the feature cache
    fit ``cfg.memory_mb``, else streamed."""
    streamed = StreamedSamples(where, index_samples(where, image_ids, k, source))
    cached = 0 if cfg.finetune_backbone else feature_bytes * (2 if cfg.flip else 1)
    need = sample_megabytes(streamed.rows, where.input_size, cached)
    if need > cfg.memory_mb:
        log.info("samples and features need ~%.0f MB > memory_mb %d: streaming them", need, cfg.memory_mb)
        return streamed
    log.info("samples and features in memory (~%.0f MB)", need)
    return streamed.load_all()


def cache_features(
    backbone: PeakBackbone, images: list[torch.Tensor], device: torch.device, batch: int = 32
) -> list[dict[str, torch.Tensor]]:
    """res2/res3/res4 of every image, computed once with the frozen backbone (float16, on ``device``)."""
    cached = []
    with torch.no_grad():
        for start in range(0, len(images), batch):
            feats = backbone.features(torch.stack(images[start : start + batch]).to(device))
            for i in range(len(feats[LEVELS[0]])):
                cached.append({level: feats[level][i].half() for level in FEATURES})
    return cached


def draw_batch(
    samples: list[Sample], rng: np.random.Generator, peaks_per_image: int, target: str = "sample"
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(P, 1, S, S) PRMs, (P,) owner index within the batch, (P,) loss weights (1 where a sample
    has none) and targets: one of each peak's
    candidates drawn at random (``sample``: (P, 1, S, S)), their pixelwise mean (``mean``: BCE is
    linear in its target, so this is exactly the loss averaged over the k candidates that ``sample``
    estimates), or all k of them for :func:`fitted_targets` (``select``: (P, k, S, S), the missing ones
    empty)."""
    prms, owner, weights, targets = [], [], [], []
    for b, s in enumerate(samples):
        rows = np.arange(len(s.candidates))
        if len(rows) > peaks_per_image:
            rows = np.sort(rng.choice(rows, peaks_per_image, replace=False))
        for row in rows:
            valid = s.candidates[row][s.candidates[row] >= 0]
            if target == "mean":
                targets.append(s.masks[valid].float().mean(0, keepdim=True))
            elif target == "select":
                stack = torch.zeros((s.candidates.shape[1], *s.masks.shape[1:]), dtype=s.masks.dtype)
                stack[: len(valid)] = s.masks[valid]
                targets.append(stack)
            else:
                targets.append(s.masks[int(valid[rng.integers(len(valid))])][None])
            prms.append(s.prms[row])
            owner.append(b)
            weights.append(1.0 if s.weights is None else float(s.weights[row]))
    return torch.stack(prms)[:, None].float(), torch.tensor(owner), torch.tensor(weights), torch.stack(targets).float()


def mirrored(maps: torch.Tensor, which: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) ``maps`` with those where ``which`` (B,) bool is set mirrored left-right."""
    return torch.where(which[:, None, None, None], maps.flip(-1), maps)


def weighted_bce(logits: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """BCE of (P, 1, S, S) logits, each peak's pixel mean weighted by its (P,) weight over the batch's
    mean weight (``filler.kept_weight``)."""
    per_peak = F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1).mean(1)
    return (per_peak * weights / weights.mean().clamp_min(1e-6)).mean()


def fitted_targets(logits: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
    """(P, 1, S, S) targets from each peak's (P, k, S, S) candidates (empty = missing): the candidate that
    best fits the peak's current prediction, i.e. has the highest IoU with the prediction cut at half its
    maximum, as masks are cut at inference."""
    present = candidates.flatten(2).any(2)  # (P, k)
    with torch.no_grad():
        prob = torch.sigmoid(logits.float())
        cut = (prob >= 0.5 * prob.amax((2, 3), keepdim=True)).float()
        inter = (cut * candidates).sum((2, 3))
        union = (cut + candidates - cut * candidates).sum((2, 3)).clamp_min(1e-6)
        best = (inter / union).masked_fill(~present, -1.0).argmax(1)
    return candidates[torch.arange(len(best), device=best.device), best][:, None]


@dataclass
class Trainer:
    """State of one filler training run."""

    model: FillingModule
    backbone: PeakBackbone
    optimizer: torch.optim.Optimizer
    cfg: FillerConfig
    device: torch.device
    ema: AveragedModel | None = None

    def features(
        self,
        batch: list[Sample],
        cache: list[dict[str, torch.Tensor]] | None,
        idx: np.ndarray,
        flipped: np.ndarray | None = None,
    ) -> dict[str, torch.Tensor]:
        """The batch's features; ``flipped`` (B,) bool: those images mirrored (the cache holds the
        mirrored images' features after the originals')."""
        if cache is not None:
            rows = idx if flipped is None else idx + len(cache) // 2 * flipped
            return {level: torch.stack([cache[i][level] for i in rows]).float() for level in FEATURES}
        images = torch.stack([s.image for s in batch])
        images = (images if flipped is None else mirrored(images, torch.from_numpy(flipped))).to(self.device)
        if self.cfg.finetune_backbone:
            return self.backbone.features(images)
        with torch.no_grad():  # what the cache would hold
            return {level: f.half().float() for level, f in self.backbone.features(images).items()}

    def epoch(self, samples: Samples, cache: list[dict[str, torch.Tensor]] | None, epoch: int) -> float:
        """One pass over ``samples`` in (0-based) ``epoch``; returns the mean loss."""
        rng = np.random.default_rng((self.cfg.seed, epoch))
        order = rng.permutation(len(samples))
        batches = [order[i : i + self.cfg.batch_size] for i in range(0, len(order), self.cfg.batch_size)]
        workers = 0 if isinstance(samples, list) else self.cfg.workers
        # the stub wants a Dataset and lists of indices; a list and index arrays work as well (map-style)
        loader: DataLoader[Sample] = DataLoader(
            samples,  # type: ignore[arg-type]
            batch_sampler=batches,  # type: ignore[arg-type]
            collate_fn=list,
            num_workers=workers,
        )
        total, count = 0.0, 0
        for b, (idx, batch) in enumerate(
            tqdm(zip(batches, loader), total=len(batches), desc=f"filler epoch {epoch}", leave=False, mininterval=10)
        ):
            mode = self.cfg.target_in(epoch)
            prms, owner, weights, target = draw_batch(batch, rng, self.cfg.peaks_per_image, mode)
            flipped = rng.random(len(idx)) < 0.5 if self.cfg.flip else None
            if flipped is not None:
                per_peak = torch.from_numpy(flipped)[owner]
                prms, target = mirrored(prms, per_peak), mirrored(target, per_peak)
            with self.autocast():
                features = self.features(batch, cache, idx, flipped)
                logits = self.model(prms.to(self.device), features, owner.to(self.device))
            target = target.to(self.device)
            if mode == "select":
                target = fitted_targets(logits, target)
            if self.cfg.kept_weight:
                loss = weighted_bce(logits.float(), target, weights.to(self.device))
            else:
                loss = F.binary_cross_entropy_with_logits(logits.float(), target)
            total, count = total + step(self.optimizer, loss, epoch, b) * len(prms), count + len(prms)
            if self.ema is not None:
                self.ema.update_parameters(self.trained())
        return total / max(count, 1)

    def trained(self) -> nn.ModuleDict:
        """The modules the optimiser trains: the filler, plus the backbone when it is fine-tuned."""
        modules: dict[str, nn.Module] = {"filler": self.model}
        if self.cfg.finetune_backbone:
            modules["backbone"] = self.backbone
        return nn.ModuleDict(modules)

    def checkpointed(self) -> nn.ModuleDict:
        """What a checkpoint holds: the trained modules, and their running average when there is one."""
        if self.ema is None:
            return self.trained()
        return nn.ModuleDict({"trained": self.trained(), "ema": self.ema})

    def result(self) -> nn.ModuleDict:
        """The modules the run ends with: the running average of the weights (``ema_decay`` > 0) or
        the last step's."""
        return self.trained() if self.ema is None else cast(nn.ModuleDict, self.ema.module)

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.cfg.amp and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()


Tensors = tuple[torch.Tensor, ...] | list[torch.Tensor]


def warmed_ema(decay: float) -> Callable[[Tensors, Tensors, torch.Tensor | int], None]:
    """The moving-average update of :class:`AveragedModel` after its n-th step (the first copies the
    weights): decay min(``decay``, (1 + n) / (10 + n)), timm's warm-up, so that the first steps'
    weights do not linger in the average."""

    @torch.no_grad()
    def update(averaged: Tensors, current: Tensors, n: torch.Tensor | int) -> None:
        rate = min(decay, (1 + float(n)) / (10 + float(n)))
        for avg, now in zip(averaged, current, strict=True):
            if avg.is_floating_point():
                avg.lerp_(now, 1 - rate)
            else:  # BatchNorm's step counter
                avg.copy_(now)

    return update


def build_optimizer(params: list[nn.Parameter], cfg: FillerConfig) -> torch.optim.Optimizer:
    """SGD with momentum (the paper's) or Adam (``filler.optimizer``)."""
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


def build_model(in_channels: dict[str, int], cfg: FillerConfig) -> FillingModule:
    return FillingModule(
        in_channels,
        cfg.channels,
        cfg.radius,
        cfg.pyramid_channels,
        cfg.recompute,
        affinity=cfg.affinity,
        image_channels=cfg.image_channels,
        dilations=tuple(cfg.dilations),
    )


def feature_shapes(backbone: PeakBackbone, input_size: int, device: torch.device) -> dict[str, tuple[int, ...]]:
    """(channels, height, width) of each feature level for one image."""
    with torch.no_grad():
        feats = backbone.features(torch.zeros(1, 3, input_size, input_size, device=device))
    return {level: tuple(feats[level].shape[1:]) for level in FEATURES}


def feature_bytes(backbone: PeakBackbone, input_size: int, device: torch.device) -> int:
    """Bytes the float16 feature cache holds per image."""
    return sum(2 * math.prod(shape) for shape in feature_shapes(backbone, input_size, device).values())


def train(
    backbone: PeakBackbone,
    samples: Samples,
    cfg: FillerConfig,
    device: torch.device,
    out_dir: str | Path,
    fingerprint: str | None = None,
) -> FillingModule:
    """Train (resuming from ``out_dir/checkpoints/`` when it holds a checkpoint of the run
    ``fingerprint`` and this config); write ``model.pt`` and ``metrics.{json,csv}`` (``epoch``, ``loss``,
    ``seconds``, ``images_per_s``, ``lr``). ``samples``: a list is held in memory with its features
    cached, a :class:`StreamedSamples` is read per batch."""
    out_dir = Path(out_dir)
    if not samples:
        raise TrainingError("no training peak has a pseudo-GT candidate; nothing to train the filler on")
    torch.manual_seed(cfg.seed)
    input_size = samples[0].image.shape[-1]
    backbone = backbone.to(device).train(cfg.finetune_backbone)
    backbone.requires_grad_(cfg.finetune_backbone)
    channels = {level: shape[0] for level, shape in feature_shapes(backbone, input_size, device).items()}
    model = build_model(channels, cfg).to(device)
    params = list(model.parameters()) + (list(backbone.parameters()) if cfg.finetune_backbone else [])
    optimizer = build_optimizer(params, cfg)
    trainer = Trainer(model, backbone, optimizer, cfg, device)
    if cfg.ema_decay > 0:
        trainer.ema = AveragedModel(trainer.trained(), multi_avg_fn=warmed_ema(cfg.ema_decay), use_buffers=True)
    cache: list[dict[str, torch.Tensor]] | None = None
    if isinstance(samples, list) and not cfg.finetune_backbone:
        images = [s.image for s in samples]
        cache = cache_features(backbone, images + [im.flip(-1) for im in images] if cfg.flip else images, device)

    def epoch_metrics(epoch: int) -> dict[str, float]:
        tic = time.perf_counter()
        loss = trainer.epoch(samples, cache, epoch)
        seconds = time.perf_counter() - tic
        return {"loss": loss, "seconds": seconds, "images_per_s": len(samples) / seconds}

    run_epochs(
        out_dir,
        trainer.checkpointed(),
        optimizer,
        cfg.epochs,
        epoch_metrics,
        fingerprint,
        schedule=cfg.schedule,
        same={"config": asdict(cfg)},
    )
    final = trainer.result()
    filler = cast(FillingModule, final["filler"])
    tuned = cast(PeakBackbone, final["backbone"]) if cfg.finetune_backbone else None
    save_model(out_dir / "model.pt", filler, cfg, input_size, tuned)
    return filler.eval()


def save_model(
    path: Path, model: FillingModule, cfg: FillerConfig, input_size: int, backbone: PeakBackbone | None = None
) -> None:
    """The filler's weights and config; with ``backbone`` (fine-tuned with the filler) its weights too."""
    state = {
        "state_dict": model.state_dict(),
        "config": asdict(cfg),
        "input_size": input_size,
        "in_channels": {level: cast(nn.Sequential, model.weights.lateral[level])[0].in_channels for level in LEVELS},
    }
    if backbone is not None:
        state["backbone"] = backbone.state_dict()
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


def load_feature_backbone(filler_path: str | Path, backbone_path: str | Path, device: torch.device) -> PeakBackbone:
    """The backbone whose features feed the filling weights: ``backbone_path``, with the weights
    fine-tuned with the filler when the filler file holds them (``finetune_backbone``)."""
    backbone = load_backbone(backbone_path, device)
    try:
        state = torch.load(filler_path, map_location=device, weights_only=False).get("backbone")
    except Exception as exc:  # torch.load fails in many ways on a foreign or truncated file
        raise ArtifactError(filler_path, f"not a filler model written by train_filler: {exc}") from exc
    if state is not None:
        backbone.load_state_dict(state)
    return backbone.eval()
