"""The PRM oracle (Table 1's "PRMs cut to their GT instance" row; a diagnostic that reads GT).

Each val PRM is restricted to its own GT instance (the instance of its class holding most of its
mass, as in :mod:`iam.evaluation.prm_quality`) and renormalised; PRMs whose class is not in the image
stay as they are. The IAM-S{k} filler, unchanged, then fills these PRMs: the gap between that row
and IAM-S{k} is what the PRMs' mass off their instance costs the masks, apart from the filler.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from iam.data.voc import GTInstances
from iam.evaluation.prm_quality import own_instance
from iam.io.h5 import open_artifact, write_artifact
from iam.io.prm import KIND, PRMRecord, StoredPRM, read_prm, write_prm


def cut_to_instances(peaks: np.ndarray, prms: np.ndarray, gt: GTInstances) -> np.ndarray:
    """(n, H, W) float32: each PRM times the mask of its own GT instance, rescaled to sum 1 (unchanged
    where its class is absent or nothing of it lies on the instance)."""
    out = prms.astype(np.float32)
    for j, (cls, prm) in enumerate(zip(peaks[:, 0], out)):
        own = own_instance(int(cls), prm.astype(np.float64), gt)
        if own is None:
            continue
        cut = prm * gt.masks[own]
        if cut.sum() > 0:
            out[j] = cut / cut.sum()
    return out


def write_prms(
    prm_path: str | Path,
    image_ids: Sequence[str],
    transform: Callable[[str, StoredPRM], np.ndarray],
    out: str | Path,
    rule: str,
    params: Mapping[str, Any] | None = None,
) -> None:
    """A ``prm`` artifact of ``image_ids`` whose PRMs are ``transform(image_id, stored)`` (peaks, scores,
    class scores and CRMs as stored; the forward time is carried over)."""
    with open_artifact(prm_path, KIND) as src, write_artifact(out, KIND, rule, params) as f:
        for image_id in image_ids:
            p = read_prm(src, image_id)
            record = PRMRecord(p.peaks, p.peak_scores, transform(image_id, p), p.class_scores, p.crm.astype(np.float32))
            write_prm(f, image_id, record).attrs.update(dict(p.group.attrs))


def write_cut_prms(
    prm_path: str | Path,
    image_ids: Sequence[str],
    read_gt: Callable[[str], GTInstances],
    out: str | Path,
    rule: str = "cut_prms_to_gt",
    params: Mapping[str, Any] | None = None,
) -> None:
    """The PRM oracle's artifact: the PRMs of ``image_ids`` cut to their GT instances."""
    write_prms(prm_path, image_ids, lambda i, p: cut_to_instances(p.peaks, p.prm, read_gt(i)), out, rule, params)
