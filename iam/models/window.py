"""Windowed weighted sums over an r x r neighbourhood, the op shared by filling (Eq. 3) and ConvCRF.

``out[..., i, j] = sum_s w[..., s, i, j] * x[..., neighbour_s(i, j)]`` where neighbour ``s`` of
(i, j) is (i + dy - r//2, j + dx - r//2) with (dy, dx) = divmod(s, r) (row-major over the window)
and locations outside the map read as zero.

Maps are kept in a *flat padded* layout: zero-padded by r//2 on every side, rows flattened, plus
r//2 zeros at both ends. A window shift is then a contiguous 1-D slice, so each of the r^2 terms
is one fused multiply-add over long contiguous rows (an order of magnitude faster on CPU than
shifting 2-D slices, and nothing r^2-sized is materialised). Weights in this layout are zero on the
pad columns, which keeps the padding of every output zero, so iterating stays in the layout.

Where the weights already vanish at every tap outside the map (the filling weights, masked before
their softmax), ``column_pad=False`` drops the pad columns: a tap that leaves a row then reads the
next row's pixel, but with weight zero. Rows are then as long as the map's, every term touches a
third fewer elements at dilation 8, and weights enter the layout as a view instead of a padded copy.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Window:
    """The flat padded layout of an (height, width) map for an r x r window whose taps are
    ``dilation`` apart; ``margin`` (at least dilation * (r // 2)) pads the layout, so windows of
    several dilations can share one layout; ``column_pad`` False keeps rows unpadded (only for
    weights that are zero at every tap outside the map: module docstring)."""

    height: int
    width: int
    radius: int
    dilation: int = 1
    margin: int | None = None
    column_pad: bool = True

    @property
    def pad(self) -> int:
        return self.dilation * (self.radius // 2) if self.margin is None else self.margin

    @property
    def columns(self) -> int:
        """Pad columns on each side of a row."""
        return self.pad if self.column_pad else 0

    @property
    def stride(self) -> int:
        return self.width + 2 * self.columns

    @property
    def base(self) -> int:
        """Flat index of the first interior row."""
        return self.pad + self.pad * self.stride

    @property
    def span(self) -> int:
        """Flat length of the interior rows (pad columns included)."""
        return self.height * self.stride

    def offsets(self) -> list[int]:
        """The flat offset of each tap, in :func:`tap_positions` order."""
        return [self.dilation * (dy * self.stride + dx) for dy, dx in tap_positions(self.radius)]

    def to_flat(self, x: torch.Tensor) -> torch.Tensor:
        """(..., H, W) -> (..., L) flat padded."""
        p, c = self.pad, self.columns
        return F.pad(F.pad(x, (c, c, p, p)).flatten(-2), (p, p))

    def from_flat(self, xf: torch.Tensor) -> torch.Tensor:
        """(..., L) flat padded -> (..., H, W)."""
        rows = xf[..., self.base : self.base + self.span].unflatten(-1, (self.height, self.stride))
        return rows[..., self.columns : self.columns + self.width]

    def weights_to_flat(self, w: torch.Tensor) -> torch.Tensor:
        """(..., r^2, H, W) -> (..., r^2, span), zero on the pad columns (a view without them)."""
        return F.pad(w, (self.columns, self.columns)).flatten(-2) if self.column_pad else w.flatten(-2)

    def weights_from_flat(self, wf: torch.Tensor) -> torch.Tensor:
        """(..., r^2, span) -> (..., r^2, H, W)."""
        return wf.unflatten(-1, (self.height, self.stride))[..., self.columns : self.columns + self.width]

    def shifted(self, xf: torch.Tensor, offset: int) -> torch.Tensor:
        """The interior rows of ``xf`` moved by a flat offset (a view)."""
        start = self.base + offset
        return xf[..., start : start + self.span]

    def sum(self, xf: torch.Tensor, wf: torch.Tensor) -> torch.Tensor:
        """One windowed sum in flat layout; ``wf`` (..., r^2, span) broadcasts against ``xf`` (..., L)."""
        shape = torch.broadcast_shapes(xf.shape[:-1], wf.shape[:-2]) + xf.shape[-1:]
        taps = list(enumerate(self.offsets()))
        if _recorded(xf, wf):  # autograd cannot record mul(out=...)
            out = xf.new_zeros(shape)
            mid = out[..., self.base : self.base + self.span]
        else:  # the first tap writes mid, so only the rest is zeroed
            out = _zero_outside(xf.new_empty(shape), self.base, self.span)
            mid = out[..., self.base : self.base + self.span]
            torch.mul(wf[..., 0, :], self.shifted(xf, taps.pop(0)[1]), out=mid)
        for s, off in taps:
            mid.addcmul_(wf[..., s, :], self.shifted(xf, off))
        return out

    def adjoint(self, gf: torch.Tensor, wf: torch.Tensor) -> torch.Tensor:
        """The adjoint of :meth:`sum` in ``xf`` (for equal shapes): scatter ``w * g`` to the neighbours."""
        gmid = gf[..., self.base : self.base + self.span]
        taps = list(enumerate(self.offsets()))
        if _recorded(gf, wf):
            out = torch.zeros_like(gf)
        else:  # the first tap writes its shifted slice, so only the rest is zeroed
            first = taps.pop(0)[1]
            out = _zero_outside(torch.empty_like(gf), self.base + first, self.span)
            torch.mul(wf[..., 0, :], gmid, out=self.shifted(out, first))
        for s, off in taps:
            self.shifted(out, off).addcmul_(wf[..., s, :], gmid)
        return out

    def accumulate_weight_grad(
        self, acc: torch.Tensor, gf: torch.Tensor, xf: torch.Tensor, first: bool = False
    ) -> None:
        """``acc`` (..., r^2, span) += the gradient of :meth:`sum` in ``wf`` given output gradient ``gf``;
        ``first``: overwrite ``acc`` instead (it need not be zeroed)."""
        gmid = gf[..., self.base : self.base + self.span]
        for s, off in enumerate(self.offsets()):
            if first:
                torch.mul(gmid, self.shifted(xf, off), out=acc[..., s, :])
            else:
                acc[..., s, :].addcmul_(gmid, self.shifted(xf, off))


def tap_positions(radius: int) -> list[tuple[int, int]]:
    """(dy, dx) of the r^2 taps of an r x r window in tap units, row-major: tap s is (s // r, s % r) less
    the centre. Every layout of the window's weights (filling, CRF, their diagnostics and figures)
    indexes its taps in this order."""
    h = radius // 2
    return [(s // radius - h, s % radius - h) for s in range(radius * radius)]


def _recorded(*tensors: torch.Tensor) -> bool:
    """Whether autograd records an op on ``tensors``."""
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def _zero_outside(xf: torch.Tensor, start: int, length: int) -> torch.Tensor:
    """``xf`` with everything but [start, start + length) of its last dimension zeroed (in place): a
    buffer whose slice is about to be written need not be zeroed whole (that pass was an eighth of
    the filler's training time)."""
    xf[..., :start].zero_()
    xf[..., start + length :].zero_()
    return xf


def window_sum(x: torch.Tensor, weights: torch.Tensor, radius: int) -> torch.Tensor:
    """One windowed sum of (..., H, W) maps with (..., r^2, H, W) weights (broadcasting)."""
    win = Window(x.shape[-2], x.shape[-1], radius)
    return win.from_flat(win.sum(win.to_flat(x), win.weights_to_flat(weights)))


def valid_neighbours(
    height: int,
    width: int,
    radius: int,
    device: torch.device | None = None,
    dilation: int = 1,
) -> torch.Tensor:
    """(r^2, H, W) bool: which window entries (taps ``dilation`` apart) fall inside the map."""
    win = Window(height, width, radius, dilation)
    ones = win.to_flat(torch.ones(height, width, device=device))
    return win.weights_from_flat(torch.stack([win.shifted(ones, off) for off in win.offsets()])) > 0
