"""Human-readable listing of an HDF5 artifact: file attrs, image groups, datasets, shapes, dtypes."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from iam.errors import ArtifactError
from iam.io.h5 import image_ids, open_hdf5
from iam.io.schema import describe_dataset


def _fmt_attr(value: object) -> str:
    text = value.decode() if isinstance(value, bytes) else str(value)
    return text if len(text) <= 100 else text[:97] + "..."


def _describe_group(group: h5py.Group, kind: str, indent: str = "  ") -> list[str]:
    lines = [f"{indent}@{k} = {_fmt_attr(v)}" for k, v in group.attrs.items()]
    for name, obj in group.items():
        if isinstance(obj, h5py.Dataset):
            doc = describe_dataset(kind, name)
            lines.append(f"{indent}{name}: shape={obj.shape} dtype={obj.dtype}" + (f"  # {doc}" if doc else ""))
        else:
            lines.append(f"{indent}{name}/")
            lines.extend(_describe_group(obj, kind, indent + "  "))
    return lines


def inspect_artifact(path: str | Path, image_id: str | None = None, limit: int = 3) -> str:
    """Describe ``path``; with ``image_id`` show that image's group, else the first ``limit`` groups."""
    with open_hdf5(path) as f:
        kind = str(f.attrs.get("kind", ""))
        ids = image_ids(f)
        lines = [f"{path}", f"  images: {len(ids)}"]
        lines += [f"  @{k} = {_fmt_attr(v)}" for k, v in f.attrs.items()]
        if image_id is not None and image_id not in f:
            raise ArtifactError(path, f"no image group {image_id!r}")
        for key in [image_id] if image_id is not None else ids[:limit]:
            lines.append(f"/{key}")
            lines.extend(_describe_group(f[key], kind))
            if image_id is not None:
                lines.extend(_summarise_values(f[key]))
        if image_id is None and len(ids) > limit:
            lines.append(f"  ... {len(ids) - limit} more image groups")
    return "\n".join(lines)


def _summarise_values(group: h5py.Group) -> list[str]:
    lines = []
    for name, obj in group.items():
        if isinstance(obj, h5py.Dataset) and obj.size and obj.dtype.kind in "biuf":
            arr = np.asarray(obj[()], dtype=np.float64)
            lines.append(f"    {name}: min={arr.min():.4g} max={arr.max():.4g} mean={arr.mean():.4g}")
    return lines
