"""Convolutional CRF (Teichmann & Cipolla 2018): mean-field inference with messages restricted to a
k x k window, used to refine IAM boundaries (paper §3.3, Post-processing).

Pairwise kernel between a pixel x and a window neighbour y != x (colours in [0, 255]):

    k(x, y) = pos_compat * exp(-|p_x - p_y|^2 / (2 pos_sdims^2))
            + bil_compat * exp(-|p_x - p_y|^2 / (2 bil_sdims^2) - |I_x - I_y|^2 / (2 bil_colour^2))

Mean field with the Potts model, as in the ConvCRF reference configuration (log-softmax unary,
attractive messages scaled by ``message_weight``; their ``weight_init`` 0.2):

    Q = softmax(U);   repeat: Q = softmax(U + message_weight * sum_y k(x, y) Q(y))

The kernel depends only on the image, so it is computed once and shared by every label map in a
batch (e.g. all of an image's instances). Messages are windowed sums in the flat padded layout of
:mod:`iam.crf.window`; no pixel-shuffling "blur" downsampling is applied.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from iam.crf.window import Window


@dataclass(frozen=True)
class CRFParams:
    """ConvCRF settings (defaults from the ConvCRF paper and code)."""

    filter_size: int = 7
    iterations: int = 5
    pos_sdims: float = 3.0
    pos_compat: float = 3.0
    bil_sdims: float = 80.0
    bil_colour: float = 13.0
    bil_compat: float = 10.0
    message_weight: float = 0.2


def pairwise_kernel(image: torch.Tensor, params: CRFParams) -> torch.Tensor:
    """(r^2, H, W) kernel k(x, neighbour_s(x)); zero for the centre and outside the image.

    ``image`` is (3, H, W) float in [0, 255].
    """
    r = params.filter_size
    height, width = image.shape[-2:]
    win = Window(height, width, r)
    flat = win.to_flat(image.float())
    inside = win.to_flat(torch.ones(height, width, device=image.device))
    rows = []
    for s, off in enumerate(win.offsets()):
        dy, dx = s // r - r // 2, s % r - r // 2
        dist2 = float(dy * dy + dx * dx)
        colour2 = (win.shifted(flat, off) - win.shifted(flat, 0)).pow(2).sum(0)
        k = params.pos_compat * torch.exp(torch.tensor(-dist2 / (2 * params.pos_sdims ** 2)))
        k = k + params.bil_compat * torch.exp(-dist2 / (2 * params.bil_sdims ** 2) - colour2 / (2 * params.bil_colour ** 2))
        rows.append(k * win.shifted(inside, off) * (s != r * r // 2))
    return win.weights_from_flat(torch.stack(rows))


def mean_field(unary: torch.Tensor, kernel: torch.Tensor, params: CRFParams) -> torch.Tensor:
    """Mean-field marginals Q (B, L, H, W) from unary log-probabilities ``unary`` (B, L, H, W)."""
    height, width = unary.shape[-2:]
    win = Window(height, width, params.filter_size)
    kf = win.weights_to_flat(kernel)
    q = unary.softmax(1)
    for _ in range(params.iterations):
        message = win.from_flat(win.sum(win.to_flat(q), kf))
        q = (unary + params.message_weight * message).softmax(1)
    return q


def refine(image: torch.Tensor, unary: torch.Tensor, params: CRFParams) -> torch.Tensor:
    """ConvCRF marginals for label maps ``unary`` (B, L, H, W) on one ``image`` (3, H, W) in [0, 255]."""
    return mean_field(unary, pairwise_kernel(image, params), params)
