"""Resolve the ``device`` config value to a torch device."""

from __future__ import annotations

import torch

from iam.errors import InputError


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when available; ``cuda`` without a GPU is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise InputError("config key 'device'", "cuda requested but no CUDA device is available")
    if name not in ("cpu", "cuda"):
        raise InputError("config key 'device'", f"unknown device {name!r} (auto, cpu or cuda)")
    return torch.device(name)
