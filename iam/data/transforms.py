"""Image -> network input: resize to a fixed square size, ImageNet normalisation, flips; response
maps (PRMs, CAMs) resized and rescaled to max 1."""

from __future__ import annotations

import cv2
import numpy as np
import torch

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def resize(image: np.ndarray, size: int) -> np.ndarray:
    """(H, W, 3) uint8 -> (size, size, 3) uint8 (area averaging when shrinking)."""
    shrink = size < max(image.shape[:2])
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def normalise(image: np.ndarray) -> torch.Tensor:
    """(h, w, 3) uint8 RGB -> (3, h, w) float32, ImageNet mean/std normalised."""
    x = (image.astype(np.float32) / 255.0 - MEAN) / STD
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))


def to_tensor(image: np.ndarray, size: int) -> torch.Tensor:
    """(H, W, 3) uint8 RGB -> normalised (3, size, size) float32 tensor."""
    return normalise(resize(image, size))


def hflip(x: torch.Tensor) -> torch.Tensor:
    """Mirror a (..., H, W) tensor left-right."""
    return x.flip(-1)


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
    """(H, W) ReLU'd class response map bilinearly resized to ``shape`` and rescaled to max 1."""
    cam = cv2.resize(np.clip(crm.astype(np.float32), 0, None), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    peak = float(cam.max())
    return cam / peak if peak > 0 else cam
