"""Ground-truth diagnostics of peaks and PRMs (issue 4); evaluation only, never on the training path.

For a ``prm`` artifact and the split's GT:

``peak_precision``      fraction of stored peaks lying inside a GT instance of the peak's class
``instance_recall``     fraction of GT instances holding at least one stored peak of their class
``prm_max_precision``   ... of the PRMs' maxima (what the PRM itself points at)
``prm_max_recall``      ... instances holding the maximum of a PRM of their class
``on_object``           fraction of PRMs (class in the image) with >= 30 % of their mass on one
                        instance of their class
``on_object_own_mass``  mean mass of such an on-object PRM on that instance
``mass_part``           mean fraction of a PRM's mass on the discriminative part of its instance
``mass_body``           ... on the rest of that instance (the body IAM has to fill)
``mass_outside``        ... outside that instance
``part_area_fraction``  mean part area / instance area of the matched instances (what a PRM
                        spread uniformly over its instance would put on the part)
``body_side_mass``      mean mass of a PRM whose stored peak lies on its instance on the half-plane
                        through the peak that faces the instance's centroid (0.5: a halo symmetric
                        about the peak; the body's side is where a part's filling should go)
``body_side_cos``       median cosine between the offsets of the PRM's centroid and of the
                        instance's centroid from the peak (0: no lean towards the body)

A PRM's instance is the GT instance of its class holding most of its mass; PRMs whose class has
no instance in the image count for precision but not for the mass fractions. Part masks exist for
the synthetic benchmark only (``SegmentationPart/``); without them the part/body split is None.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from iam.data.voc import VOID, GTInstances, read_part_masks
from iam.io.h5 import image_ids, open_artifact
from iam.io.prm import KIND, read_prm

MASS_KEYS = ("mass_part", "mass_body", "mass_outside")
ON_OBJECT = 0.3  # a PRM with at least this much mass on one instance of its class is on-object


def peak_hits(peaks: np.ndarray, gt: GTInstances) -> np.ndarray:
    """(n, m) bool: peak j lies inside GT instance i of the same class."""
    inside = gt.masks[:, peaks[:, 1], peaks[:, 2]].T if len(gt.masks) else np.zeros((len(peaks), 0), bool)
    return inside & (peaks[:, :1] == gt.labels[None, :])


def own_instance(cls: int, prm: np.ndarray, gt: GTInstances) -> int | None:
    """Index of the GT instance of class ``cls`` holding most of ``prm``'s mass (None: class absent)."""
    same = np.flatnonzero(gt.labels == cls)
    if not len(same):
        return None
    return int(same[np.argmax([prm[gt.masks[i]].sum() for i in same])])


def prm_maxima(peaks: np.ndarray, prm: np.ndarray) -> np.ndarray:
    """(n, 3) class, y, x of each PRM's maximum."""
    flat = prm.reshape(len(prm), -1).argmax(1) if len(prm) else np.zeros(0, np.int64)
    return np.column_stack([peaks[:, 0], *np.unravel_index(flat, prm.shape[1:])]).astype(np.int64)


def prm_masses(peaks: np.ndarray, prm: np.ndarray, gt: GTInstances, parts: np.ndarray | None) -> np.ndarray:
    """(k, 4) rows (part, body, outside, part area fraction) for the PRMs whose class is in the image."""
    rows = []
    on_part = np.zeros(gt.void.shape, bool) if parts is None else (parts > 0) & (parts != VOID)
    for (c, _, _), m in zip(peaks, prm.astype(np.float64)):
        own = own_instance(int(c), m, gt)
        if own is None or m.sum() <= 0:
            continue
        m = m / m.sum()
        inst = gt.masks[own]
        part = m[inst & on_part].sum()
        rows.append((part, m[inst].sum() - part, 1 - m[inst].sum(), (inst & on_part).sum() / inst.sum()))
    return np.asarray(rows, np.float64).reshape(-1, 4)


def body_sides(peaks: np.ndarray, prm: np.ndarray, gt: GTInstances) -> np.ndarray:
    """(k, 2) rows (body_side_mass, cosine) of the PRMs whose stored peak lies on their own instance."""
    rows = []
    for (c, y, x), m in zip(peaks, prm.astype(np.float64)):
        own = own_instance(int(c), m, gt)
        if own is None or m.sum() <= 0 or not gt.masks[own][y, x]:
            continue
        m = m / m.sum()
        yy, xx = np.mgrid[: m.shape[0], : m.shape[1]]
        to_prm = np.array([(m * yy).sum() - y, (m * xx).sum() - x])
        inst = gt.masks[own]
        to_body = np.array([yy[inst].mean() - y, xx[inst].mean() - x])
        facing = (yy - y) * to_body[0] + (xx - x) * to_body[1] > 0
        rows.append((m[facing].sum(), to_prm @ to_body / max(np.linalg.norm(to_prm) * np.linalg.norm(to_body), 1e-9)))
    return np.asarray(rows, np.float64).reshape(-1, 2)


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if values.size else None


def prm_quality(
    prm_path: str | Path, voc_root: str | Path, read_gt: Callable[[str], GTInstances]
) -> dict[str, float | int | None]:
    """The diagnostics of the module docstring over all images of the artifact; GT instances from
    ``read_gt`` (:func:`iam.evaluation.gt.instance_reader`), part masks from ``voc_root``."""
    with_parts = (Path(voc_root) / "SegmentationPart").is_dir()
    hits, recalled, masses, sides, n_instances = [], 0, [], [], 0
    max_hits, max_recalled = [], 0
    with open_artifact(prm_path, KIND) as f:
        ids = image_ids(f)
        for image_id in ids:
            stored = read_prm(f, image_id)
            peaks, prm = stored.peaks, stored.prm
            gt = read_gt(image_id)
            parts = read_part_masks(voc_root, image_id) if with_parts else None
            inside = peak_hits(peaks, gt)
            hits.append(inside.any(axis=1))
            recalled += int(inside.any(axis=0).sum())
            at_max = peak_hits(prm_maxima(peaks, prm), gt)
            max_hits.append(at_max.any(axis=1))
            max_recalled += int(at_max.any(axis=0).sum())
            n_instances += len(gt.labels)
            masses.append(prm_masses(peaks, prm, gt, parts))
            sides.append(body_sides(peaks, prm, gt))
    hit, mass = np.concatenate(hits) if hits else np.zeros(0), np.concatenate(masses) if masses else np.zeros((0, 4))
    result: dict[str, float | int | None] = {
        "n_images": len(ids),
        "n_peaks": int(hit.size),
        "n_instances": n_instances,
        "peak_precision": _mean(hit),
        "instance_recall": recalled / n_instances if n_instances else None,
        "prm_max_precision": _mean(np.concatenate(max_hits) if max_hits else np.zeros(0)),
        "prm_max_recall": max_recalled / n_instances if n_instances else None,
    }
    own = mass[:, 0] + mass[:, 1]
    result["on_object"] = _mean(own >= ON_OBJECT)
    result["on_object_own_mass"] = _mean(own[own >= ON_OBJECT])
    for k, key in enumerate((*MASS_KEYS, "part_area_fraction")):
        result[key] = _mean(mass[:, k]) if with_parts or key == "mass_outside" else None
    side = np.concatenate(sides) if sides else np.zeros((0, 2))
    result["body_side_mass"] = _mean(side[:, 0])
    result["body_side_cos"] = float(np.median(side[:, 1])) if len(side) else None
    return result
