"""Render one image of a ``prm`` artifact: the image, its class response maps and its PRMs, with peaks."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import h5py
import numpy as np

from iam.data.voc import read_image
from iam.errors import InputError
from iam.io.prm import read_prm
from iam.visualise import heat, write_png


def overlay(image: np.ndarray, soft: np.ndarray) -> np.ndarray:
    """Blend a (H, W) map (rescaled to max 1) as a JET heat map over an RGB image."""
    scaled = soft / soft.max() if soft.max() > 0 else soft
    return (0.5 * image + 0.5 * heat(scaled)).astype(np.uint8)


def mark(tile: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Draw (y, x) points as white-ringed crosses."""
    tile = tile.copy()
    for y, x in points:
        cv2.drawMarker(tile, (int(x), int(y)), (255, 255, 255), cv2.MARKER_CROSS, 7, 2)
    return tile


def render_prm(prm_h5: str | Path, voc_root: str | Path, image_id: str, out_png: str | Path) -> None:
    """Top row: the image and the CRM of every class with a peak (peaks marked); bottom row: each PRM."""
    with h5py.File(prm_h5, "r") as f:
        if image_id not in f:
            raise InputError(prm_h5, f"no image group {image_id!r}")
        stored = read_prm(f, image_id)
        peaks, prms, crm = stored.peaks, stored.prm.astype(np.float32), stored.crm.astype(np.float32)
        classes = json.loads(f.attrs["classes"])
    image = read_image(voc_root, image_id)
    height, width = image.shape[:2]
    shown = sorted(set(peaks[:, 0].tolist()))
    top = [image] + [
        mark(
            overlay(image, cv2.resize(crm[c], (width, height), interpolation=cv2.INTER_LINEAR)),
            peaks[peaks[:, 0] == c, 1:],
        )
        for c in shown
    ]
    bottom = [mark(overlay(image, m), p[None, 1:]) for m, p in zip(prms, peaks)]
    columns = max(len(top), len(bottom))
    rows = [_row(tiles, columns, image) for tiles in (top, bottom) if tiles]
    canvas = np.concatenate(rows, axis=0)
    labels = ", ".join(classes[c] for c in shown) or "no peaks"
    cv2.putText(canvas, labels, (2, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1)
    write_png(out_png, canvas)


def _row(tiles: list[np.ndarray], columns: int, like: np.ndarray) -> np.ndarray:
    return np.concatenate(tiles + [np.zeros_like(like)] * (columns - len(tiles)), axis=1)
