"""The instance extent filling module (paper §3.2, Fig. 3, Eq. 2-3).

A PRM is encoded to C x N x N features (``Encoder``), filled for N steps with per-image weights
predicted from the backbone's feature pyramid (``FillingWeights`` + :func:`fill`), and decoded back
to one IAM logit map at input size (``Decoder``). The weights depend only on the image, so
``FillingModule.forward`` computes them once per image and gathers them for that image's PRMs.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from iam.crf.window import Window, valid_neighbours

LEVELS = ("res2", "res3", "res4")


def conv_bn_relu(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class Encoder(nn.Sequential):
    """E: two Conv-BN-ReLU-MaxPool stacks, (P, 1, S, S) PRMs -> (P, C, S/4, S/4)."""

    def __init__(self, channels: int) -> None:
        half = max(1, channels // 2)
        super().__init__(*conv_bn_relu(1, half), nn.MaxPool2d(2), *conv_bn_relu(half, channels), nn.MaxPool2d(2))


class Decoder(nn.Sequential):
    """D: the symmetric expanding path, (P, C, N, N) -> (P, 1, 4N, 4N) IAM logits."""

    def __init__(self, channels: int) -> None:
        half = max(1, channels // 2)
        super().__init__(
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), *conv_bn_relu(channels, half),
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), nn.Conv2d(half, 1, 3, padding=1),
        )


class FillingWeights(nn.Module):
    """R: a feature pyramid over res2/res3/res4 -> W (B, C, r^2, N, N), softmax over each window.

    Each level passes two 1x1 convs, levels are upsampled and summed deep -> shallow, and a 1x1
    head predicts C * r^2 logits per location. With ``affinity`` > 0 the logit of neighbour uv of
    location ij also gets -||e_ij - e_uv||^2, e an ``affinity``-dimensional 1x1 embedding of the
    pyramid: a location then stops filling from neighbours whose features differ, which is how
    object boundaries can enter W at all when the head sees one location. Window entries outside
    the map are masked before the softmax, so every location's weights over its in-map neighbours
    are >= 0 and sum to 1 (Eq. 3's normaliser Y).
    """

    def __init__(self, in_channels: dict[str, int], channels: int, radius: int, pyramid_channels: int,
                 affinity: int = 0) -> None:
        super().__init__()
        if radius % 2 == 0:
            raise ValueError(f"filling radius must be odd, got {radius}")
        self.channels, self.radius = channels, radius
        self.embed = nn.Conv2d(pyramid_channels, affinity, 1) if affinity else None
        self.lateral = nn.ModuleDict({
            level: nn.Sequential(
                nn.Conv2d(in_channels[level], pyramid_channels, 1), nn.ReLU(inplace=True),
                nn.Conv2d(pyramid_channels, pyramid_channels, 1),
            )
            for level in LEVELS
        })
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(pyramid_channels, channels * radius * radius, 1))

    def forward(self, features: dict[str, torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        top = None
        for level in reversed(LEVELS):
            lat = self.lateral[level](features[level])
            top = lat if top is None else lat + F.interpolate(top, size=lat.shape[-2:], mode="bilinear", align_corners=False)
        top = F.interpolate(top, size=size, mode="bilinear", align_corners=False)
        logits = self.head(top).unflatten(1, (self.channels, self.radius * self.radius)).float()
        if self.embed is not None:
            logits = logits - self.feature_distances(self.embed(top).float())[:, None]
        inside = valid_neighbours(*size, self.radius, device=logits.device)
        return logits.masked_fill(~inside, float("-inf")).softmax(dim=2)


    def feature_distances(self, e: torch.Tensor) -> torch.Tensor:
        """(B, r^2, N, N): squared distance of each location's embedding to each window neighbour's."""
        r = self.radius
        neighbours = F.unfold(e, r, padding=r // 2).unflatten(1, (e.shape[1], r * r)).unflatten(-1, e.shape[-2:])
        return (neighbours - e[:, :, None]).pow(2).sum(1)


class _Fill(torch.autograd.Function):
    """N filling steps in flat layout with a hand-written backward (adjoint steps plus the weight
    gradient of each step). ``recompute`` stores only G^0 and W and recomputes the N intermediate
    states (P x C x N x N each) in the backward pass; otherwise the forward keeps them (N times
    the memory of one state, no recomputation)."""

    @staticmethod
    def forward(ctx, gf: torch.Tensor, wf: torch.Tensor, win: Window, steps: int, recompute: bool) -> torch.Tensor:
        ctx.save_for_backward(gf, wf)
        ctx.win, ctx.steps, ctx.states = win, steps, None
        if recompute:
            return _run(win, gf, wf, steps)
        ctx.states = _states(win, gf, wf, steps)
        return win.sum(ctx.states[-1], wf)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None, None, None]:
        gf, wf = ctx.saved_tensors
        win = ctx.win
        states = ctx.states if ctx.states is not None else _states(win, gf, wf, ctx.steps)
        ctx.states = None
        grad_w = torch.zeros_like(wf)
        for g in reversed(states):
            win.accumulate_weight_grad(grad_w, grad, g)
            grad = win.adjoint(grad, wf)
        return grad, grad_w, None, None, None


def _run(win: Window, gf: torch.Tensor, wf: torch.Tensor, steps: int) -> torch.Tensor:
    for _ in range(steps):
        gf = win.sum(gf, wf)
    return gf


def _states(win: Window, gf: torch.Tensor, wf: torch.Tensor, steps: int) -> list[torch.Tensor]:
    """The inputs G^0 .. G^(steps-1) of the ``steps`` filling steps."""
    states = [gf]
    for _ in range(steps - 1):
        states.append(win.sum(states[-1], wf))
    return states


def fill(g0: torch.Tensor, weights: torch.Tensor, steps: int, recompute: bool = True) -> torch.Tensor:
    """Eq. 2-3: ``steps`` times G^k_ij = sum_{uv in N_ij} W_{c;ij;uv} G^{k-1}_uv.

    ``g0`` (P, C, N, N); ``weights`` (P, C, r^2, N, N) (one row per PRM). Differentiable through
    :class:`_Fill`; ``recompute`` bounds the memory by recomputing the states in the backward pass.
    Computed in at least float32.
    """
    win = Window(g0.shape[-2], g0.shape[-1], math.isqrt(weights.shape[2]))
    dtype = torch.promote_types(torch.promote_types(g0.dtype, weights.dtype), torch.float32)
    gf, wf = win.to_flat(g0.to(dtype)), win.weights_to_flat(weights.to(dtype))
    if torch.is_grad_enabled() and (gf.requires_grad or wf.requires_grad):
        return win.from_flat(_Fill.apply(gf, wf, win, steps, recompute))
    return win.from_flat(_run(win, gf, wf, steps))


class FillingModule(nn.Module):
    """Fig. 3: PRM -> E -> N filling steps with W = R(backbone features) -> D -> IAM logits."""

    def __init__(
        self, in_channels: dict[str, int], channels: int = 32, radius: int = 3,
        pyramid_channels: int = 64, recompute: bool = True, channels_last: bool = True, affinity: int = 0,
    ) -> None:
        super().__init__()
        self.encoder = Encoder(channels)
        self.weights = FillingWeights(in_channels, channels, radius, pyramid_channels, affinity)
        self.decoder = Decoder(channels)
        self.recompute = recompute
        self.layout = torch.channels_last if channels_last else torch.contiguous_format
        self.to(memory_format=self.layout)

    def forward(self, prms: torch.Tensor, features: dict[str, torch.Tensor], owner: torch.Tensor) -> torch.Tensor:
        """``prms`` (P, 1, S, S) scaled to max 1; ``features`` of B images; ``owner`` (P,) image index
        of each PRM. Returns (P, 1, S, S) IAM logits.

        Channels-last by default: E's first and D's last convolution (one channel at input size)
        are several times faster that way on CPU (benchmarks/filler.py)."""
        g = self.encoder(prms.contiguous(memory_format=self.layout))
        w = self.weights(features, g.shape[-2:])
        g = fill(g, w[owner], steps=max(g.shape[-2:]), recompute=self.recompute)
        return self.decoder(g.contiguous(memory_format=self.layout))
