"""The filler's ceiling (Table 1's "trained on GT masks" row; a diagnostic that reads GT).

Training targets in the ``pseudo_gt`` layout (k = 1, source ``gtmask``) whose single candidate of
each training peak is its own GT instance (the instance of its class holding most of its PRM's
mass): the same filler trained on them shows how much IAM loses to pseudo-GT noise and how much to
the filler itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from iam.data.voc import GTInstances
from iam.evaluation.prm_quality import own_instance
from iam.io.h5 import open_artifact, write_artifact
from iam.io.prm import KIND as PRM
from iam.io.prm import read_prm
from iam.io.pseudo_gt import KIND, PseudoGT, write_pseudo_gt

SOURCE = "gtmask"


def image_targets(peaks: np.ndarray, prms: np.ndarray, gt: GTInstances) -> PseudoGT:
    """Each peak's own GT instance as its one candidate (-1 when its class is not in the image)."""
    own = [own_instance(int(c), m.astype(np.float64), gt) for (c, _, _), m in zip(peaks, prms)]
    candidates = np.array([[-1 if i is None else i] for i in own], np.int64).reshape(len(peaks), 1)
    scores = np.where(candidates >= 0, 1.0, np.nan).astype(np.float32)
    return PseudoGT(np.asarray(peaks, np.int64), gt.masks, candidates, scores)


def write_gt_targets(
    prm_path: str | Path,
    image_ids: Sequence[str],
    read_gt: Callable[[str], GTInstances],
    out: str | Path,
    rule: str = "make_ceiling_targets",
    params: Mapping[str, Any] | None = None,
) -> None:
    """The ceiling's training targets of ``image_ids`` from the training PRMs and the GT."""
    with open_artifact(prm_path, PRM) as prm_f, write_artifact(out, KIND, rule, params) as f:
        f.attrs["k"], f.attrs["source"] = 1, SOURCE
        for image_id in image_ids:
            stored = read_prm(prm_f, image_id)
            write_pseudo_gt(f, image_id, image_targets(stored.peaks, stored.prm, read_gt(image_id)))
