"""Fig. 5: the filling weights of one image as a vector field.

The channel mean of W (r^2 maps on the N x N grid) minus its mean over the window, so that flat
regions, which fill evenly from every neighbour, vanish. Each grid cell then gets one arrow per
neighbour (the 8 for r = 3; any window size works) pointing towards it, with length = the
remaining weight where positive, drawn over the image resized to the grid's extent.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from iam.io.atomic import atomic_path  # noqa: E402
from iam.models.window import tap_positions  # noqa: E402


def direction_field(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Neighbour offsets (r^2, 2) as (dy, dx) and the (r^2, N, N) channel-mean-minus-window-mean weights."""
    mean = weights.mean(0)
    field = mean - mean.mean(0, keepdims=True)
    r = int(round(np.sqrt(len(mean))))
    offsets = np.array(tap_positions(r), np.float32)
    return offsets, field


def render_filling_weights(image: np.ndarray, weights: np.ndarray, out: str | Path, title: str = "") -> None:
    """Write the Fig. 5 style PNG of ``weights`` (C, r^2, N, N) over ``image`` (H, W, 3) uint8."""
    offsets, field = direction_field(weights)
    n = field.shape[-1]
    height, width = image.shape[:2]
    ys, xs = np.meshgrid((np.arange(n) + 0.5) * height / n, (np.arange(n) + 0.5) * width / n, indexing="ij")
    scale = 0.5 * min(height, width) / n / max(float(field.max()), 1e-12)
    fig, ax = plt.subplots(figsize=(6, 6 * height / width))
    ax.imshow(image)
    for (dy, dx), value in zip(offsets, field):
        if dy == 0 and dx == 0:
            continue
        length = np.clip(value, 0, None) * scale / np.hypot(dy, dx)
        ax.quiver(
            xs,
            ys,
            dx * length,
            dy * length,
            angles="xy",
            scale_units="xy",
            scale=1,
            color="yellow",
            width=0.002,
            headwidth=3,
        )
    ax.set_axis_off()
    ax.set_title(title or "filling weights: channel mean minus window mean")
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=150, bbox_inches="tight")
    plt.close(fig)
