"""Checks of arrays read from MATLAB files (MCG/COB proposals, SBD annotations), whose content
comes from other tools: text, nested cells, NaN or fractions where ids are expected."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from iam.errors import InputError


def numbers(path: Path, what: str, values: object, whole: bool = True) -> np.ndarray:
    """``values`` as an array if they are finite numbers (whole ones when ``whole``); otherwise an
    :class:`InputError` naming ``path`` and ``what``."""
    values = np.asarray(values)
    if values.dtype.kind not in "iuf":
        kind = {"S": "text", "U": "text", "O": "nested cells or structs"}.get(values.dtype.kind, str(values.dtype))
        raise InputError(path, f"{what} holds {kind}, expected numbers")
    if not np.isfinite(values).all():
        raise InputError(path, f"{what} holds NaN or inf")
    if whole and (values != np.round(values)).any():
        raise InputError(path, f"{what} holds non-integer values")
    return values
