"""Metrics of one instance-set artifact (any method) against GT instances: the JSON of ``metrics/{method}.json``.

``mAP^r`` in VOC mode (:mod:`iam.evaluation.voc_ap`), ABO (:mod:`iam.evaluation.abo`), and next
to them the COCO-mode numbers twice: from our matcher with COCO's interpolation and from
pycocotools' COCOeval (the two must agree; the tests hold them to 1e-9). ``extent`` says why masks fail
(too big, too small, off-object: :mod:`iam.evaluation.extent`). Per-image timing attrs
(``time_*``, seconds) of the artifact are averaged over the images that carry them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from iam.errors import InputError
from iam.evaluation.abo import average_best_overlap
from iam.evaluation.coco import CocoCollector, coco_average_precisions
from iam.evaluation.extent import extent_rows, extent_summary
from iam.evaluation.voc_ap import APAccumulator, mean_ap
from iam.io.h5 import open_artifact
from iam.io.instances import KIND, read_instances
from iam.masks import iou_of, overlaps

TIMING_ATTRS = ("time_prm", "time_fill", "time_crf", "time_proposals", "time_retrieval")


class GroundTruth(Protocol):
    """What :func:`iam.data.voc.read_gt_instances` returns."""

    masks: np.ndarray  # (g, H, W) bool
    labels: np.ndarray  # (g,) int64
    void: np.ndarray  # (H, W) bool


def evaluate_instances(
    path: str | Path,
    image_ids: Sequence[str],
    read_gt: Callable[[str], GroundTruth],
    classes: Sequence[str],
    thresholds: Sequence[float],
) -> dict[str, Any]:
    """All instance metrics of the artifact at ``path`` over ``image_ids``."""
    acc = APAccumulator(len(classes), thresholds)
    coco = CocoCollector(classes)
    per_image_ious: list[np.ndarray] = []
    extents: list[np.ndarray] = []
    times: dict[str, list[float]] = {name: [] for name in TIMING_ATTRS}
    with open_artifact(path, KIND) as f:
        for image_id in image_ids:
            if image_id not in f:
                raise InputError(path, f"no predictions for image {image_id!r} of the evaluated split")
            pred, gt = read_instances(f, image_id), read_gt(image_id)
            if pred.masks.shape[1:] != gt.void.shape:
                raise InputError(path, f"image {image_id!r}: masks {pred.masks.shape[1:]} but GT {gt.void.shape}")
            counts = overlaps(pred.masks, gt.masks, gt.void)
            ious = iou_of(*counts)
            acc.add(pred.labels, pred.scores, gt.labels, ious)
            per_image_ious.append(ious)
            extents.append(extent_rows(*counts, pred.labels, gt.labels))
            index = coco.add_gt(image_id, gt.masks & ~gt.void, gt.labels)
            coco.add_predictions(index, pred.masks & ~gt.void, pred.labels, pred.scores)
            for name in TIMING_ATTRS:
                if name in f[image_id].attrs:
                    times[name].append(float(f[image_id].attrs[name]))
    return {**_summary(acc, coco, per_image_ious, times, classes, thresholds), "extent": extent_summary(extents)}


def _summary(
    acc: APAccumulator,
    coco: CocoCollector,
    per_image_ious: list[np.ndarray],
    times: dict[str, list[float]],
    classes: Sequence[str],
    thresholds: Sequence[float],
) -> dict[str, Any]:
    voc = acc.average_precisions("voc")
    keys = [f"{t:g}" for t in thresholds]

    def by_threshold(values: np.ndarray) -> dict[str, float]:
        return dict(zip(keys, map(float, values)))

    return {
        "iou_thresholds": [float(t) for t in thresholds],
        "n_images": len(per_image_ious),
        "n_gt_instances": int(acc.n_gt.sum()),
        "n_predictions": int(sum(m.shape[0] for m in per_image_ious)),
        "map": by_threshold(mean_ap(voc)),
        "ap_per_class": {c: [None if np.isnan(v) else float(v) for v in voc[:, i]] for i, c in enumerate(classes)},
        "abo": average_best_overlap(per_image_ious),
        "coco_map": by_threshold(mean_ap(acc.average_precisions("coco"))),
        "coco_map_pycocotools": by_threshold(mean_ap(coco_average_precisions(coco, thresholds))),
        "seconds_per_image": {name: float(np.mean(v)) for name, v in times.items() if v},
        "void": "void (255) pixels excluded from intersection and union",
    }
