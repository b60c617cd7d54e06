"""The ``prm`` artifact's writer and reader: one group per image, layout in :mod:`iam.io.schema`."""

from __future__ import annotations

from dataclasses import dataclass

import h5py
import numpy as np

from iam.io.h5 import Stored, image_group, put

KIND = "prm"


@dataclass(frozen=True)
class PRMRecord:
    """What a ``prm`` artifact stores for one image (maps in float32; the writer halves them)."""

    peaks: np.ndarray  # (n, 3) class, y, x in original pixels
    peak_scores: np.ndarray  # (n,)
    prm: np.ndarray  # (n, H, W), each sums to 1
    class_scores: np.ndarray  # (C,)
    crm: np.ndarray  # (C, h, w)


def write_prm(f: h5py.File, image_id: str, record: PRMRecord) -> h5py.Group:
    """Write one image's record as group ``image_id``."""
    g = f.create_group(image_id)
    g.attrs["height"], g.attrs["width"] = record.prm.shape[1:]
    put(g, "peaks", record.peaks)
    put(g, "peak_scores", record.peak_scores)
    put(g, "prm", record.prm, half=True)
    put(g, "class_scores", record.class_scores)
    put(g, "crm", record.crm, half=True)
    return g


@dataclass(frozen=True)
class StoredPRM:
    """One image group of an open ``prm`` artifact; each dataset is read, as stored, when accessed."""

    group: h5py.Group
    peaks = Stored()
    peak_scores = Stored()
    prm = Stored()
    class_scores = Stored()
    crm = Stored()

    @property
    def shape(self) -> tuple[int, int]:
        """The original image's (height, width)."""
        return int(self.group.attrs["height"]), int(self.group.attrs["width"])

    @property
    def time_forward(self) -> float | None:
        """Seconds of backbone forward + peak backpropagation, when recorded."""
        return self.group.attrs.get("time_forward")

    @property
    def times(self) -> dict[str, float]:
        """``{"time_prm": seconds}`` when the forward + peak backpropagation time was recorded, else
        ``{}``: what an instance artifact made from these PRMs carries on."""
        return {} if self.time_forward is None else {"time_prm": float(self.time_forward)}

    def crm_of(self, c: int) -> np.ndarray:
        """Class ``c``'s response map alone (reads one slice of ``crm``)."""
        return self.group["crm"][c]


def read_prm(f: h5py.File, image_id: str) -> StoredPRM:
    """Image ``image_id`` of a ``prm`` artifact."""
    return StoredPRM(image_group(f, image_id))
