"""Dataset statistics and a contact sheet (these read ground truth: report side only)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from iam.data.voc import read_gt_instances, read_image, read_objects, read_part_masks, read_split
from iam.data.voc_writer import PALETTE
from iam.io.atomic import atomic_path

SIZE_BINS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


def _touching_pairs(masks: np.ndarray, labels: np.ndarray) -> int:
    """Same-class instance pairs separated by nothing but the void band (a 2 px band leaves a 3 px gap)."""
    kernel = np.ones((7, 7), np.uint8)
    grown = [cv2.dilate(m.astype(np.uint8), kernel).astype(bool) for m in masks]
    return sum(
        1
        for i in range(len(masks))
        for j in range(i + 1, len(masks))
        if labels[i] == labels[j] and (grown[i] & masks[j]).any()
    )


def dataset_stats(voc_root: str | Path, classes: Sequence[str], split: str) -> dict[str, Any]:
    """Instances per class and per image, object sizes, part share, touching pairs, occlusion.

    Sizes are visible instance areas as a fraction of the image; ``part_fraction`` is the share of
    an instance's visible area covered by its discriminative part (only where the tree has
    ``SegmentationPart``, i.e. the synthetic benchmark).
    ``occluded``/``truncated`` come from the annotation flags.
    """
    ids = read_split(voc_root, split)
    per_image, sizes, fractions, touching = [], [], [], 0
    per_class, occluded, truncated = np.zeros(len(classes), int), 0, 0
    has_parts = (Path(voc_root) / "SegmentationPart").is_dir()
    for image_id in ids:
        gt = read_gt_instances(voc_root, image_id, list(classes))
        objects = read_objects(voc_root, image_id, list(classes))
        parts = read_part_masks(voc_root, image_id) if has_parts else None
        per_image.append(len(gt.labels))
        np.add.at(per_class, gt.labels, 1)
        occluded += int(objects.occluded.sum())
        truncated += int(objects.truncated.sum())
        for k, mask in enumerate(gt.masks, start=1):
            area = mask.sum()
            sizes.append(area / gt.void.size)
            if parts is not None:
                fractions.append((parts[mask] == k).sum() / max(area, 1))
        touching += _touching_pairs(gt.masks, gt.labels)
    n = int(sum(per_image))
    counts = np.bincount(per_image)
    hist, _ = np.histogram(sizes, bins=SIZE_BINS)
    return {
        "split": split,
        "images": len(ids),
        "instances": n,
        "classes": dict(zip(classes, per_class.tolist())),
        "instances_per_image": {str(k): int(c) for k, c in enumerate(counts) if c},
        "object_size_histogram": {f"{lo:.2f}-{hi:.2f}": int(h) for lo, hi, h in zip(SIZE_BINS, SIZE_BINS[1:], hist)},
        "median_object_size": float(np.median(sizes)) if sizes else 0.0,
        "part_fraction_quartiles": np.quantile(fractions, [0.25, 0.5, 0.75]).round(4).tolist() if fractions else [],
        "touching_same_class_pairs": int(touching),
        "occluded_fraction": occluded / max(n, 1),
        "truncated_fraction": truncated / max(n, 1),
    }


def contact_sheet(voc_root: str | Path, split: str, out_png: str | Path, classes: Sequence[str], n: int = 24) -> None:
    """A grid of the first ``n`` images with their GT instance outlines."""
    palette = np.asarray(PALETTE, np.uint8).reshape(256, 3)
    tiles = []
    for image_id in read_split(voc_root, split)[:n]:
        image = read_image(voc_root, image_id).copy()
        gt = read_gt_instances(voc_root, image_id, list(classes))
        for k, mask in enumerate(gt.masks, start=1):
            contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
            cv2.drawContours(image, contours, -1, tuple(int(v) for v in palette[k]), 1)
        tiles.append(image)
    cols = 6
    blank = np.zeros_like(tiles[0])
    tiles += [blank] * (-len(tiles) % cols)
    grid = np.concatenate([np.concatenate(tiles[r : r + cols], 1) for r in range(0, len(tiles), cols)], 0)
    with atomic_path(out_png) as tmp:
        cv2.imwrite(str(tmp.with_suffix(".png")), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
        tmp.with_suffix(".png").replace(tmp)
