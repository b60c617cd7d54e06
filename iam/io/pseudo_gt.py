"""The ``pseudo_gt`` artifact's writer and reader: one group per image, layout in :mod:`iam.io.schema`.

File attrs ``k`` and ``source``. The file is self-contained: the filler's loader needs only it (and the
PRMs). A peak whose row of ``candidates`` is all -1 has no candidate and is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import h5py
import numpy as np

from iam.io.h5 import Stored, image_group, put

KIND = "pseudo_gt"


@dataclass(frozen=True)
class PseudoGT:
    """One image's pseudo ground truth."""

    peaks: np.ndarray  # (n, 3)
    masks: np.ndarray  # (m, H, W) bool
    candidates: np.ndarray  # (n, k) int64 into masks, -1 = none
    candidate_scores: np.ndarray  # (n, k) float32

    @property
    def n_without_candidates(self) -> int:
        """Peaks without any candidate."""
        return int((self.candidates < 0).all(1).sum())


def write_pseudo_gt(f: h5py.File, image_id: str, pgt: PseudoGT) -> h5py.Group:
    """Write one image's pseudo GT as group ``image_id`` (its peaks are the PRM rows in order)."""
    g = f.create_group(image_id)
    g.attrs["height"], g.attrs["width"] = pgt.masks.shape[1:]
    g.attrs["n_without_candidates"] = pgt.n_without_candidates
    put(g, "peaks", pgt.peaks)
    put(g, "prm_index", np.arange(len(pgt.peaks), dtype=np.int64))
    put(g, "masks", pgt.masks.astype(np.uint8))
    put(g, "candidates", pgt.candidates)
    put(g, "candidate_scores", pgt.candidate_scores)
    return g


@dataclass(frozen=True)
class StoredPseudoGT:
    """One image group of an open ``pseudo_gt`` artifact; each dataset is read, as stored, when accessed."""

    group: h5py.Group
    peaks = Stored()
    prm_index = Stored()
    masks = Stored()
    candidates = Stored()
    candidate_scores = Stored()

    @property
    def n_masks(self) -> int:
        """Number of candidate masks (without reading them)."""
        return len(self.group["masks"])


def read_pseudo_gt(f: h5py.File, image_id: str) -> StoredPseudoGT:
    """Image ``image_id`` of a ``pseudo_gt`` artifact."""
    return StoredPseudoGT(image_group(f, image_id))
