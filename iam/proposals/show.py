"""Render an image's top proposals as a PNG grid (for ``iam show proposals/...h5 IMAGE_ID``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from iam.io.h5 import open_artifact
from iam.proposals.store import KIND, read_superpixel_proposals
from iam.visualise import overlay_grid, write_png


def render_proposals(
    proposals_path: str | Path, image_id: str, out_png: str | Path, top: int = 16, image: np.ndarray | None = None
) -> None:
    """Write the ``top`` best proposals of ``image_id`` over ``image`` (or over a grey canvas)."""
    with open_artifact(proposals_path, KIND) as f:
        props = read_superpixel_proposals(f, image_id)
    masks = props.masks(slice(0, top))
    canvas = image if image is not None else np.full((*props.superpixels.shape, 3), 128, np.uint8)
    write_png(out_png, overlay_grid(masks, canvas))
