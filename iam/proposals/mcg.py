"""Read and write MCG/COB segment-proposal ``.mat`` files as the public releases ship them.

MCG (``im2mcg``, pre-computed PASCAL/SBD/COCO files) saves, at the top level of the file:

``superpixels``  (H, W) integer map, superpixel ids 1..N_sp (MATLAB 1-based)
``labels``       (n, 1) cell array; cell j = the superpixel ids whose union is proposal j
``scores``       (n, 1) objectness, proposals sorted best first
``bboxes``       optional (n, 4) [up, left, down, right]; never needed (masks carry the extent)

COB (``im2prop`` via ``scripts/im2cob_all.m``) saves ``proposals`` (a struct with the same
fields), ``ucm2`` and ``times``. Both come as MATLAB v5 (read with :func:`scipy.io.loadmat`) or
v7.3 (HDF5, read with h5py: arrays transposed, cells as object references).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import scipy.io

from iam.errors import InputError
from iam.io.atomic import atomic_path
from iam.io.matlab import numbers


@dataclass
class SuperpixelProposals:
    """Proposals as unions of superpixels: ``masks[j] = isin(superpixels, ids[ptr[j]:ptr[j+1]])``."""

    superpixels: np.ndarray  # (H, W) int32, 0-based superpixel index
    ids: np.ndarray  # (nnz,) int32, 0-based superpixel indices of all proposals, concatenated
    ptr: np.ndarray  # (n + 1,) int64 CSR offsets into ids
    scores: np.ndarray  # (n,) float32

    def __len__(self) -> int:
        return len(self.scores)

    @property
    def n_superpixels(self) -> int:
        return int(self.superpixels.max()) + 1

    def membership(self, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
        """(n, N_sp) bool: which superpixels each proposal (of ``rows``) unions."""
        member = np.zeros((len(self), self.n_superpixels), bool)
        rows_of = np.repeat(np.arange(len(self)), np.diff(self.ptr))
        member[rows_of, self.ids] = True
        return member[rows]

    def masks(self, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
        """(n, H, W) bool masks of the proposals in ``rows``."""
        return self.membership(rows)[:, self.superpixels]


def from_lists(superpixels: np.ndarray, labels: list[np.ndarray], scores: np.ndarray) -> SuperpixelProposals:
    """Build from a 0-based superpixel map and per-proposal 0-based id lists."""
    lengths = [len(lab) for lab in labels]
    ids = np.concatenate(labels).astype(np.int32) if labels else np.zeros(0, np.int32)
    ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return SuperpixelProposals(np.asarray(superpixels, np.int32), ids, ptr, np.asarray(scores, np.float32).ravel())


def read_mcg(
    path: str | Path, image_shape: tuple[int, int] | None = None, max_per_image: int | None = None
) -> SuperpixelProposals:
    """Read an MCG or COB ``.mat`` (v5 or v7.3); keep the ``max_per_image`` best by score.

    Raises :class:`InputError` naming ``path`` when fields are missing, superpixel ids are out of
    range, there are no proposals, or the superpixel map does not match ``image_shape`` (H, W).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "proposal file does not exist")
    fields = _read_v73(path) if h5py.is_hdf5(path) else _read_v5(path)
    props = _validate(path, fields, image_shape)
    return top_by_score(props, max_per_image)


def top_by_score(props: SuperpixelProposals, keep: int | None) -> SuperpixelProposals:
    """The ``keep`` highest-scoring proposals, best first (stable for ties)."""
    order = np.argsort(-props.scores, kind="stable")[:keep]
    labels = [props.ids[props.ptr[j] : props.ptr[j + 1]] for j in order]
    return from_lists(props.superpixels, labels, props.scores[order])


