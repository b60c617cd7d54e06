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
:mod:`iam.models.window`; no pixel-shuffling "blur" downsampling is applied.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from iam.models.window import Window, tap_positions

EXP_FLOOR = -80.0  # exp(-80) ~ 1.8e-35, above float32's smallest normal (~1.2e-38)


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


def flat_kernel(image: torch.Tensor, params: CRFParams) -> torch.Tensor:
    """(r^2, span) kernel k(x, neighbour_s(x)) in the flat layout of ``Window(H, W, r)``: zero for the
    centre, for neighbours outside the image and on the pad columns. ``image`` is (3, H, W) in [0, 255].

    Colour distances are written offset by offset into one buffer, then both Gaussians are one
    vectorised expression over all offsets. The bilateral exponent is clamped at ``EXP_FLOOR``:
    exp() of lower values underflows to subnormals, which x86 CPUs compute ~13-35x slower (that
    was more than half of this function's time at 128 px), and changes the kernel by < 1e-34.
    """
    r = params.filter_size
    win = Window(image.shape[-2], image.shape[-1], r)
    flat = win.to_flat(image.float())
    inside = win.to_flat(torch.ones(image.shape[-2:], device=image.device))
    centre, diff = win.shifted(flat, 0), torch.empty(3, win.span, device=image.device)
    colour2, valid = flat.new_empty(r * r, win.span), flat.new_empty(r * r, win.span)
    for s, off in enumerate(win.offsets()):
        torch.sub(win.shifted(flat, off), centre, out=diff)
        torch.mul(diff[0], diff[0], out=colour2[s]).addcmul_(diff[1], diff[1]).addcmul_(diff[2], diff[2])
        valid[s] = win.shifted(inside, off)  # valid_neighbours() instead: kernel +40 % at 448 px
    valid.mul_(win.shifted(inside, 0))[r * r // 2] = 0
    dist2 = torch.tensor([dy * dy + dx * dx for dy, dx in tap_positions(r)], device=image.device)[:, None].float()
    bilateral = colour2.mul_(-1 / (2 * params.bil_colour**2)).sub_(dist2 / (2 * params.bil_sdims**2))
    bilateral = bilateral.clamp_(min=EXP_FLOOR).exp_()
    spatial = params.pos_compat * torch.exp(-dist2 / (2 * params.pos_sdims**2))
    return bilateral.mul_(params.bil_compat).add_(spatial).mul_(valid)


def pairwise_kernel(image: torch.Tensor, params: CRFParams) -> torch.Tensor:
    """(r^2, H, W) kernel of :func:`flat_kernel` on the image grid."""
    return Window(image.shape[-2], image.shape[-1], params.filter_size).weights_from_flat(flat_kernel(image, params))


def mean_field(unary: torch.Tensor, kernel: torch.Tensor, params: CRFParams) -> torch.Tensor:
    """Mean-field marginals Q (B, L, H, W) from unary log-probabilities ``unary`` (B, L, H, W) and a
    :func:`flat_kernel`."""
    win = Window(unary.shape[-2], unary.shape[-1], params.filter_size)
    q = unary.softmax(1)
    for _ in range(params.iterations):
        message = win.from_flat(win.sum(win.to_flat(q), kernel))
        q = (unary + params.message_weight * message).softmax(1)
    return q


def refine(image: torch.Tensor, unary: torch.Tensor, params: CRFParams) -> torch.Tensor:
    """ConvCRF marginals for label maps ``unary`` (B, L, H, W) on one ``image`` (3, H, W) in [0, 255]."""
    return mean_field(unary, flat_kernel(image, params), params)


def mean_field_foreground(logit: torch.Tensor, kernel: torch.Tensor, params: CRFParams) -> torch.Tensor:
    """Foreground marginals (B, H, W) of :func:`mean_field` for two labels, background and foreground,
    from the unary log-odds ``logit`` = U_fg - U_bg (B, H, W) and a :func:`flat_kernel`.

    With Q_bg = 1 - Q_fg the background message is K - m_fg, K = sum_y k(x, y), and the softmax of
    the pair is sigmoid(logit + w (2 m_fg - K)): one windowed sum per iteration instead of two, kept
    in the flat padded layout between iterations.
    """
    win = Window(logit.shape[-2], logit.shape[-1], params.filter_size)
    inside = win.to_flat(torch.ones_like(logit[0]))
    offset = win.to_flat(logit)
    q = offset.sigmoid().mul_(inside)
    win.shifted(offset, 0).sub_(params.message_weight * kernel.sum(0))
    for _ in range(params.iterations):
        q = win.sum(q, kernel).mul_(2 * params.message_weight).add_(offset).sigmoid_().mul_(inside)
    return win.from_flat(q)


def refine_foreground(image: torch.Tensor, logit: torch.Tensor, params: CRFParams) -> torch.Tensor:
    """ConvCRF foreground marginals (B, H, W) of fg/bg problems with log-odds ``logit`` (B, H, W) on one
    ``image`` (3, H, W) in [0, 255]; equal to ``refine`` on the two-label unary, at half its message cost."""
    return mean_field_foreground(logit, flat_kernel(image, params), params)
