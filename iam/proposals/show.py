"""Render an image's top proposals as a PNG grid (for ``iam show proposals/...h5 IMAGE_ID``)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from iam.io.atomic import atomic_path
from iam.io.h5 import open_artifact
from iam.proposals.store import KIND, read_superpixel_proposals


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


def render_proposals(
    proposals_path: str | Path, image_id: str, out_png: str | Path, top: int = 16, image: np.ndarray | None = None
) -> None:
    """Write the ``top`` best proposals of ``image_id`` over ``image`` (or over a grey canvas)."""
    with open_artifact(proposals_path, KIND) as f:
        props = read_superpixel_proposals(f, image_id)
    masks = props.masks(slice(0, top))
    canvas = image if image is not None else np.full((*props.superpixels.shape, 3), 128, np.uint8)
    _, png = cv2.imencode(".png", cv2.cvtColor(overlay_grid(masks, canvas), cv2.COLOR_RGB2BGR))
    with atomic_path(out_png) as tmp:
        tmp.write_bytes(png.tobytes())
