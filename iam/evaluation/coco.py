"""COCO-mode cross-check: the same predictions and GT through ``pycocotools.COCOeval`` (segm).

Void pixels are cleared from GT and predicted masks before RLE encoding, which gives the same
IoUs as :mod:`iam.masks`. Category ids are class index + 1; image ids are positions
in the evaluated list (``file_name`` keeps the VOC id). GT annotation ids start at 1 (COCOeval
treats id 0 as "unmatched").
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from iam.evaluation.voc_ap import COCO_MAX_DETS


def encode(mask: np.ndarray) -> dict[str, Any]:
    """COCO RLE of one (H, W) mask with a JSON-ready ``counts`` string."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle["counts"] = rle["counts"].decode("ascii")
    return rle


class CocoCollector:
    """Accumulates GT annotations and prediction results image by image, RLE-encoded at once
    (so a split's masks are never all in memory)."""

    def __init__(self, classes: Sequence[str]) -> None:
        self.classes = list(classes)
        self.images: list[dict[str, Any]] = []
        self.annotations: list[dict[str, Any]] = []
        self.results: list[dict[str, Any]] = []

    def add_gt(self, name: str, masks: np.ndarray, labels: np.ndarray) -> int:
        """Register an image with its (g, H, W) GT masks and (g,) labels; returns its COCO id."""
        index = len(self.images)
        self.images.append(
            {"id": index, "file_name": str(name), "height": int(masks.shape[1]), "width": int(masks.shape[2])}
        )
        for mask, label in zip(masks, labels):
            rle = encode(mask)
            self.annotations.append(
                {
                    "id": len(self.annotations) + 1,
                    "image_id": index,
                    "category_id": int(label) + 1,
                    "segmentation": rle,
                    "area": float(mask_utils.area(rle)),
                    "bbox": [float(v) for v in mask_utils.toBbox(rle)],
                    "iscrowd": 0,
                }
            )
        return index

    def add_predictions(self, index: int, masks: np.ndarray, labels: np.ndarray, scores: np.ndarray) -> None:
        """Predictions (RLE results) of the image with COCO id ``index``."""
        self.results += [
            {"image_id": index, "category_id": int(label) + 1, "segmentation": encode(mask), "score": float(score)}
            for mask, label, score in zip(masks, labels, scores)
        ]

    def gt_dataset(self) -> dict[str, Any]:
        """The COCO-format GT dict."""
        categories = [{"id": c + 1, "name": name} for c, name in enumerate(self.classes)]
        return {"images": self.images, "annotations": self.annotations, "categories": categories}


def coco_average_precisions(collected: CocoCollector, thresholds: Sequence[float]) -> np.ndarray:
    """(T, C) COCOeval segm AP per IoU threshold and class (NaN for classes without GT)."""
    gt, dets = collected.gt_dataset(), collected.results
    n_classes = len(collected.classes)
    has_gt = np.bincount([a["category_id"] - 1 for a in gt["annotations"]], minlength=n_classes) > 0
    out = np.full((len(thresholds), n_classes), np.nan)
    if not dets:
        out[:, has_gt] = 0.0
        return out
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        ev = COCOeval(coco_gt, coco_gt.loadRes(dets), "segm")
        ev.params.iouThrs = np.asarray(thresholds, np.float64)
        ev.params.areaRng, ev.params.areaRngLbl = [[0, 1e10]], ["all"]
        ev.params.maxDets = [COCO_MAX_DETS]
        ev.evaluate()
        ev.accumulate()
    precision = ev.eval["precision"][:, :, :, 0, 0]  # (T, R, C)
    out[:, has_gt] = precision.mean(1)[:, has_gt]
    return out
