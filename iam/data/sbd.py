"""Reader for SBD (Hariharan et al. 2011) ``inst/<id>.mat`` instance annotations. Evaluation only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import scipy.io

from iam.data.voc import GTInstances
from iam.errors import InputError
from iam.io.matlab import numbers


def read_sbd_instances(sbd_root: str | Path, image_id: str, n_classes: int | None = None) -> GTInstances:
    """Instances from ``inst/<id>.mat`` (``GTinst.Segmentation``, ``GTinst.Categories``); SBD has no void.

    Categories must lie in 1..``n_classes`` (when given) and instance ids in 0..len(Categories).
    """
    path = Path(sbd_root) / "inst" / f"{image_id}.mat"
    gt = _gtinst(path)
    seg = numbers(path, "GTinst.Segmentation", gt.Segmentation)
    cats = np.atleast_1d(numbers(path, "GTinst.Categories", gt.Categories)).astype(np.int64)
    n = len(cats)
    if seg.ndim != 2:
        raise InputError(path, f"GTinst.Segmentation has shape {seg.shape}, expected (H, W)")
    outside = seg[(seg < 0) | (seg > n)]
    if outside.size:
        problem = f"GTinst.Segmentation has instance id {outside[0]:g} outside 0..{n} ({n} categories)"
        raise InputError(path, problem)
    if (cats < 1).any() or (n_classes is not None and (cats > n_classes).any()):
        raise InputError(path, f"GTinst.Categories {cats.tolist()} outside 1..{n_classes or 'C'}")
    masks = np.stack([seg == k for k in range(1, n + 1)]) if n else np.zeros((0, *seg.shape), bool)
    return GTInstances(masks, cats - 1, np.zeros(seg.shape, bool))


def _gtinst(path: Path) -> Any:
    """The ``GTinst`` struct of an SBD ``inst/`` file, with both of its fields."""
    if not path.is_file():
        raise InputError(path, "SBD instance file is missing")
    try:
        mat = scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False)
    except NotImplementedError as exc:  # scipy's answer to an HDF5-based file
        raise InputError(path, "MATLAB v7.3 (HDF5) file; SBD ships v5 files (re-save with save -v7)") from exc
    except (ValueError, OSError, TypeError, scipy.io.matlab.MatReadError) as exc:
        raise InputError(path, f"cannot read MATLAB file: {exc}") from exc
    if "GTinst" not in mat:
        raise InputError(path, "missing struct 'GTinst' (not an SBD inst/ file)")
    gt = mat["GTinst"]
    for name in ("Segmentation", "Categories"):
        if not hasattr(gt, name):
            raise InputError(path, f"GTinst lacks field {name!r}")
    return gt
