"""Box -> mask baselines (paper Table 1, after [18]): fill each box as its rectangle, its inscribed
ellipse, or the proposal that overlaps the rectangle best.

Boxes are ``[x1, y1, x2, y2]`` in pixel-edge coordinates (a box covers columns
``round(x1) .. round(x2) - 1``). Used with GT boxes (upper bounds that read box annotations,
labelled as such in the report) and with CAM boxes (:mod:`iam.baselines.cam`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from iam.io.h5 import open_artifact, write_artifact
from iam.io.instances import KIND, InstanceSet, set_classes, write_instances
from iam.masks import iou_matrix
from iam.proposals.store import KIND as PROPOSALS
from iam.proposals.store import read_proposals

FILLS = ("rect", "ellipse", "proposal")
BoxSource = Callable[[str], tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]]


def rect_masks(boxes: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(n, H, W) filled rectangles."""
    ys, xs = np.arange(shape[0])[:, None], np.arange(shape[1])[None, :]
    b = np.rint(np.asarray(boxes, np.float64).reshape(-1, 4)).astype(np.int64)
    return (
        (xs >= b[:, 0, None, None])
        & (xs < b[:, 2, None, None])
        & (ys >= b[:, 1, None, None])
        & (ys < b[:, 3, None, None])
    )


def ellipse_masks(boxes: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(n, H, W) ellipses inscribed in the boxes (pixel centres inside)."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    rx, ry = np.maximum((b[:, 2] - b[:, 0]) / 2, 0.5), np.maximum((b[:, 3] - b[:, 1]) / 2, 0.5)
    ys, xs = np.arange(shape[0])[:, None] + 0.5, np.arange(shape[1])[None, :] + 0.5
    dx = (xs[None] - cx[:, None, None]) / rx[:, None, None]
    dy = (ys[None] - cy[:, None, None]) / ry[:, None, None]
    return dx**2 + dy**2 <= 1


def proposal_masks(boxes: np.ndarray, proposals: np.ndarray) -> np.ndarray:
    """(n, H, W) per box the proposal with the highest IoU with its rectangle (the rectangle if none)."""
    rects = rect_masks(boxes, proposals.shape[1:])
    if len(proposals) == 0 or len(rects) == 0:
        return rects
    return proposals[np.argmax(iou_matrix(rects, proposals), axis=1)]


def fill_boxes(boxes: np.ndarray, shape: tuple[int, int], fill: str, proposals: np.ndarray | None) -> np.ndarray:
    """Masks of ``boxes`` by the named fill."""
    if fill == "rect":
        return rect_masks(boxes, shape)
    if fill == "ellipse":
        return ellipse_masks(boxes, shape)
    if fill == "proposal":
        if proposals is None:
            raise ValueError("the proposal fill needs the image's proposals")
        return proposal_masks(boxes, proposals)
    raise ValueError(f"unknown box fill {fill!r}; expected one of {FILLS}")


def write_box_baseline(
    out: str | Path,
    image_ids: Sequence[str],
    classes: Sequence[str],
    boxes_of: BoxSource,
    fill: str,
    proposals_path: str | Path | None = None,
    rule: str = "make_baselines",
    params: Mapping[str, Any] | None = None,
) -> None:
    """Instance set of a box baseline; ``boxes_of(id) -> (boxes, labels, scores, (H, W))``."""
    props = None
    if fill == "proposal":
        if proposals_path is None:
            raise ValueError("the proposal fill needs proposals_path")
        props = open_artifact(proposals_path, PROPOSALS)
    try:
        with write_artifact(out, KIND, rule, params) as f:
            set_classes(f, classes)
            for image_id in image_ids:
                boxes, labels, scores, shape = boxes_of(image_id)
                proposals = read_proposals(props, image_id)[0] if props is not None else None
                masks = fill_boxes(boxes, shape, fill, proposals)
                write_instances(
                    f, image_id, InstanceSet(masks, np.asarray(labels, np.int64), np.asarray(scores, np.float32))
                )
    finally:
        if props is not None:
            props.close()
