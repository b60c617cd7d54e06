"""Class peaks of a response map, as single pixels (for PRM extraction).

Same rule as the training-time peak stimulation (:func:`iam.models.backbone.peak_mask`): a peak is
a pixel equal to the maximum of its 3x3 window (outside the map counts as -inf) that is above the
map's median, or is the map's maximum. A plateau of equal candidates (8-connected) is one peak,
placed at its first pixel in raster order.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def find_peaks(response: np.ndarray, threshold: float = -np.inf, max_peaks: int | None = None) -> np.ndarray:
    """(k, 2) int (y, x) of the peaks of a (h, w) map with value > ``threshold``, highest first."""
    local = response == ndimage.maximum_filter(response, size=3, mode="constant", cval=-np.inf)
    candidates = local & ((response > np.median(response)) | (response == response.max()))
    components, _ = ndimage.label(candidates, structure=np.ones((3, 3), bool))
    flat = components.ravel()
    _, first = np.unique(flat, return_index=True)
    first = first[flat[first] > 0]
    first = first[response.ravel()[first] > threshold]
    first = first[np.argsort(-response.ravel()[first], kind="stable")][:max_peaks]
    return np.stack(np.unravel_index(first, response.shape), axis=1).astype(np.int64)
