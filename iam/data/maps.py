"""Response maps (PRMs, CAMs) resized and rescaled to max 1: NumPy and OpenCV only, so the rules of
the torch-free core env (baselines, transfer evaluation) can use them."""

from __future__ import annotations

import cv2
import numpy as np


def resize_stack(maps: np.ndarray, size: int, interpolation: int) -> np.ndarray:
    """(n, H, W) -> (n, size, size) with OpenCV."""
    return (
        np.stack([cv2.resize(m, (size, size), interpolation=interpolation) for m in maps])
        if len(maps)
        else (np.zeros((0, size, size), maps.dtype))
    )


def scale_to_max(prms: np.ndarray) -> np.ndarray:
    """Rescale each (non-zero) map to max 1, the filler's PRM input convention."""
    peak = prms.reshape(len(prms), -1).max(1) if len(prms) else np.zeros(0, prms.dtype)
    return prms / np.where(peak > 0, peak, 1)[:, None, None]


def upsample_cam(crm: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) class response map bilinearly resized to ``shape`` in [0, 1]: ReLU'd and rescaled to
    max 1; a map with no positive value (a class the backbone does not see, kept as an image's top
    class) is min-max rescaled instead, so that its strongest region still stands out, as the PRM
    stage keeps such a class's strongest peak."""
    size = (shape[1], shape[0])
    cam = cv2.resize(np.clip(crm.astype(np.float32), 0, None), size, interpolation=cv2.INTER_LINEAR)
    peak = float(cam.max())
    if peak > 0:
        return cam / peak
    raw = cv2.resize(crm.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
    spread = float(raw.max() - raw.min())
    return (raw - raw.min()) / spread if spread > 0 else np.zeros_like(raw)


def compete(prms: np.ndarray, share: float, groups: np.ndarray | None = None) -> np.ndarray:
    """Each of the (n, H, W) PRMs cut to the pixels where it holds at least ``share`` x the largest of
    the image's other PRMs (only those of another ``groups`` entry, when given), all compared as
    distributions (each rescaled to sum 1). A PRM without rivals, or one the cut would empty, stays
    whole; ``share`` 0 keeps every PRM whole."""
    if share <= 0 or len(prms) < 2:
        return prms
    flat = np.clip(prms, 0, None).astype(np.float32)
    mass = flat.reshape(len(flat), -1).sum(1)
    dist = flat / np.where(mass > 0, mass, 1)[:, None, None]
    out = prms.copy()
    for i in range(len(prms)):
        rivals = np.arange(len(prms)) != i
        if groups is not None:
            rivals &= groups != groups[i]
        if not rivals.any():
            continue
        cut = np.where(dist[i] >= share * dist[rivals].max(0), prms[i], 0)
        if (cut > 0).any():
            out[i] = cut
    return out
