"""The filling module: windowed op, filling weights, fill() and its memory-bounded backward."""

from functools import partial

import pytest
import torch

from iam.models.filling import FillingModule, FillingWeights, _run, fill
from iam.models.window import Window, valid_neighbours, window_sum

IN_CHANNELS = {"res2": 4, "res3": 6, "res4": 8}


def naive_window_sum(x: torch.Tensor, w: torch.Tensor, r: int, d: int = 1) -> torch.Tensor:
    """Per-pixel loops over Eq. 3 (zero outside the map), taps ``d`` apart."""
    out = torch.zeros_like(x)
    height, width = x.shape[-2:]
    for i in range(height):
        for j in range(width):
            for s in range(r * r):
                u, v = i + d * (s // r - r // 2), j + d * (s % r - r // 2)
                if 0 <= u < height and 0 <= v < width:
                    out[..., i, j] += w[..., s, i, j] * x[..., u, v]
    return out


@pytest.mark.parametrize("radius", [3, 5])
def test_window_sum_matches_naive_reference(radius):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 6, 7, generator=g, dtype=torch.float64)
    w = torch.rand(2, 3, radius * radius, 6, 7, generator=g, dtype=torch.float64)
    torch.testing.assert_close(window_sum(x, w, radius), naive_window_sum(x, w, radius))


@pytest.mark.parametrize("dilation", [1, 2])
def test_unrecorded_window_ops_equal_the_recorded_ones_and_keep_the_layout_zero(dilation):
    """Without autograd, sum and adjoint zero only what their first tap does not write; the flat
    layout (padding included) must come out exactly as from the zero-initialised path autograd uses,
    whatever the freshly allocated buffer held."""
    g = torch.Generator().manual_seed(1)
    win = Window(6, 7, 3, dilation, margin=2 * dilation)
    xf = win.to_flat(torch.rand(2, 3, 6, 7, generator=g))
    wf = win.weights_to_flat(torch.rand(2, 3, 9, 6, 7, generator=g))
    for _ in range(3):  # dirty the allocator's free blocks so that new_empty returns garbage
        torch.full((4 * xf.numel(),), float("nan"))
    with torch.no_grad():
        fast_sum, fast_adjoint = win.sum(xf, wf), win.adjoint(xf, wf)
    recorded_w = wf.clone().requires_grad_()
    assert torch.equal(fast_sum, win.sum(xf, recorded_w).detach())
    assert torch.equal(fast_adjoint, win.adjoint(xf, recorded_w).detach())
    assert not fast_sum.isnan().any() and (win.to_flat(win.from_flat(fast_sum)) == fast_sum).all()


def test_fill_is_repeated_window_sum():
    g = torch.Generator().manual_seed(1)
    x = torch.rand(3, 2, 5, 5, generator=g, dtype=torch.float64)
    w = torch.rand(3, 2, 9, 5, 5, generator=g, dtype=torch.float64)
    ref = x
    for _ in range(4):
        ref = naive_window_sum(ref, w, 3)
    torch.testing.assert_close(fill(x, w, 4).double(), ref, rtol=1e-5, atol=1e-6)


