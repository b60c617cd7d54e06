"""Peak backpropagation (paper Eq. 1): a top-down probabilistic pass from a class peak to pixels.

:func:`probabilistic` returns a copy of a network whose forward values are unchanged but whose
backward pass carries probabilities instead of gradients:

* **conv** (custom autograd rule, :class:`ProbConv`): with the layer input U (shifted to be
  non-negative when it is not, i.e. for the image at the first conv) and W+ = max(W, 0), a parent
  V_ij hands its probability to the children U_pq in proportion to U_pq * W+_pq, normalised by
  Z_ij = sum U * W+ so the transition probabilities sum to one (bias ignored). Where Z_ij = 0 the
  parent's mass is dropped. Z and the transposed convolution may run in bfloat16
  (``probabilistic(..., dtype)``, config ``prm.dtype``); 1 / Z and the products with U stay float32.
* **batch norm**: passes probabilities through unchanged (a per-channel affine map, not a
  connection between locations).
* **ReLU / max pooling / bilinear upsampling**: the ordinary gradient, which already is a
  probability routing (ReLU: zero units receive nothing from the next conv anyway; max pooling:
  to the window's winner; upsampling: non-negative interpolation weights summing to one).
* **residual add** ``a + b``: the parent's mass splits between the two branches in proportion to
  their positive parts.

The map in pixel space is averaged over the colour channels and normalised by its sum
(:func:`peak_response_maps`). All peaks of an image share one forward pass (:func:`top_down`,
``torch.func.vjp``) and one backward pass vectorised over the peaks (``torch.func.vmap``): each
convolution's backward runs once with the peaks as its batch. (``autograd.grad`` with
``is_grads_batched`` ran the custom backward once per peak.) :func:`peak_response_maps_looped` is
the one-backward-per-peak reference. ``top_down(..., contrast=level)`` is the contrastive variant
(config ``prm.contrast``; ours, measured in the README's method notes).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.grad import conv2d_input

from iam.models.backbone import BackboneOutput, peak_stimulation
from iam.models.resnet import BasicBlock, Bottleneck

EPS = 1e-12


class ProbConv(torch.autograd.Function):
    """conv2d whose backward is the Eq. 1 transition from output locations to input locations; the
    backward's two convolutions (Z and the transposed one) run in ``dtype``, the rest in float32."""

    generate_vmap_rule = True

    @staticmethod
    def forward(
        x: torch.Tensor,
        weight: torch.Tensor,
        stride: tuple[int, ...],
        padding: str | tuple[int, ...],
        dilation: tuple[int, ...],
        groups: int,
        dtype: torch.dtype,
    ) -> torch.Tensor:
        return F.conv2d(x, weight, None, stride, padding, dilation, groups)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: torch.Tensor) -> None:
        x, weight, *ctx.conf = inputs
        ctx.save_for_backward(x, weight)

    @staticmethod
    def backward(ctx: Any, p_out: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        x, weight = ctx.saved_tensors
        *conf, dtype = ctx.conf
        u = x - x.amin(dim=(1, 2, 3), keepdim=True).clamp(max=0)
        w = weight.clamp(min=0).to(dtype)
        z = F.conv2d(u.to(dtype), w, None, *conf).float()
        inv_z = torch.where(z > EPS, 1 / z.clamp(min=EPS), torch.zeros_like(z))  # once, not per peak
        p_in = conv2d_input(u.shape, w, (p_out * inv_z).to(dtype), *conf)
        return u * p_in, None, None, None, None, None, None


class ProbConv2d(nn.Conv2d):
    """A Conv2d running :class:`ProbConv` (same weights, same forward values)."""

    top_down_dtype = torch.float32

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = ProbConv.apply(x, self.weight, self.stride, self.padding, self.dilation, self.groups, self.top_down_dtype)
        return out if self.bias is None else out + self.bias[:, None, None]


def with_gradient(value: torch.Tensor, x: torch.Tensor, scale: torch.Tensor | float) -> torch.Tensor:
    """``value`` in the forward pass; d(out)/dx = ``scale`` (elementwise) in the backward pass."""
    return value.detach() + scale * (x - x.detach())


class PassBatchNorm(nn.Module):
    """Batch norm in the forward pass, identity for probabilities in the backward pass."""

    def __init__(self, bn: nn.BatchNorm2d) -> None:
        super().__init__()
        self.bn = bn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return with_gradient(self.bn(x), x, 1.0)


def prob_add(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a + b``; the backward splits the mass in proportion to the positive parts of a and b."""
    pa, pb = a.detach().clamp(min=0), b.detach().clamp(min=0)
    share = torch.where(pa + pb > EPS, pa / (pa + pb).clamp(min=EPS), torch.full_like(pa, 0.5))
    return with_gradient(a, a, share) + with_gradient(b, b, 1 - share)


class ProbResidual(nn.Module):
    """A BasicBlock/Bottleneck recomposed so its residual add uses :func:`prob_add`."""

    def __init__(self, block: BasicBlock | Bottleneck) -> None:
        super().__init__()
        self.block = block
        self.pairs = [(f"conv{i}", f"bn{i}") for i in (1, 2, 3) if hasattr(block, f"conv{i}")]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block, out = self.block, x
        for index, (conv, bn) in enumerate(self.pairs):
            out = getattr(block, bn)(getattr(block, conv)(out))
            if index < len(self.pairs) - 1:
                out = F.relu(out)
        identity = x if block.downsample is None else block.downsample(x)
        return F.relu(prob_add(out, identity))


def _convert(module: nn.Module) -> nn.Module:
    if isinstance(module, (BasicBlock, Bottleneck)):
        _convert_children(module)
        return ProbResidual(module)
    if isinstance(module, nn.Conv2d):
        module.__class__ = ProbConv2d  # same parameters and attributes, Eq. 1 backward
        return module
    if isinstance(module, nn.BatchNorm2d):
        return PassBatchNorm(module)
    _convert_children(module)
    return module


def _convert_children(module: nn.Module) -> None:
    for name, child in module.named_children():
        setattr(module, name, _convert(child))


def probabilistic(model: nn.Module, dtype: torch.dtype = torch.float32) -> nn.Module:
    """A copy of ``model`` (eval mode, frozen) whose backward pass is the probabilistic top-down pass,
    its convolutions in ``dtype`` (bfloat16: about half the time where the hardware has bfloat16
    arithmetic; the forward pass, hence the peaks and scores, stays float32)."""
    model = _convert(copy.deepcopy(model)).eval()
    for module in model.modules():
        if isinstance(module, ProbConv2d):
            module.top_down_dtype = dtype
    return model.requires_grad_(False)


def _pixel_maps(p_input: torch.Tensor) -> torch.Tensor:
    """(n, 3, H, W) probabilities on the input -> (n, H, W): channel mean, normalised by its sum."""
    maps = p_input.mean(dim=1).clamp(min=0)
    return maps / maps.flatten(1).sum(1).clamp(min=EPS)[:, None, None]


Pullback = Callable[[torch.Tensor], tuple[torch.Tensor]]


STAGES = ("stem", "layer1", "layer2", "layer3", "layer4")
LEVEL_OF = {"layer1": "res2", "layer2": "res3", "layer3": "res4"}  # the feature each stage outputs
STAGE_OF = {level: stage for stage, level in LEVEL_OF.items()}


def top_down(
    net: nn.Module, x: torch.Tensor, contrast: str | None = None
) -> tuple[torch.Tensor, Pullback, BackboneOutput]:
    """Forward of a :func:`probabilistic` network on ``x`` (1, 3, H, W): the CRMs bilinearly upsampled to
    H x W (1, C, H, W), the pullback of probabilities from that response to ``x``, and the network's output.

    ``contrast`` (res2, res3 or res4): the pullback subtracts, at that level, the
    probabilities the peak's *dual* unit (the classifier's weights negated) sends there, and carries
    only the positive rest down to the pixels: the contrastive marginal winning probability of Zhang et
    al. (ECCV 2016), which cancels the mass that units of the level receive whatever the class. A peak
    whose contrast is nowhere positive keeps its plain map."""
    if contrast is None:
        return _vjp(_response(net), x)
    depth = STAGES.index(STAGE_OF[contrast]) + 1  # the stages up to the level
    h, lower, features = _vjp(lambda inputs: _run_stages(net, inputs, STAGES[:depth]), x)
    top, middle, deeper = _vjp(lambda level: _run_stages(net, level, STAGES[depth:]), h)
    response, head, crm = _vjp(_head(net, x.shape[-2:], 1), top)
    _, dual_head, _ = _vjp(_head(net, x.shape[-2:], -1), top)

    def pullback(seed: torch.Tensor) -> tuple[torch.Tensor]:
        (plain,), (negative,) = middle(*head(seed)), middle(*dual_head(seed))
        rest = (plain - negative).clamp(min=0)
        return lower(torch.where(rest.sum() > 0, rest, plain))

    return response, pullback, BackboneOutput(crm, peak_stimulation(crm), {"image": x, **features, **deeper})


def _vjp(fn: Callable[[torch.Tensor], tuple[torch.Tensor, Any]], x: torch.Tensor) -> tuple[torch.Tensor, Pullback, Any]:
    """``torch.func.vjp`` with an auxiliary output (its stub returns a union over has_aux)."""
    return cast(tuple[torch.Tensor, Pullback, Any], torch.func.vjp(fn, x, has_aux=True))


def _run_stages(
    net: nn.Module, x: torch.Tensor, stages: tuple[str, ...]
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``x`` through ``stages`` of a :class:`PeakBackbone`, and the res features they output."""
    features = {}
    for stage in stages:
        x = getattr(net, stage)(x)
        if stage in LEVEL_OF:
            features[LEVEL_OF[stage]] = x
    return x, features


def _head(net: nn.Module, size: torch.Size, sign: int) -> Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """The classifier, its weights times ``sign`` (-1: the dual unit): the last stage's output ->
    (CRMs upsampled to ``size``, CRMs)."""

    def head(top: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        conv = cast(ProbConv2d, net.classifier)
        crm = ProbConv.apply(
            top, sign * conv.weight, conv.stride, conv.padding, conv.dilation, conv.groups, conv.top_down_dtype
        )
        crm = crm + sign * cast(torch.Tensor, conv.bias)[:, None, None]
        return _upsampled(crm, size), crm

    return head


def _response(net: nn.Module) -> Callable[[torch.Tensor], tuple[torch.Tensor, BackboneOutput]]:
    def response(inputs: torch.Tensor) -> tuple[torch.Tensor, BackboneOutput]:
        out = net(inputs)
        return _upsampled(out.crm, inputs.shape[-2:]), out

    return response


def _upsampled(crm: torch.Tensor, size: torch.Size) -> torch.Tensor:
    return F.interpolate(crm, size=size, mode="bilinear", align_corners=False)


def _seeds(response: torch.Tensor, peaks: torch.Tensor) -> torch.Tensor:
    """(n, *response.shape) one-hot maps, the unit probability at each peak (class, y, x)."""
    seeds = response.new_zeros((len(peaks), *response.shape))
    seeds[torch.arange(len(peaks)), 0, peaks[:, 0], peaks[:, 1], peaks[:, 2]] = 1
    return seeds


def peak_response_maps(response: torch.Tensor, pullback: Pullback, peaks: torch.Tensor) -> torch.Tensor:
    """(n, H, W) PRMs of ``peaks`` (n, 3) = (class, y, x) of ``response`` (1, C, H, W) from :func:`top_down`,
    in one backward pass vectorised over the peaks."""
    if len(peaks) == 0:
        return response.new_zeros((0, *response.shape[-2:]))
    (p_input,) = torch.func.vmap(pullback)(_seeds(response, peaks))
    return _pixel_maps(p_input[:, 0])


def peak_response_maps_looped(response: torch.Tensor, pullback: Pullback, peaks: torch.Tensor) -> torch.Tensor:
    """Reference for :func:`peak_response_maps`: one backward pass per peak."""
    maps = [pullback(seed)[0][0] for seed in _seeds(response, peaks)]
    return _pixel_maps(torch.stack(maps)) if maps else response.new_zeros((0, *response.shape[-2:]))
