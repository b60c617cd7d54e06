"""The instance extent filling module (paper §3.2, Fig. 3, Eq. 2-3).

A PRM is encoded to C x N x N features (``Encoder``), filled for N steps with per-image weights
predicted from the backbone's feature pyramid (``FillingWeights`` + :func:`fill`), and decoded back
to one IAM logit map at input size (``Decoder``). The weights depend only on the image, so
``FillingModule.forward`` computes them once per image and gathers them for that image's PRMs.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from iam.models.window import Window, tap_positions, valid_neighbours

LEVELS = ("res2", "res3", "res4")
# On CPU, PRMs are filled in chunks whose gathered weights stay below glibc's largest mmap threshold
# (32 MiB): larger blocks are mapped afresh and page-faulted in on every training step (iam.allocator).
CHUNK_BYTES = 24 * 2**20
FEATURES = ("image", *LEVELS)  # what the filler reads of a backbone output's features


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
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            *conv_bn_relu(channels, half),
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            nn.Conv2d(half, 1, 3, padding=1),
        )


class FillingWeights(nn.Module):
    """R: a feature pyramid over res2/res3/res4 -> W (B, C, D r^2, N, N), softmax over each window;
    D = len(dilations) windows per location, one per tap spacing (step k uses dilation k mod D).

    Each level passes two 1x1 convs, levels are upsampled and summed deep -> shallow, and a 1x1
    head predicts C * D * r^2 logits per location. With ``affinity`` > 0 the logit of neighbour uv of
    location ij also gets -||e_ij - e_uv||^2, e an ``affinity``-dimensional 1x1 embedding of the
    pyramid: a location then stops filling from neighbours whose features differ, which is how
    object boundaries can enter W at all when the head sees one location. Window entries outside
    the map are masked before the softmax, so every location's weights over its in-map neighbours
    are >= 0 and sum to 1 (Eq. 3's normaliser Y).
    """

    def __init__(
        self,
        in_channels: dict[str, int],
        channels: int,
        radius: int,
        pyramid_channels: int,
        affinity: int = 0,
        image_channels: int = 0,
        dilations: tuple[int, ...] = (1,),
    ) -> None:
        super().__init__()
        if radius % 2 == 0:
            raise ValueError(f"filling radius must be odd, got {radius}")
        self.channels, self.radius, self.dilations = channels, radius, tuple(dilations)
        self.image = (
            nn.Sequential(
                nn.Conv2d(3, image_channels, 3, 2, 1),
                nn.ReLU(inplace=True),
                nn.Conv2d(image_channels, image_channels, 3, 2, 1),
            )
            if image_channels
            else None
        )
        width = pyramid_channels + image_channels
        self.embed = nn.Conv2d(width, affinity, 1) if affinity else None
        self.lateral = nn.ModuleDict(
            {
                level: nn.Sequential(
                    nn.Conv2d(in_channels[level], pyramid_channels, 1),
                    nn.ReLU(inplace=True),
                    nn.Conv2d(pyramid_channels, pyramid_channels, 1),
                )
                for level in LEVELS
            }
        )
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(width, channels * len(self.dilations) * radius * radius, 1))

    def forward(self, features: dict[str, torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        top: torch.Tensor | None = None
        for level in reversed(LEVELS):
            lat = self.lateral[level](features[level])
            top = (
                lat
                if top is None
                else lat + F.interpolate(top, size=lat.shape[-2:], mode="bilinear", align_corners=False)
            )
        assert top is not None  # LEVELS is not empty
        top = F.interpolate(top, size=size, mode="bilinear", align_corners=False)
        if self.image is not None:
            image = F.interpolate(self.image(features["image"]), size=size, mode="bilinear", align_corners=False)
            top = torch.cat([top, image], 1)
        taps = self.radius * self.radius
        logits = self.head(top).unflatten(1, (self.channels, len(self.dilations) * taps)).float()
        logits = logits + self.neighbour_bias(top, size)[:, None]
        return logits.unflatten(2, (len(self.dilations), taps)).softmax(dim=3).flatten(2, 3)

    def neighbour_bias(self, top: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """(B or 1, D r^2, N, N) added to the head's logits: minus the squared embedding distance of
        each location to each window neighbour (with ``affinity``), -inf at taps outside the map."""
        inside = torch.cat([valid_neighbours(*size, self.radius, top.device, d) for d in self.dilations])
        if self.embed is None:
            return torch.zeros(inside.shape, device=top.device).masked_fill(~inside, float("-inf"))[None]
        e = self.embed(top).float()
        distances = torch.cat([self.feature_distances(e, d) for d in self.dilations], 1)
        return (-distances).masked_fill(~inside, float("-inf"))

    def feature_distances(self, e: torch.Tensor, dilation: int = 1) -> torch.Tensor:
        """(B, r^2, N, N): squared distance of each location's embedding to each window neighbour's
        (taps ``dilation`` apart; to zero outside the map, where the weights are masked anyway)."""
        (height, width), pad = e.shape[-2:], dilation * (self.radius // 2)
        padded = F.pad(e, (pad, pad, pad, pad))
        shifted = [(pad + dilation * dy, pad + dilation * dx) for dy, dx in tap_positions(self.radius)]
        return torch.stack([(padded[..., y : y + height, x : x + width] - e).pow(2).sum(1) for y, x in shifted], 1)


class _Fill(torch.autograd.Function):
    """N filling steps in flat layout with a hand-written backward (adjoint steps plus the weight
    gradient of each step). ``recompute`` stores only G^0 and W and recomputes the N intermediate
    states (P x C x N x N each) in the backward pass; otherwise the forward keeps them (N times
    the memory of one state, no recomputation)."""

    @staticmethod
    def forward(
        ctx: Any, gf: torch.Tensor, wf: torch.Tensor, wins: tuple[Window, ...], steps: int, recompute: bool
    ) -> torch.Tensor:
        ctx.save_for_backward(gf, wf)
        ctx.wins, ctx.steps, ctx.states = wins, steps, None
        if recompute:
            return _run(wins, gf, wf, steps)
        ctx.states = _states(wins, gf, wf, steps)
        return _step(wins, steps - 1, ctx.states[-1], wf)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None, None, None]:
        gf, wf = ctx.saved_tensors
        wins = ctx.wins
        states = ctx.states if ctx.states is not None else _states(wins, gf, wf, ctx.steps)
        ctx.states = None
        # the last step of each window writes its block first (a window without a step leaves zeros)
        grad_w = torch.empty_like(wf) if ctx.steps >= len(wins) else torch.zeros_like(wf)
        for t in reversed(range(ctx.steps)):
            win, block = _window_of(wins, t, wf)
            win.accumulate_weight_grad(grad_w[..., block, :], grad, states[t], first=t >= ctx.steps - len(wins))
            grad = win.adjoint(grad, wf[..., block, :])
        return grad, grad_w, None, None, None


def _window_of(wins: tuple[Window, ...], step: int, wf: torch.Tensor) -> tuple[Window, slice]:
    """The window of filling step ``step`` (dilations cycle) and its block of weight rows in ``wf``."""
    d = step % len(wins)
    taps = wf.shape[-2] // len(wins)
    return wins[d], slice(d * taps, (d + 1) * taps)


def _step(wins: tuple[Window, ...], step: int, gf: torch.Tensor, wf: torch.Tensor) -> torch.Tensor:
    win, block = _window_of(wins, step, wf)
    return win.sum(gf, wf[..., block, :])


def _run(wins: tuple[Window, ...], gf: torch.Tensor, wf: torch.Tensor, steps: int) -> torch.Tensor:
    for t in range(steps):
        gf = _step(wins, t, gf, wf)
    return gf


def _states(wins: tuple[Window, ...], gf: torch.Tensor, wf: torch.Tensor, steps: int) -> list[torch.Tensor]:
    """The inputs G^0 .. G^(steps-1) of the ``steps`` filling steps."""
    states = [gf]
    for t in range(steps - 1):
        states.append(_step(wins, t, states[-1], wf))
    return states


def windows(
    height: int, width: int, radius: int, dilations: tuple[int, ...], column_pad: bool = True
) -> tuple[Window, ...]:
    """One window per dilation, all in the flat layout of the largest."""
    margin = max(dilations) * (radius // 2)
    return tuple(Window(height, width, radius, d, margin, column_pad) for d in dilations)


def fill(
    g0: torch.Tensor,
    weights: torch.Tensor,
    steps: int,
    recompute: bool = True,
    dilations: tuple[int, ...] = (1,),
    masked: bool = False,
) -> torch.Tensor:
    """Eq. 2-3: ``steps`` times G^k_ij = sum_{uv in N_ij} W_{c;ij;uv} G^{k-1}_uv, the neighbourhood
    of step k having its taps ``dilations[k mod D]`` apart.

    ``g0`` (P, C, N, N); ``weights`` (P, C, D r^2, N, N) (one row per PRM). Differentiable through
    :class:`_Fill`; ``recompute`` bounds the memory by recomputing the states in the backward pass.
    ``masked``: the weights are zero at every tap outside the map (as :class:`FillingWeights`'), which
    allows the layout without pad columns (:mod:`iam.models.window`). Computed in at least float32.
    """
    radius = math.isqrt(weights.shape[2] // len(dilations))
    wins = windows(g0.shape[-2], g0.shape[-1], radius, tuple(dilations), column_pad=not masked)
    dtype = torch.promote_types(torch.promote_types(g0.dtype, weights.dtype), torch.float32)
    gf, wf = wins[0].to_flat(g0.to(dtype)), wins[0].weights_to_flat(weights.to(dtype))
    if torch.is_grad_enabled() and (gf.requires_grad or wf.requires_grad):
        return wins[0].from_flat(_Fill.apply(gf, wf, wins, steps, recompute))
    return wins[0].from_flat(_run(wins, gf, wf, steps))


class FillingModule(nn.Module):
    """Fig. 3: PRM -> E -> N filling steps with W = R(backbone features) -> D -> IAM logits."""

    def __init__(
        self,
        in_channels: dict[str, int],
        channels: int = 32,
        radius: int = 3,
        pyramid_channels: int = 64,
        recompute: bool = True,
        channels_last: bool = True,
        affinity: int = 0,
        image_channels: int = 0,
        dilations: tuple[int, ...] = (1,),
    ) -> None:
        super().__init__()
        self.encoder = Encoder(channels)
        self.weights = FillingWeights(
            in_channels, channels, radius, pyramid_channels, affinity, image_channels, dilations
        )
        self.decoder = Decoder(channels)
        self.recompute = recompute
        self.layout = torch.channels_last if channels_last else torch.contiguous_format
        self.encoder.to(memory_format=self.layout)
        self.decoder.to(memory_format=self.layout)

    def forward(self, prms: torch.Tensor, features: dict[str, torch.Tensor], owner: torch.Tensor) -> torch.Tensor:
        """``prms`` (P, 1, S, S) scaled to max 1; ``features`` of B images; ``owner`` (P,) image index
        of each PRM. Returns (P, 1, S, S) IAM logits.

        Channels-last by default for E and D: their first and last convolution (one channel at input
        size) are several times faster that way on CPU (benchmarks/filler.py). R stays in NCHW: its
        1x1 convolutions gain nothing from channels-last, and the softmax and the filling read its
        output in NCHW (on a channels-last head output every elementwise op was strided)."""
        g = self.encoder(prms.contiguous(memory_format=self.layout))
        w = self.weights(features, g.shape[-2:])
        steps, dilations = max(g.shape[-2:]), self.weights.dilations
        per_prm = w[:1].numel() * max(w.element_size(), 4)  # fill() computes in at least float32
        chunk = max(1, CHUNK_BYTES // per_prm) if g.device.type == "cpu" else len(g)
        g = torch.cat(
            [
                fill(g[i : i + chunk], w[owner[i : i + chunk]], steps, self.recompute, dilations, masked=True)
                for i in range(0, len(g) or 1, chunk)  # one call for no PRMs, as before
            ]
        )
        return self.decoder(g.contiguous(memory_format=self.layout))
