"""Response maps (PRMs, CAMs) resized and rescaled to max 1: NumPy and OpenCV only, so the rules of
the torch-free core env (baselines, transfer evaluation) can use them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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


def normalise_prms(prms: np.ndarray) -> np.ndarray:
    """(m, H, W) -> (m, H*W) float32, each row non-negative and summing to 1 (0 if empty)."""
    flat = np.clip(prms.reshape(len(prms), int(np.prod(prms.shape[1:]))).astype(np.float32), 0, None)
    mass = flat.sum(1, keepdims=True)
    return np.divide(flat, mass, out=np.zeros_like(flat), where=mass > 0)


def kept_mass(whole: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """(n,) share of each of the (n, H, W) ``whole`` maps' positive mass that ``cut`` keeps (1 for an
    all-zero map)."""
    before = np.clip(whole, 0, None).reshape(len(whole), -1).sum(1, dtype=np.float64)
    after = np.clip(cut, 0, None).reshape(len(cut), -1).sum(1, dtype=np.float64)
    return np.divide(after, before, out=np.ones_like(before), where=before > 0)


@dataclass(frozen=True)
class Competition:
    """How an image's PRMs compete for their pixels before they are used (ours; ``share`` 0, the
    default, leaves them whole as the papers do): :func:`compete` with these settings, from the keys
    ``prm_competition`` and ``duplicate_cosine`` of a config section."""

    share: float = 0.0
    duplicate_cosine: float = 1.0

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> Competition:
        return cls(section.get("prm_competition", cls.share), section.get("duplicate_cosine", cls.duplicate_cosine))

    def cut(self, prms: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """The (n, H, W) PRMs of peaks of ``classes`` after their competition."""
        return compete(prms, self.share, classes, self.duplicate_cosine)

    def kept(self, prms: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`cut` and each PRM's :func:`kept_mass` under it."""
        cut = self.cut(prms, classes)
        return cut, kept_mass(prms, cut)


def compete(
    prms: np.ndarray, share: float, classes: np.ndarray | None = None, duplicate_cosine: float = 1.0
) -> np.ndarray:
    """Each of the (n, H, W) PRMs cut to the pixels where it holds at least ``share`` x the largest of
    its rivals, all compared as distributions (each rescaled to sum 1). Its rivals are the image's
    other PRMs except those of its own class (``classes``) whose cosine similarity with it is at least
    ``duplicate_cosine``: two peaks on one instance, which NMS merges later, are not split between
    them. A PRM without rivals, or one the cut would empty, stays whole; ``share`` 0 keeps all whole."""
    if share <= 0 or len(prms) < 2:
        return prms
    dist = normalise_prms(prms)
    unit = dist / np.maximum(np.linalg.norm(dist, axis=1, keepdims=True), 1e-12)
    duplicate = unit @ unit.T >= duplicate_cosine
    if classes is not None:
        duplicate &= classes[:, None] == classes[None, :]
    out = prms.copy()
    for i in range(len(prms)):
        rivals = ~duplicate[i]
        rivals[i] = False
        if not rivals.any():
            continue
        cut = np.where(dist[i] >= share * dist[rivals].max(0), prms[i].reshape(-1), 0).reshape(prms.shape[1:])
        if (cut > 0).any():
            out[i] = cut
    return out
