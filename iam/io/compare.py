"""Compare two HDF5 artifacts array by array (determinism checks, `iam diff`)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from iam.io.h5 import open_hdf5

PROVENANCE_ATTRS = {"code_version"}


def _datasets(f: h5py.File) -> dict[str, h5py.Dataset]:
    out: dict[str, h5py.Dataset] = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj) if isinstance(obj, h5py.Dataset) else None)
    return out


def artifact_differences(a: str | Path, b: str | Path, ignore_attrs: set[str] = PROVENANCE_ATTRS) -> list[str]:
    """Human-readable differences between two artifacts: attrs, dataset names, shapes, values.

    Arrays compare exactly (NaN equal to NaN); per-image group attrs whose name starts with
    ``time_`` (wall-clock measurements) are ignored, as are ``ignore_attrs`` at file level.
    """
    diffs: list[str] = []
    with open_hdf5(a) as fa, open_hdf5(b) as fb:
        for key in sorted((set(fa.attrs) | set(fb.attrs)) - ignore_attrs):
            if str(fa.attrs.get(key)) != str(fb.attrs.get(key)):
                diffs.append(f"file attr {key}: {fa.attrs.get(key)!r} != {fb.attrs.get(key)!r}")
        da, db = _datasets(fa), _datasets(fb)
        diffs += [f"only in {a}: {name}" for name in sorted(set(da) - set(db))]
        diffs += [f"only in {b}: {name}" for name in sorted(set(db) - set(da))]
        for name in sorted(set(da) & set(db)):
            x, y = da[name][()], db[name][()]
            if x.shape != y.shape or not np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
                diffs.append(f"dataset {name} differs")
        for name in sorted(set(fa) & set(fb)):
            ga, gb = fa[name], fb[name]
            for key in sorted(k for k in set(ga.attrs) | set(gb.attrs) if not k.startswith("time_")):
                if str(ga.attrs.get(key)) != str(gb.attrs.get(key)):
                    diffs.append(f"attr {name}@{key} differs")
    return diffs
