"""The filler's training samples: one per image, built from the ``prm`` and ``pseudo_gt`` artifacts.

:func:`index_samples` makes one pass over the artifacts and keeps, per image, the peaks that have a
pseudo-GT candidate and a non-zero PRM. :class:`StreamedSamples` builds a :class:`Sample` from its
index row when asked (opening the HDF5 files once per process, so DataLoader workers can read in
parallel); :func:`load_samples` builds them all at once. Held in memory, a sample of a VOC image at
448 px takes ~10 MB (image, PRMs, candidate masks), so the 10,582 SBD training images only fit when
streamed; :func:`sample_megabytes` is the estimate the trainer decides with. With a
``SampleSource.competition`` each peak also carries a loss weight, its PRM's mass share that the
competition of IAM inference keeps (:func:`iam.data.maps.kept_mass`; ``filler.kept_weight``).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import cv2
import h5py
import numpy as np
import torch

from iam.data.maps import Competition, resize_stack, scale_to_max
from iam.data.transforms import to_tensor
from iam.data.voc import read_image
from iam.errors import ArtifactError
from iam.io.h5 import open_artifact
from iam.io.prm import KIND as PRM
from iam.io.prm import read_prm
from iam.io.pseudo_gt import KIND as PSEUDO_GT
from iam.io.pseudo_gt import StoredPseudoGT, read_pseudo_gt

log = logging.getLogger(__name__)


@dataclass
class Sample:
    """One training image at network input size S."""

    image_id: str
    image: torch.Tensor  # (3, S, S) normalised network input
    prms: torch.Tensor  # (n, S, S) float16, each rescaled to max 1
    masks: torch.Tensor  # (m, S, S) uint8 candidate proposals
    candidates: np.ndarray  # (n, k) int64 rows into masks, -1 = none (every row has >= 1)
    weights: np.ndarray | None = None  # (n,) float32 loss weight per peak, None = all 1


@dataclass(frozen=True)
class SampleSource:
    """Where the samples come from and the size they are resized to."""

    voc_root: Path
    prm_path: Path
    pseudo_gt_path: Path
    input_size: int
    competition: Competition | None = None  # whose kept mass shares weight the loss (filler.kept_weight)


@dataclass(frozen=True)
class IndexRow:
    """An image with at least one usable peak: which PRM rows to keep and how many masks it has."""

    image_id: str
    keep: np.ndarray  # (n_all,) bool over the pseudo-GT rows
    masks: int


def check_pseudo_gt(f: h5py.File, path: str | Path, k: int, source: str) -> None:
    """The pseudo-GT file must be the one for this ``k`` and proposal ``source``."""
    found = (int(f.attrs.get("k", -1)), str(f.attrs.get("source", "")))
    if found != (k, source):
        raise ArtifactError(
            path, f"pseudo GT is for k={found[0]}, source={found[1]!r}; expected k={k}, source={source!r}"
        )


def _image_prms(prm_f: h5py.File, pgt: StoredPseudoGT, image_id: str) -> np.ndarray:
    """The PRMs (float32) of an image's pseudo-GT rows."""
    return read_prm(prm_f, image_id).prm[pgt.prm_index].astype(np.float32)


def index_samples(where: SampleSource, image_ids: list[str], k: int, source: str) -> list[IndexRow]:
    """The images of ``image_ids`` with a usable peak (a candidate and a non-zero PRM), in order;
    ``source``: the proposal source the pseudo GT must come from."""
    rows, skipped = [], {"no_candidate": 0, "zero_prm": 0}
    with open_artifact(where.prm_path, PRM) as prm_f, open_artifact(where.pseudo_gt_path, PSEUDO_GT) as pgt_f:
        check_pseudo_gt(pgt_f, where.pseudo_gt_path, k, source)
        for image_id in image_ids:
            g = read_pseudo_gt(pgt_f, image_id)
            has_cand = (g.candidates >= 0).any(1)
            prms = _image_prms(prm_f, g, image_id)
            nonzero = prms.reshape(len(prms), -1).max(1) > 0 if len(prms) else np.zeros(0, bool)
            skipped["no_candidate"] += int((~has_cand).sum())
            skipped["zero_prm"] += int((has_cand & ~nonzero).sum())
            if (has_cand & nonzero).any():
                rows.append(IndexRow(image_id, has_cand & nonzero, g.n_masks))
    log.info("%d training images; peaks skipped: %s", len(rows), skipped)
    return rows


def read_sample(where: SampleSource, prm_f: h5py.File, pgt_f: h5py.File, row: IndexRow) -> Sample:
    """The :class:`Sample` of one index row, resized to the network input."""
    g, p, size = read_pseudo_gt(pgt_f, row.image_id), read_prm(prm_f, row.image_id), where.input_size
    whole = p.prm.astype(np.float32)
    prms = scale_to_max(resize_stack(whole[g.prm_index][row.keep], size, cv2.INTER_AREA))
    masks = resize_stack(g.masks, size, cv2.INTER_NEAREST)
    image = to_tensor(read_image(where.voc_root, row.image_id), size)
    weights = None
    if where.competition is not None:
        _, kept = where.competition.kept(whole, p.peaks[:, 0])
        weights = kept[g.prm_index][row.keep].astype(np.float32)
    return Sample(
        row.image_id, image, torch.from_numpy(prms).half(), torch.from_numpy(masks), g.candidates[row.keep], weights
    )


class StreamedSamples(torch.utils.data.Dataset):
    """Samples read from the artifacts on demand; each process opens the two files once."""

    def __init__(self, where: SampleSource, rows: list[IndexRow]) -> None:
        self.where, self.rows = where, rows
        self._files: tuple[int, h5py.File, h5py.File] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> Sample:
        _, prm_f, pgt_f = self._open()
        return read_sample(self.where, prm_f, pgt_f, self.rows[index])

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_files": None}  # open h5py files do not cross into workers

    def _open(self) -> tuple[int, h5py.File, h5py.File]:
        if self._files is None or self._files[0] != os.getpid():
            self._files = (os.getpid(), h5py.File(self.where.prm_path, "r"), h5py.File(self.where.pseudo_gt_path, "r"))
        return self._files

    def close(self) -> None:
        if self._files is not None and self._files[0] == os.getpid():
            self._files[1].close()
            self._files[2].close()
        self._files = None

    def load_all(self) -> list[Sample]:
        """Every sample, in memory."""
        try:
            return [self[i] for i in range(len(self))]
        finally:
            self.close()


Samples: TypeAlias = list[Sample] | StreamedSamples  # held in memory, or read on demand


def load_samples(
    voc_root: str | Path,
    prm_path: str | Path,
    pseudo_gt_path: str | Path,
    image_ids: list[str],
    input_size: int,
    k: int,
    source: str,
) -> list[Sample]:
    """All training samples of ``image_ids`` in memory: peaks with a candidate and a non-zero PRM only."""
    where = SampleSource(Path(voc_root), Path(prm_path), Path(pseudo_gt_path), input_size)
    return StreamedSamples(where, index_samples(where, image_ids, k, source)).load_all()


def sample_megabytes(rows: list[IndexRow], input_size: int, feature_bytes: int) -> float:
    """Memory that holding every sample (and ``feature_bytes`` of cached features per image) takes."""
    pixels = input_size * input_size
    per_row = [3 * pixels * 4 + int(r.keep.sum()) * pixels * 2 + r.masks * pixels + feature_bytes for r in rows]
    return sum(per_row) / 2**20
