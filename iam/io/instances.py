"""The ``instances`` artifact's writer and reader, shared by IAM inference, PRM retrieval, baselines and
evaluation: one group per image, layout in :mod:`iam.io.schema`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import h5py
import numpy as np

from iam.io.h5 import image_group, put

KIND = "instances"


@dataclass
class InstanceSet:
    """Instances predicted for one image."""

    masks: np.ndarray  # (n, H, W) bool
    labels: np.ndarray  # (n,) int64
    scores: np.ndarray  # (n,) float32

    def __len__(self) -> int:
        return len(self.labels)

    @classmethod
    def empty(cls, height: int, width: int) -> InstanceSet:
        return cls(np.zeros((0, height, width), bool), np.zeros(0, np.int64), np.zeros(0, np.float32))


def write_instances(f: h5py.File, image_id: str, inst: InstanceSet, soft: np.ndarray | None = None) -> h5py.Group:
    """Write one image's instances (and optionally their soft maps) as group ``image_id``."""
    g = f.create_group(image_id)
    put(g, "masks", np.asarray(inst.masks, dtype=np.uint8))
    put(g, "labels", np.asarray(inst.labels, dtype=np.int64))
    put(g, "scores", np.asarray(inst.scores, dtype=np.float32))
    if soft is not None:
        put(g, "soft", soft, half=True)
    return g


def read_instances(f: h5py.File, image_id: str) -> InstanceSet:
    """Read one image's instances."""
    g = image_group(f, image_id)
    return InstanceSet(
        g["masks"][()].astype(bool), g["labels"][()].astype(np.int64), g["scores"][()].astype(np.float32)
    )


def read_soft_maps(f: h5py.File, image_id: str) -> tuple[np.ndarray, np.ndarray] | None:
    """One image's soft maps (float16, as stored) and their labels; None when the file stores none."""
    g = image_group(f, image_id)
    return (g["soft"][()], g["labels"][()]) if "soft" in g else None


def set_classes(f: h5py.File, classes: Sequence[str]) -> None:
    """Record the class names the labels index into."""
    f.attrs["classes"] = json.dumps(list(classes))


def get_classes(f: h5py.File) -> list[str]:
    """Class names the labels index into."""
    return json.loads(f.attrs["classes"])
