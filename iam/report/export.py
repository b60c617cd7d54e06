"""COCO-format exports for other tools: an instance set as COCO results JSON (RLE segmentations)
and a split's GT as a COCO dataset JSON. Image ids are positions in the split (the instance
file's group order, which merge rules keep in split order); ``file_name`` is the VOC id. GT masks
have void pixels cleared (:mod:`iam.evaluation.coco`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from iam.evaluation.coco import CocoCollector
from iam.io.atomic import write_json
from iam.io.h5 import image_ids, open_artifact
from iam.io.instances import KIND, get_classes, read_instances


def export_predictions(instances_path: str | Path, out: str | Path) -> int:
    """Write an instance set as a COCO results list; returns the number of predictions."""
    with open_artifact(instances_path, KIND) as f:
        coco = CocoCollector(get_classes(f))
        for index, image_id in enumerate(image_ids(f)):
            pred = read_instances(f, image_id)
            coco.add_predictions(index, pred.masks, pred.labels, pred.scores)
    write_json(out, coco.results)
    return len(coco.results)


def export_ground_truth(ids: Sequence[str], read_gt: Callable, classes: Sequence[str], out: str | Path) -> int:
    """Write GT instances of ``ids`` as a COCO dataset; returns the number of annotations."""
    coco = CocoCollector(classes)
    for image_id in ids:
        gt = read_gt(image_id)
        coco.add_gt(image_id, gt.masks & ~gt.void, gt.labels)
    write_json(out, coco.gt_dataset())
    return len(coco.annotations)