def features(batch: int, size: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(2)
    return {
        "res2": torch.randn(batch, 4, size, size, generator=g),
        "res3": torch.randn(batch, 6, size // 2, size // 2, generator=g),
        "res4": torch.randn(batch, 8, size // 2, size // 2, generator=g),
    }


def test_filling_weights_are_a_distribution_over_in_map_neighbours():
    w = FillingWeights(IN_CHANNELS, channels=3, radius=3, pyramid_channels=5)(features(2, 8), (8, 8))
    assert w.shape == (2, 3, 9, 8, 8)
    assert (w >= 0).all()
    torch.testing.assert_close(w.sum(2), torch.ones(2, 3, 8, 8))
    outside = ~valid_neighbours(8, 8, 3)
    assert outside.any() and (w[:, :, outside] == 0).all()


@pytest.mark.parametrize("recompute", [True, False])
def test_gradcheck_custom_backward(recompute):
    g = torch.Generator().manual_seed(3)
    x = torch.rand(2, 2, 4, 5, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.rand(2, 2, 9, 4, 5, generator=g, dtype=torch.float64).softmax(2).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: fill(a, b, 5, recompute=recompute).double(), (x, w))


def _fill_by_autograd(x: torch.Tensor, w: torch.Tensor, steps: int) -> torch.Tensor:
    """The reference: autograd through every window sum of every step."""
    win = Window(x.shape[-2], x.shape[-1], 3)
    return win.from_flat(_run((win,), win.to_flat(x), win.weights_to_flat(w), steps))


def test_custom_backward_with_and_without_recompute_agrees_with_autograd_in_float32():
    g = torch.Generator().manual_seed(4)
    x = torch.rand(3, 4, 8, 8, generator=g)
    w = torch.rand(3, 4, 9, 8, 8, generator=g).softmax(2)
    grads = []
    for run in (partial(fill, recompute=True), partial(fill, recompute=False), _fill_by_autograd):
        xr, wr = x.clone().requires_grad_(), w.clone().requires_grad_()
        (run(xr, wr, 8) * torch.arange(64.0).view(8, 8)).sum().backward()
        grads.append((xr.grad, wr.grad))
    torch.testing.assert_close(grads[0], grads[2])
    torch.testing.assert_close(grads[1], grads[2])


def test_single_impulse_spreads_to_the_whole_map_in_n_steps():
    n = 9
    x = torch.zeros(1, 1, n, n)
    x[0, 0, 0, 0] = 1.0
    valid = valid_neighbours(n, n, 3).float()
    uniform = (valid / valid.sum(0, keepdim=True))[None, None]
    assert (fill(x, uniform, n) > 0).all()
    assert fill(x, uniform, n - 2)[0, 0, -1, -1] == 0  # one step reaches one pixel further


def test_weights_are_shared_per_image_and_prms_fill_independently():
    torch.manual_seed(0)
    module = FillingModule(IN_CHANNELS, channels=4, radius=3, pyramid_channels=6).eval()
    feats = features(2, 8)
    prms = torch.rand(3, 1, 32, 32)
    owner = torch.tensor([1, 0, 1])
    with torch.no_grad():
        together = module(prms, feats, owner)
        alone = module(prms[2:], {k: v[1:] for k, v in feats.items()}, torch.tensor([0]))
    assert together.shape == (3, 1, 32, 32)
    torch.testing.assert_close(together[2:], alone)
    assert not torch.allclose(together[0], together[2])


def test_dilated_fill_cycles_its_windows_and_matches_the_reference():
    g = torch.Generator().manual_seed(5)
    x = torch.rand(2, 2, 7, 6, generator=g, dtype=torch.float64)
    w = torch.rand(2, 2, 18, 7, 6, generator=g, dtype=torch.float64)  # dilations (1, 3): two 3x3 blocks
    ref = x
    for step in range(4):
        d, block = (1, w[:, :, :9]) if step % 2 == 0 else (3, w[:, :, 9:])
        ref = naive_window_sum(ref, block, 3, d)
    torch.testing.assert_close(fill(x, w, 4, dilations=(1, 3)).double(), ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("recompute", [True, False])
@pytest.mark.parametrize("steps", [3, 2])  # 2 < 3 windows: a window without a step has zero weight gradient
def test_gradcheck_dilated_backward(recompute, steps):
    g = torch.Generator().manual_seed(6)
    x = torch.rand(1, 2, 5, 6, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.rand(1, 2, 27, 5, 6, generator=g, dtype=torch.float64).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: fill(a, b, steps, recompute, (1, 2, 3)).double(), (x, w))


def test_dilated_filling_weights_are_distributions_per_dilation():
    w = FillingWeights(IN_CHANNELS, 3, 3, 5, affinity=4, dilations=(1, 2))(features(2, 8), (8, 8))
    assert w.shape == (2, 3, 18, 8, 8)
    torch.testing.assert_close(w[:, :, :9].sum(2), torch.ones(2, 3, 8, 8))
    torch.testing.assert_close(w[:, :, 9:].sum(2), torch.ones(2, 3, 8, 8))
    assert (w[:, :, 9:][:, :, ~valid_neighbours(8, 8, 3, dilation=2)] == 0).all()


@pytest.mark.parametrize("radius, dilation", [(3, 1), (3, 2), (5, 1)])
def test_embedding_distance_of_each_tap_is_to_the_neighbour_the_window_reads(radius, dilation):
    """Tap s of the affinity term and tap s of the windowed sum must be the same neighbour."""
    weights = FillingWeights(IN_CHANNELS, 2, radius, 5, affinity=3, dilations=(dilation,))
    e = torch.rand(1, 3, 6, 7, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    distances = weights.feature_distances(e, dilation)
    inside = valid_neighbours(6, 7, radius, dilation=dilation)
    for s in range(radius * radius):
        one_hot = torch.zeros(1, radius * radius, 6, 7, dtype=torch.float64)
        one_hot[:, s] = 1
        neighbour = naive_window_sum(e, one_hot[:, None].expand(1, 3, -1, 6, 7), radius, dilation)
        expected = (neighbour - e).pow(2).sum(1)[0]
        torch.testing.assert_close(distances[0, s][inside[s]], expected[inside[s]])


@pytest.mark.parametrize("recompute", [True, False])
def test_layout_without_pad_columns_equals_the_padded_one_for_masked_weights(recompute):
    """FillingWeights vanish at taps outside the map, so fill(masked=True) may drop the pad columns:
    a tap leaving a row then reads the next row with weight zero. Values and gradients must not change."""
    w = FillingWeights(IN_CHANNELS, 2, 3, 5, affinity=4, dilations=(1, 2))(features(2, 6), (6, 7)).double()
    x = torch.rand(2, 2, 6, 7, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    results = []
    for masked in (False, True):
        xr, wr = x.clone().requires_grad_(), w.detach().clone().requires_grad_()
        out = fill(xr, wr, 5, recompute, (1, 2), masked=masked)
        (out * torch.arange(42.0, dtype=torch.float64).view(6, 7)).sum().backward()
        results.append((out.detach(), xr.grad, wr.grad[wr.detach() > 0]))  # masked taps get no gradient in use
    for padded, unpadded in zip(*results):
        torch.testing.assert_close(unpadded, padded, rtol=1e-12, atol=1e-12)


def test_prms_are_filled_in_chunks_with_the_same_result(monkeypatch):
    """FillingModule fills its PRMs in chunks (CHUNK_BYTES); one chunk per PRM gives the same maps and gradients."""
    torch.manual_seed(0)
    module = FillingModule(IN_CHANNELS, channels=4, radius=3, pyramid_channels=6, affinity=3, dilations=(1, 2))
    feats, prms, owner = features(2, 8), torch.rand(5, 1, 32, 32), torch.tensor([0, 1, 1, 0, 1])
    results = []
    for chunk_bytes in (2**30, 1):
        monkeypatch.setattr("iam.models.filling.CHUNK_BYTES", chunk_bytes)
        module.zero_grad()
        out = module(prms, feats, owner)
        out.square().mean().backward()
        results.append((out.detach(), [p.grad.clone() for p in module.parameters()]))
    torch.testing.assert_close(results[1][0], results[0][0], rtol=0, atol=0)
    torch.testing.assert_close(results[1][1], results[0][1])
