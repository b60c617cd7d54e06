"""Peak backpropagation: the custom conv rule against a direct NumPy Eq. 1, batched vs looped."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from iam.models.backbone import PeakBackbone
from iam.prm.backprop import peak_response_maps, peak_response_maps_looped, probabilistic, top_down


def eq1_conv(u: np.ndarray, w: np.ndarray, p_out: np.ndarray, stride: int, pad: int) -> np.ndarray:
    """Eq. 1 for one conv layer, written out location by location."""
    u = u - min(u.min(), 0.0)
    w = np.maximum(w, 0.0)
    k, kh, kw = w.shape[1:]
    up = np.pad(u, ((0, 0), (pad, pad), (pad, pad)))
    p_in = np.zeros_like(up)
    for c, i, j in np.ndindex(p_out.shape):
        window = up[:, i * stride : i * stride + kh, j * stride : j * stride + kw]
        t = window * w[c]
        if p_out[c, i, j] and t.sum() > 0:
            p_in[:, i * stride : i * stride + kh, j * stride : j * stride + kw] += p_out[c, i, j] * t / t.sum()
    return p_in[:, pad : pad + u.shape[1], pad : pad + u.shape[2]]


@pytest.fixture
def tiny_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.Conv2d(3, 2, 3, stride=2, padding=1)).eval()


def test_custom_backward_equals_numpy_eq1(tiny_net):
    x = torch.randn(1, 2, 7, 7)
    net = probabilistic(tiny_net)
    xg = x.clone().requires_grad_(True)
    out = net(xg)
    assert torch.allclose(out, tiny_net(x), atol=1e-6)  # forward values unchanged
    peak = (1, 2, 1)
    (grad,) = torch.autograd.grad(out[0][peak], xg)

    conv1, conv2 = tiny_net[0], tiny_net[2]
    hidden = F.relu(conv1(x))[0].detach().numpy()
    p_top = np.zeros(out.shape[1:])
    p_top[peak] = 1.0
    p_hidden = eq1_conv(hidden, conv2.weight.detach().numpy(), p_top, stride=2, pad=1)
    p_pixels = eq1_conv(x[0].numpy(), conv1.weight.detach().numpy(), p_hidden, stride=1, pad=1)
    np.testing.assert_allclose(grad[0].numpy(), p_pixels, rtol=1e-4, atol=1e-7)
    assert p_pixels.min() >= 0 and p_pixels.sum() == pytest.approx(1.0, abs=1e-5)


@pytest.fixture(scope="module")
def resnet_case():
    torch.manual_seed(1)
    model = PeakBackbone("resnet18", 3).eval()
    for m in model.modules():  # non-trivial batch-norm statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return model, probabilistic(model), torch.randn(1, 3, 32, 32)


def test_probabilistic_resnet_keeps_forward_and_conserves_mass(resnet_case):
    model, net, x = resnet_case
    response, pullback, out = top_down(net, x)
    with torch.no_grad():
        assert torch.allclose(out.crm, model(x).crm, atol=1e-5)
    seed = torch.zeros_like(response)
    seed[0, 1, 10, 20] = 1
    (p,) = pullback(seed)
    assert p.min() >= 0
    assert p.sum().item() == pytest.approx(1.0, abs=0.05)  # only mass at Z = 0 parents is dropped


def test_batched_prms_equal_looped(resnet_case):
    _, net, x = resnet_case
    peaks = torch.tensor([[0, 3, 4], [2, 16, 16], [1, 30, 1], [0, 20, 25]])
    response, pullback, _ = top_down(net, x)
    batched = peak_response_maps(response, pullback, peaks)
    looped = peak_response_maps_looped(response, pullback, peaks)
    assert batched.shape == (4, 32, 32)
    torch.testing.assert_close(batched, looped, rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(batched.sum((1, 2)), torch.ones(4))
    assert not torch.allclose(batched[0], batched[1])  # different peaks, different maps


def test_no_peaks_gives_empty_stack(resnet_case):
    _, net, x = resnet_case
    response, pullback, _ = top_down(net, x)
    assert peak_response_maps(response, pullback, torch.zeros((0, 3), dtype=torch.long)).shape == (0, 32, 32)


def _conv_backward_calls(fn, *args) -> int:
    with torch.profiler.profile() as prof:
        fn(*args)
    return sum(e.count for e in prof.key_averages() if e.key == "aten::convolution_backward")


def test_batched_backward_cost_does_not_grow_with_peaks(resnet_case):
    """The peaks are the batch of one backward pass: as many convolution backward calls for 4 peaks as
    for 1 (``autograd.grad(..., is_grads_batched=True)`` ran the custom rule once per peak)."""
    _, net, x = resnet_case
    response, pullback, _ = top_down(net, x)
    peaks = torch.tensor([[0, 3, 4], [2, 16, 16], [1, 30, 1], [0, 20, 25]])
    one = _conv_backward_calls(peak_response_maps, response, pullback, peaks[:1])
    assert one > 0
    assert _conv_backward_calls(peak_response_maps, response, pullback, peaks) == one
    assert _conv_backward_calls(peak_response_maps_looped, response, pullback, peaks) >= 2 * one


def test_bfloat16_top_down_pass_stays_close_to_float32(resnet_case):
    """prm.dtype bfloat16: the convolutions of the top-down pass round to bfloat16, the maps move by
    a fraction of a percent and still sum to one; the forward pass (peaks, scores) is unchanged."""
    model, net, x = resnet_case
    peaks = torch.tensor([[0, 3, 4], [2, 16, 16], [1, 30, 1]])
    response, pullback, out = top_down(net, x)
    reference = peak_response_maps(response, pullback, peaks)
    response16, pullback16, out16 = top_down(probabilistic(model, torch.bfloat16), x)
    maps = peak_response_maps(response16, pullback16, peaks)
    assert torch.equal(out16.crm, out.crm)
    assert maps.dtype == torch.float32
    l1 = (maps - reference).abs().sum((1, 2)) / reference.abs().sum((1, 2))
    assert (l1 > 0).all() and (l1 < 0.02).all()
    torch.testing.assert_close(maps.sum((1, 2)), torch.ones(3))


def _level_probabilities(net: nn.Module, x: torch.Tensor, level: str, seed: torch.Tensor) -> torch.Tensor:
    """Reference: the probabilities a unit seed of the upsampled CRM sends to the backbone level ``level``
    (res2/res3/res4: the output of layer1/2/3), by autograd through the probabilistic modules."""
    stages = ["stem", "layer1", "layer2", "layer3", "layer4"]
    depth = {"res2": 2, "res3": 3, "res4": 4}[level]
    h = x
    for stage in stages[:depth]:
        h = getattr(net, stage)(h)
    h = h.detach().requires_grad_(True)
    top = h
    for stage in stages[depth:]:
        top = getattr(net, stage)(top)
    response = F.interpolate(net.classifier(top), size=x.shape[-2:], mode="bilinear", align_corners=False)
    (p,) = torch.autograd.grad(response, h, seed)
    return p


@pytest.mark.parametrize("level", ["res2", "res3", "res4"])
def test_contrastive_pass_carries_down_what_the_class_sends_beyond_its_dual(resnet_case, level):
    """prm.contrast: the probabilities at the level minus those of the dual unit (a copy of the network
    whose classifier weights and bias are negated), clamped at zero, then the ordinary pass to the
    pixels; the forward values (CRMs, scores, features) are the plain pass's."""
    model, net, x = resnet_case
    dual_model = copy.deepcopy(model)
    with torch.no_grad():
        dual_model.classifier.weight.neg_()
        dual_model.classifier.bias.neg_()
    response, pullback, out = top_down(net, x, level)
    plain_response, plain_pullback, plain_out = top_down(net, x)
    torch.testing.assert_close(response, plain_response)
    torch.testing.assert_close(out.scores, plain_out.scores)
    assert out.features.keys() == plain_out.features.keys()
    for key, value in plain_out.features.items():
        torch.testing.assert_close(out.features[key], value)
    seed = torch.zeros_like(response)
    seed[0, 1, 10, 20] = 1
    rest = (
        _level_probabilities(net, x, level, seed) - _level_probabilities(probabilistic(dual_model), x, level, seed)
    ).clamp(min=0)
    assert 0 < rest.sum() < 1  # the contrast removes some mass and keeps some
    h = x.clone().requires_grad_(True)
    below = h
    for stage in ["stem", "layer1", "layer2", "layer3"][: {"res2": 2, "res3": 3, "res4": 4}[level]]:
        below = getattr(net, stage)(below)
    (expected,) = torch.autograd.grad(below, h, rest)
    (p,) = pullback(seed)
    torch.testing.assert_close(p, expected, rtol=1e-4, atol=1e-8)
    (plain,) = plain_pullback(seed)
    assert p.min() >= 0 and (p / p.sum() - plain / plain.sum()).abs().sum() > 0.01  # another map
