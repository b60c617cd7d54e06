"""Reader for SBD (Hariharan et al. 2011) ``inst/<id>.mat`` instance annotations. Evaluation only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io

from iam.data.voc import GTInstances
from iam.errors import InputError


def read_sbd_instances(sbd_root: str | Path, image_id: str) -> GTInstances:
    """Instances from ``inst/<id>.mat`` (``GTinst.Segmentation``, ``GTinst.Categories``); SBD has no void."""
    path = Path(sbd_root) / "inst" / f"{image_id}.mat"
    if not path.is_file():
        raise InputError(path, "SBD instance file is missing")
    try:
        mat = scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False)
    except (ValueError, OSError, TypeError) as exc:
        raise InputError(path, f"cannot read MATLAB file: {exc}") from exc
    if "GTinst" not in mat:
        raise InputError(path, "missing struct 'GTinst' (not an SBD inst/ file)")
    gt = mat["GTinst"]
    for name in ("Segmentation", "Categories"):
        if not hasattr(gt, name):
            raise InputError(path, f"GTinst lacks field {name!r}")
    seg = np.asarray(gt.Segmentation)
    cats = np.atleast_1d(np.asarray(gt.Categories, np.int64))
    n = len(cats)
    if seg.max(initial=0) > n:
        raise InputError(path, f"Segmentation has instance id {seg.max()} but only {n} categories")
    masks = np.stack([seg == k for k in range(1, n + 1)]) if n else np.zeros((0, *seg.shape), bool)
    return GTInstances(masks, cats - 1, np.zeros(seg.shape, bool))
