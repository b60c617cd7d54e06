"""Ground-truth diagnostics of the learned filling weights (Fig. 5 in numbers; evaluation only).

On the N x N grid of the filling steps, with the GT instance map resized to it (nearest; void cells
left out), over every location, channel and in-map neighbour of the val images:

``weight_entropy``   mean entropy of a location's weights over its in-map neighbours, divided by
                     the log of their number (1 = uniform averaging, 0 = copy one neighbour)
``boundary_ratio``   mean weight a location gives to a neighbour of another region (instance or
                     background) over the mean weight it gives to a neighbour of its own region
                     (1 = blind to boundaries; the lower, the more filling stops at object edges)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

import cv2
import numpy as np
import torch

from iam.data.voc import GTInstances
from iam.inference import image_filling_weights
from iam.models.backbone import PeakBackbone
from iam.models.filling import FillingModule
from iam.models.window import tap_positions


def region_grid(gt: GTInstances, n: int) -> np.ndarray:
    """(n, n) int: 0 background, i + 1 on instance i, -1 on void, nearest-resized to the grid."""
    regions = np.zeros(gt.void.shape, np.int32)
    for i, mask in enumerate(gt.masks):
        regions[mask] = i + 1
    regions[gt.void] = -1
    return cv2.resize(regions, (n, n), interpolation=cv2.INTER_NEAREST)


def neighbour_regions(regions: np.ndarray, r: int, dilation: int = 1) -> np.ndarray:
    """(r^2, n, n): the region of each window neighbour (taps ``dilation`` apart; -1 outside the
    map), window in raster order."""
    pad, n = dilation * (r // 2), regions.shape[0]
    padded = np.pad(regions, pad, constant_values=-1)
    shifted = [(pad + dilation * dy, pad + dilation * dx) for dy, dx in tap_positions(r)]
    return np.stack([padded[y : y + n, x : x + n] for y, x in shifted])


def weight_sums(weights: np.ndarray, regions: np.ndarray, dilations: tuple[int, ...] = (1,)) -> np.ndarray:
    """(6,) sums over one image: entropy, locations, weight across / within regions, pairs across / within.

    ``weights`` (C, D r^2, n, n): one r x r block per dilation; ``regions`` (n, n)."""
    taps = weights.shape[1] // len(dilations)
    blocks = [_block_sums(weights[:, b * taps : (b + 1) * taps], regions, d) for b, d in enumerate(dilations)]
    return cast(np.ndarray, sum(blocks))  # dilations is not empty: an array, never the start value 0


def _block_sums(weights: np.ndarray, regions: np.ndarray, dilation: int) -> np.ndarray:
    r = int(round(np.sqrt(weights.shape[1])))
    neigh = neighbour_regions(regions, r, dilation)
    centre = (r * r) // 2
    valid = neigh >= 0
    counts = (neighbour_regions(np.zeros_like(regions), r, dilation) >= 0).sum(0)  # in-map neighbours
    entropy = -(weights * np.log(np.clip(weights, 1e-12, None))).sum(1) / np.log(np.maximum(counts, 2))
    known = (regions >= 0)[None] & valid
    known[centre] = False
    across, within = known & (neigh != regions[None]), known & (neigh == regions[None])
    w = weights.mean(0)
    return np.array(
        [entropy.sum(), entropy.size, w[across].sum(), w[within].sum(), across.sum(), within.sum()], np.float64
    )


def filler_quality(
    ids: Sequence[str],
    read_image: Callable[[str], np.ndarray],
    read_gt: Callable[[str], GTInstances],
    backbone: PeakBackbone,
    filler: FillingModule,
    input_size: int,
    device: torch.device,
) -> dict[str, float]:
    """The diagnostics of the module docstring over the images ``ids``."""
    total = np.zeros(6, np.float64)
    for image_id in ids:
        weights = image_filling_weights(read_image(image_id), backbone, filler, input_size, device)
        total += weight_sums(weights, region_grid(read_gt(image_id), weights.shape[-1]), filler.weights.dilations)
    entropy, locations, w_across, w_within, n_across, n_within = total
    ratio = (w_across / max(n_across, 1)) / max(w_within / max(n_within, 1), 1e-12)
    return {"images": len(ids), "weight_entropy": float(entropy / max(locations, 1)), "boundary_ratio": float(ratio)}
