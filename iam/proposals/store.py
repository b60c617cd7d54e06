"""The ``proposals`` artifact's (``proposals/{source}/{split}.h5``) writer and reader: one group per image,
layout in :mod:`iam.io.schema`.

Superpixel map + CSR was chosen over pycocotools RLE: measured on 128 px scenes with 100
proposals (``benchmarks/proposals.py``) it is ~40% smaller on disk; RLE decodes ~1.7x faster, but
both take a few ms per image, far below scoring, and CSR keeps the superpixel structure.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np

from iam.io.h5 import image_group, put
from iam.proposals.mcg import SuperpixelProposals

KIND = "proposals"


def write_proposals(f: h5py.File, image_id: str, props: SuperpixelProposals) -> h5py.Group:
    """Write one image's proposals as group ``image_id``."""
    g = f.create_group(image_id)
    g.attrs["height"], g.attrs["width"] = props.superpixels.shape
    put(g, "superpixels", props.superpixels.astype(np.int32))
    put(g, "sp_ids", props.ids.astype(np.int32))
    put(g, "sp_ptr", props.ptr.astype(np.int64))
    put(g, "scores", props.scores.astype(np.float32))
    return g


def read_superpixel_proposals(f: h5py.File, image_id: str) -> SuperpixelProposals:
    """One image's proposals in superpixel form (cheap; decode masks on demand)."""
    g = image_group(f, image_id)
    return SuperpixelProposals(
        g["superpixels"][()], g["sp_ids"][()], g["sp_ptr"][()], g["scores"][()].astype(np.float32)
    )


def read_generator_seconds(path: str | Path | None) -> dict[str, float]:
    """Per-image seconds of the built-in generator (its ``timing.json``); ``{}`` without a path
    (external MCG/COB proposals)."""
    return json.loads(Path(path).read_text()) if path else {}


def read_proposals(f: h5py.File, image_id: str) -> tuple[np.ndarray, np.ndarray]:
    """One image's proposals as ``(masks (n, H, W) bool, scores (n,))``, best first."""
    props = read_superpixel_proposals(f, image_id)
    return props.masks(), props.scores


def iter_masks(f: h5py.File, image_id: str, chunk: int = 64) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(start, masks[start:start+chunk])`` so callers bound memory on large images."""
    props = read_superpixel_proposals(f, image_id)
    for start in range(0, len(props), chunk):
        yield start, props.masks(slice(start, start + chunk))
