"""ConvCRF against a naive windowed mean-field reference."""

import math

import torch

from iam.crf.convcrf import CRFParams, pairwise_kernel, refine, refine_foreground

PARAMS = CRFParams(
    filter_size=5,
    iterations=3,
    pos_sdims=2.0,
    pos_compat=3.0,
    bil_sdims=4.0,
    bil_colour=20.0,
    bil_compat=10.0,
    message_weight=0.3,
)


def naive_mean_field(image: torch.Tensor, unary: torch.Tensor, p: CRFParams) -> torch.Tensor:
    """Per-pixel loops: Q = softmax(U + w * sum_{y in window, y != x} k(x, y) Q(y))."""
    _, _, height, width = unary.shape
    half = p.filter_size // 2
    q = unary.softmax(1)
    for _ in range(p.iterations):
        message = torch.zeros_like(q)
        for i in range(height):
            for j in range(width):
                for u in range(max(0, i - half), min(height, i + half + 1)):
                    for v in range(max(0, j - half), min(width, j + half + 1)):
                        if (u, v) == (i, j):
                            continue
                        d2 = (u - i) ** 2 + (v - j) ** 2
                        c2 = float(((image[:, u, v] - image[:, i, j]) ** 2).sum())
                        k = p.pos_compat * math.exp(-d2 / (2 * p.pos_sdims**2)) + p.bil_compat * math.exp(
                            -d2 / (2 * p.bil_sdims**2) - c2 / (2 * p.bil_colour**2)
                        )
                        message[:, :, i, j] += k * q[:, :, u, v]
        q = (unary + p.message_weight * message).softmax(1)
    return q


def test_convcrf_matches_naive_mean_field():
    g = torch.Generator().manual_seed(0)
    image = torch.rand(3, 7, 9, generator=g, dtype=torch.float64) * 255
    unary = torch.randn(2, 3, 7, 9, generator=g, dtype=torch.float64).log_softmax(1)
    torch.testing.assert_close(
        refine(image, unary, PARAMS), naive_mean_field(image, unary, PARAMS), rtol=1e-5, atol=1e-6
    )


def test_two_label_crf_is_one_foreground_map():
    g = torch.Generator().manual_seed(1)
    image = torch.rand(3, 8, 6, generator=g, dtype=torch.float64) * 255
    fg = torch.rand(2, 8, 6, generator=g, dtype=torch.float64).clamp(0.01, 0.99)
    unary = torch.stack([1 - fg, fg], dim=1).log()
    expected = naive_mean_field(image, unary, PARAMS)[:, 1]
    torch.testing.assert_close(refine_foreground(image, fg.logit(), PARAMS), expected, rtol=1e-5, atol=1e-6)


def test_kernel_excludes_centre_and_outside():
    kernel = pairwise_kernel(torch.zeros(3, 6, 6), PARAMS)
    assert kernel.shape == (25, 6, 6)
    assert (kernel[12] == 0).all()
    assert (kernel[0, :2] == 0).all() and (kernel[0, 2:, 2:] > 0).all()


def test_crf_snaps_a_blurry_map_to_a_colour_edge():
    image = torch.zeros(3, 12, 12)
    image[:, :, 6:] = 255.0  # left half black, right half white
    fg = torch.full((12, 12), 0.3)
    fg[:, 6:] = 0.7
    fg[:, 4:8] = 0.5  # ambiguous band around the edge
    unary = torch.stack([1 - fg, fg]).log()[None]
    q = refine(image, unary, CRFParams(filter_size=5, iterations=5))[0, 1]
    assert (q[:, 4:6] < 0.5).all() and (q[:, 6:8] > 0.5).all()
