"""HDF5 artifacts: one file per stage and split, one group per image id, provenance in file attrs.

Every artifact carries these file-level attrs:

``schema_version``  int, bumped when a layout changes
``kind``            what the file holds (``prm``, ``proposals``, ``pseudo_gt``, ``instances``, ...)
``rule``            the Snakemake rule (or tool) that wrote it
``config_hash``     hash of the parameters the producing rule received
``params``          those parameters as JSON
``code_version``    package version (+ git commit when available)

Per-kind dataset layouts are documented in :mod:`iam.io.schema`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from iam import __version__
from iam.errors import ArtifactError
from iam.io.atomic import atomic_path

SCHEMA_VERSION = 1


def config_hash(params: Mapping[str, Any]) -> str:
    """A short, stable hash of a parameter mapping (key order does not matter)."""
    blob = json.dumps(params, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def code_version() -> str:
    """Package version, plus the git commit of the checkout when there is one."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"{__version__}+{sha}" if sha else __version__


@contextlib.contextmanager
def write_artifact(
    path: str | Path, kind: str, rule: str, params: Mapping[str, Any] | None = None
) -> Iterator[h5py.File]:
    """Open a new artifact for writing; it appears at ``path`` only when the block completes."""
    params = dict(params or {})
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w", track_order=True) as f:
            f.attrs["schema_version"] = SCHEMA_VERSION
            f.attrs["kind"] = kind
            f.attrs["rule"] = rule
            f.attrs["config_hash"] = config_hash(params)
            f.attrs["params"] = json.dumps(params, sort_keys=True, default=str)
            f.attrs["code_version"] = code_version()
            yield f


def open_artifact(path: str | Path, kind: str | None = None, expect: Mapping[str, Any] | None = None) -> h5py.File:
    """Open an artifact read-only, checking it is readable, of ``kind`` and of this schema.

    ``expect`` maps parameter names to the values the caller requires of the producing
    rule's params (e.g. ``{"k": 5}``); a mismatch raises :class:`ArtifactError`.
    """
    path = Path(path)
    f = open_hdf5(path, Artifact)
    try:
        _check_attrs(f, path, kind, expect or {})
    except ArtifactError:
        f.close()
        raise
    return f


def open_hdf5(path: str | Path, file_class: type[h5py.File] = h5py.File) -> h5py.File:
    """Open any HDF5 file read-only (``iam inspect``, ``iam diff``); a missing or unreadable file is
    an :class:`ArtifactError` naming it."""
    if not Path(path).exists():
        raise ArtifactError(path, "artifact does not exist")
    try:
        return file_class(path, "r")
    except OSError as exc:
        raise ArtifactError(path, f"not a readable HDF5 file (truncated or foreign?): {exc}") from exc


class MissingInArtifact(ArtifactError, KeyError):
    """An image group, dataset or attr an artifact lacks. Also a ``KeyError``, so that ``get`` and
    ``attrs.get`` still return their default."""

    def __str__(self) -> str:
        return self.args[0]  # not KeyError's repr()


class _Checked(h5py.Group):
    """A group whose missing members and attrs raise :class:`MissingInArtifact` naming the file and group."""

    def __getitem__(self, name: str) -> Any:
        try:
            item = super().__getitem__(name)
        except KeyError as exc:
            raise MissingInArtifact(self.file.filename, f"{_where(self)} has no {name!r}") from exc
        return _Checked(item.id) if isinstance(item, h5py.Group) else item

    @property
    def attrs(self) -> h5py.AttributeManager:
        return _CheckedAttrs(self)


class _CheckedAttrs(h5py.AttributeManager):
    """The attrs of a :class:`_Checked` group: a missing one raises :class:`MissingInArtifact`."""

    def __init__(self, parent: h5py.Group) -> None:
        super().__init__(parent)
        self._parent = parent

    def __getitem__(self, name: str) -> Any:
        try:
            return super().__getitem__(name)
        except KeyError as exc:
            raise MissingInArtifact(self._parent.file.filename, f"{_where(self._parent)} has no attr {name!r}") from exc


