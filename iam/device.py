"""Resolve the ``device`` config value to a torch device."""

from __future__ import annotations

from pathlib import Path

import torch

from iam.errors import InputError

CPUINFO = Path("/proc/cpuinfo")


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when available; ``cuda`` without a GPU is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise InputError("config key 'device'", "cuda requested but no CUDA device is available")
    if name not in ("cpu", "cuda"):
        raise InputError("config key 'device'", f"unknown device {name!r} (auto, cpu or cuda)")
    return torch.device(name)


DTYPES = ("auto", "float32", "bfloat16")


def resolve_dtype(name: str, device: torch.device, key: str = "dtype") -> torch.dtype:
    """A ``*.dtype`` config value as a torch dtype: ``auto`` is bfloat16 where ``device`` computes in it
    natively (:func:`has_fast_bfloat16`) and float32 elsewhere; ``key`` names the config key in errors."""
    if name not in DTYPES:
        raise InputError(f"config key {key!r}", f"unknown dtype {name!r} ({', '.join(DTYPES)})")
    if name == "auto":
        return torch.bfloat16 if has_fast_bfloat16(device) else torch.float32
    return getattr(torch, name)


def dtype_name(dtype: torch.dtype) -> str:
    """``float32`` for ``torch.float32``: the config's spelling of a dtype."""
    return str(dtype).removeprefix("torch.")


def has_fast_bfloat16(device: torch.device) -> bool:
    """Whether ``device`` computes in bfloat16 natively: a CUDA GPU that supports it, or a CPU with
    AVX512-BF16 or AMX (read from /proc/cpuinfo; False where that is missing)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})


def cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where it is missing)."""
    lines = CPUINFO.read_text().splitlines() if CPUINFO.exists() else []
    return next((set(line.split(":", 1)[1].split()) for line in lines if line.startswith("flags")), set())
