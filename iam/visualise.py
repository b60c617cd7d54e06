"""Drawing for ``iam show``: heat maps, grids of tinted masks, PNG output."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from iam.errors import InputError
from iam.io.atomic import atomic_path


def write_png(out_png: str | Path, rgb: np.ndarray) -> None:
    """Encode an RGB array as PNG, atomically."""
    ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise InputError(out_png, "PNG encoding failed")
    with atomic_path(out_png) as tmp:
        tmp.write_bytes(png.tobytes())


def heat(soft: np.ndarray) -> np.ndarray:
    """A (H, W) map in [0, 1] as an RGB JET heat map."""
    return cv2.applyColorMap((np.clip(soft, 0, 1) * 255).astype(np.uint8), cv2.COLORMAP_JET)[..., ::-1]


def overlay_grid(masks: np.ndarray, image: np.ndarray, columns: int = 4) -> np.ndarray:
    """Tile ``image`` (H, W, 3) uint8 with each mask tinted red and outlined, row-major."""
    tiles = []
    for mask in masks:
        tile = image.astype(np.float32)
        tile[mask] = 0.5 * tile[mask] + 0.5 * np.array([255, 0, 0])
        edge = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
        tile[edge] = (255, 255, 0)
        tiles.append(tile.astype(np.uint8))
    tiles += [np.zeros_like(image)] * (-len(tiles) % columns)
    rows = [np.concatenate(tiles[r : r + columns], axis=1) for r in range(0, len(tiles), columns)]
    return np.concatenate(rows, axis=0)
