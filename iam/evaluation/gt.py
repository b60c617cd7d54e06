"""Ground truth for evaluation (only evaluation reads it): instance masks from VOC
``SegmentationObject`` or SBD ``inst/``, boxes and saliency masks from the VOC tree."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from iam.data import sbd, voc
from iam.data.voc import GTInstances


def instance_reader(
    gt_source: str, voc_root: str, sbd_root: str | None, classes: Sequence[str]
) -> Callable[[str], GTInstances]:
    """``image_id -> GTInstances`` from the configured GT source (``voc`` or ``sbd``)."""
    if gt_source == "sbd":
        if sbd_root is None:
            raise ValueError("gt_source 'sbd' needs sbd_root")
        return lambda image_id: sbd.read_sbd_instances(sbd_root, image_id, len(classes))
    return lambda image_id: voc.read_gt_instances(voc_root, image_id, list(classes))


def box_reader(voc_root: str, classes: Sequence[str]) -> Callable[[str], tuple[np.ndarray, np.ndarray]]:
    """``image_id -> (boxes (n, 4), labels (n,))`` from the VOC annotations."""
    return lambda image_id: voc.read_boxes(voc_root, image_id, list(classes))


def saliency_reader(voc_root: str) -> Callable[[str], np.ndarray]:
    """``image_id -> (H, W) bool`` salient-object mask."""
    return lambda image_id: voc.read_saliency_mask(voc_root, image_id)