def _read_v5(path: Path) -> dict[str, Any]:
    try:
        mat = scipy.io.loadmat(path, squeeze_me=False, struct_as_record=True)
    except Exception as exc:  # scipy raises many types for corrupt files
        raise InputError(path, f"not a readable MATLAB v5 file: {exc}") from exc
    if "proposals" in mat:
        struct = mat["proposals"]
        mat = {name: struct[name][0, 0] for name in (struct.dtype.names or ())}
    out: dict[str, Any] = {}
    if "superpixels" in mat:
        out["superpixels"] = np.asarray(mat["superpixels"])
    if "labels" in mat:
        out["labels"] = [np.asarray(c).ravel() for c in np.asarray(mat["labels"], dtype=object).ravel()]
    if "scores" in mat:
        out["scores"] = np.asarray(mat["scores"]).ravel()
    return out


def _read_v73(path: Path) -> dict[str, Any]:
    try:
        with h5py.File(path, "r") as f:
            root = f["proposals"] if "proposals" in f else f
            out: dict[str, Any] = {}
            if "superpixels" in root:
                out["superpixels"] = _v73_array(root["superpixels"])
            if "labels" in root:
                out["labels"] = [_v73_array(f[ref]).ravel() for ref in _v73_array(root["labels"]).ravel()]
            if "scores" in root:
                out["scores"] = _v73_array(root["scores"]).ravel()
            return out
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise InputError(path, f"not a readable MATLAB v7.3 proposal file: {exc}") from exc


def _v73_array(ds: h5py.Dataset) -> np.ndarray:
    """A v7.3 array in MATLAB's axis order: an empty one (stored as its dimensions) has no values,
    a char array becomes text (so that it is reported as such, not read as character codes)."""
    if ds.attrs.get("MATLAB_empty", 0):
        return np.zeros(0)
    if ds.attrs.get("MATLAB_class", b"") == b"char":
        return np.asarray([ds[()].astype(np.uint16).tobytes().decode("utf-16-le")])
    return ds[()].T


def _validate(path: Path, fields: dict[str, Any], image_shape: tuple[int, int] | None) -> SuperpixelProposals:
    missing = [k for k in ("superpixels", "labels", "scores") if k not in fields]
    if missing:
        raise InputError(path, f"missing field(s) {missing} (expected MCG superpixels/labels/scores)")
    sp = numbers(path, "superpixels", fields["superpixels"])
    if sp.ndim != 2 or sp.size == 0:
        raise InputError(path, f"superpixels has shape {sp.shape}, expected (H, W)")
    if image_shape is not None and tuple(sp.shape) != tuple(image_shape):
        raise InputError(path, f"superpixel map is {sp.shape}, image is {tuple(image_shape)} (H, W)")
    if len(fields["labels"]) == 0:
        raise InputError(path, "holds zero proposals")
    labels = [numbers(path, f"labels of proposal {j}", lab) for j, lab in enumerate(fields["labels"])]
    scores = numbers(path, "scores", fields["scores"], whole=False)
    if len(labels) != len(scores):
        raise InputError(path, f"{len(labels)} label lists but {len(scores)} scores")
    n_sp = int(sp.max())
    if sp.min() < 1:
        raise InputError(path, f"superpixel ids must be 1-based, found {int(sp.min())}")
    for j, lab in enumerate(labels):
        if lab.size == 0 or lab.min() < 1 or lab.max() > n_sp:
            raise InputError(path, f"proposal {j} has superpixel ids outside 1..{n_sp} (or none)")
    return from_lists(sp.astype(np.int64) - 1, [lab.astype(np.int64) - 1 for lab in labels], scores)


def write_mcg(path: str | Path, props: SuperpixelProposals) -> None:
    """Write MCG-format MATLAB v5: 1-based ``superpixels``, ``labels`` cell array, ``scores``."""
    cells = np.empty((len(props), 1), dtype=object)
    for j in range(len(props)):
        cells[j, 0] = (props.ids[props.ptr[j] : props.ptr[j + 1]] + 1).astype(np.double)[None, :]
    with atomic_path(path) as tmp:
        scipy.io.savemat(tmp, _mcg_fields(props, cells), do_compression=True, appendmat=False)


def _mcg_fields(props: SuperpixelProposals, cells: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "superpixels": (props.superpixels + 1).astype(np.uint16 if props.n_superpixels < 65535 else np.uint32),
        "labels": cells,
        "scores": props.scores.astype(np.double)[:, None],
    }
