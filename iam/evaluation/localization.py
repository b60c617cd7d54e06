"""Single-object localization from activation maps (paper §4.3, Table 3 analogue).

A map becomes a box by the mean-value threshold: pixels above the map's mean, largest
connected component, its bounding box ``[x1, y1, x2, y2]`` with exclusive ends (pixel-edge
coordinates, so a box's area is ``(x2 - x1) * (y2 - y1)``). An image is correctly localised
(top-1) iff the backbone's predicted class (argmax of ``class_scores``) is a GT class and the
box of that class's map has IoU >= 0.5 with one of its GT boxes; GT-known localization uses the
GT class instead of the prediction. Errors are 1 - accuracy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

IOU_CORRECT = 0.5


def map_to_box(activation: np.ndarray | None) -> np.ndarray | None:
    """Box of the largest connected component above the mean of ``activation`` (None if flat)."""
    if activation is None or not np.isfinite(activation).all():
        return None
    fg = activation > activation.mean()
    components, count = ndimage.label(fg)
    if count == 0:
        return None
    largest = 1 + int(np.argmax(np.bincount(components.ravel())[1:]))
    ys, xs = np.nonzero(components == largest)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float64)


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(n,) IoU of one box against (n, 4) boxes, all ``[x1, y1, x2, y2]``."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    w = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    h = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = w * h
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
    union = area(box) + area(boxes) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


@dataclass
class LocalizationSample:
    """One test image: predicted class scores, GT boxes/labels and a class -> map lookup."""

    class_scores: np.ndarray
    gt_boxes: np.ndarray  # (n, 4)
    gt_labels: np.ndarray  # (n,)
    class_map: Callable[[int], np.ndarray | None]


def _localised(sample: LocalizationSample, c: int) -> bool:
    box = map_to_box(sample.class_map(c))
    gt = sample.gt_boxes[sample.gt_labels == c]
    return box is not None and len(gt) > 0 and bool((box_iou(box, gt) >= IOU_CORRECT).any())


def localization_errors(samples: Iterable[LocalizationSample]) -> dict[str, float]:
    """Top-1 and GT-known localization error (fractions) and classification error over the samples."""
    top1, known, cls = [], [], []
    for s in samples:
        predicted = int(np.argmax(s.class_scores))
        correct_class = predicted in set(s.gt_labels.tolist())
        cls.append(correct_class)
        top1.append(correct_class and _localised(s, predicted))
        known.append(_localised(s, int(s.gt_labels[0])) if len(s.gt_labels) else False)
    mean_error = lambda ok: float(1 - np.mean(ok)) if ok else 0.0  # noqa: E731
    return {
        "top1_loc_error": mean_error(top1),
        "gt_known_loc_error": mean_error(known),
        "top1_cls_error": mean_error(cls),
        "n_images": len(top1),
    }