def image_group(f: h5py.File, image_id: str) -> h5py.Group:
    """Group ``image_id`` of an artifact however it was opened: it, or a dataset or attr missing in it,
    raises :class:`MissingInArtifact` naming the file."""
    return _Checked(f.id)[image_id]


class Stored:
    """A field of an image-group view (a class with a ``group`` attribute) that reads the dataset of its
    name, as stored, each time it is accessed."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, view: Any, owner: type | None = None) -> np.ndarray:
        return view.group[self.name][()]


def _where(group: h5py.Group) -> str:
    return "the file" if group.name == "/" else f"group {group.name!r}"


class Artifact(_Checked, h5py.File):
    """An artifact opened by :func:`open_artifact`: a missing image group, dataset or attr is an
    :class:`ArtifactError` naming the file and the group instead of h5py's bare ``KeyError``."""


def _check_attrs(f: h5py.File, path: Path, kind: str | None, expect: Mapping[str, Any]) -> None:
    version = f.attrs.get("schema_version")
    if version != SCHEMA_VERSION:
        found = "missing" if version is None else int(version)
        raise ArtifactError(path, f"schema_version {found}, expected {SCHEMA_VERSION} (foreign or stale file)")
    if kind is not None and f.attrs.get("kind") != kind:
        raise ArtifactError(path, f"holds kind {str(f.attrs.get('kind'))!r}, expected {kind!r}")
    params = json.loads(f.attrs.get("params", "{}"))
    for key, want in expect.items():
        if key not in params or params[key] != want:
            raise ArtifactError(path, f"was produced with {key}={params.get(key)!r}, this step expects {want!r}")


def artifact_params(f: h5py.File) -> dict[str, Any]:
    """The producing rule's parameters stored in an artifact."""
    return json.loads(f.attrs.get("params", "{}"))


def image_ids(f: h5py.File) -> list[str]:
    """Image ids (top-level groups) of an artifact, in file order."""
    return [k for k, v in f.items() if isinstance(v, h5py.Group)]


def put(group: h5py.Group, name: str, data: Any, half: bool = False) -> h5py.Dataset:
    """Store an array compressed; ``half`` stores floats as float16; ≥2-D arrays chunk per slice."""
    arr = np.asarray(data)
    if half and arr.dtype.kind == "f":
        arr = arr.astype(np.float16)
    if arr.ndim == 0 or arr.size == 0:
        return group.create_dataset(name, data=arr, track_times=False)
    chunks = (1, *arr.shape[1:]) if arr.ndim == 3 else True
    return group.create_dataset(
        name,
        data=arr,
        compression="gzip",
        compression_opts=4,
        shuffle=True,
        chunks=chunks,
        track_times=False,
    )


def merge_shards(shards: Iterable[str | Path], out: str | Path, kind: str, order: list[str] | None = None) -> None:
    """Merge per-shard artifacts (same kind and params) into one split file, atomically.

    Image groups are written in ``order`` (the split file's order) when given, so a sharded run
    produces the same file layout as an unsharded one.
    """
    shards = [Path(p) for p in shards]
    sources = [open_artifact(p, kind) for p in shards]
    try:
        attrs = dict(sources[0].attrs)
        where: dict[str, h5py.File] = {}
        for path, src in zip(shards, sources):
            if src.attrs["config_hash"] != attrs["config_hash"]:
                raise ArtifactError(path, "shard was produced with other parameters than the first")
            where.update({key: src for key in image_ids(src)})
        keys = list(where) if order is None else [k for k in order if k in where]
        with atomic_path(out) as tmp:
            with h5py.File(tmp, "w", track_order=True) as dst:
                dst.attrs.update(attrs)
                for key in keys:
                    where[key].copy(where[key][key], dst, name=key)
    finally:
        for src in sources:
            src.close()
