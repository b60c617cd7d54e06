"""Image -> network input: resize to a fixed square size, ImageNet normalisation, flips.

Response maps (PRMs, CAMs) are resized in :mod:`iam.data.maps`, which needs no torch."""

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
