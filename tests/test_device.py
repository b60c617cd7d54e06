"""Device facts: whether bfloat16 is native (what dtype ``auto`` resolves to; whether bfloat16 earns a warning)."""

from pathlib import Path
from unittest import mock

import pytest
import torch

from iam import device
from iam.errors import InputError


@pytest.mark.parametrize(
    ("flags", "fast"),
    [("fpu avx2 fma", False), ("fpu avx2 avx512f avx512_bf16", True), ("fpu avx2 amx_bf16 amx_tile", True)],
)
def test_cpu_bfloat16_from_cpuinfo_flags(tmp_path: Path, monkeypatch, flags: str, fast: bool):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    monkeypatch.setattr(device, "CPUINFO", cpuinfo)
    assert device.has_fast_bfloat16(torch.device("cpu")) is fast


def test_no_cpuinfo_means_not_fast(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(device, "CPUINFO", tmp_path / "missing")
    assert device.has_fast_bfloat16(torch.device("cpu")) is False


def test_cuda_asks_torch():
    with mock.patch("torch.cuda.is_bf16_supported", return_value=True):
        assert device.has_fast_bfloat16(torch.device("cuda"))


@pytest.mark.parametrize("fast", [True, False])
def test_auto_dtype_is_bfloat16_only_where_native(monkeypatch, fast: bool):
    monkeypatch.setattr(device, "has_fast_bfloat16", lambda d: fast)
    cpu = torch.device("cpu")
    assert device.resolve_dtype("auto", cpu) == (torch.bfloat16 if fast else torch.float32)
    assert device.resolve_dtype("float32", cpu) == torch.float32  # explicit values are kept either way
    assert device.resolve_dtype("bfloat16", cpu) == torch.bfloat16
    assert device.dtype_name(device.resolve_dtype("auto", cpu)) == ("bfloat16" if fast else "float32")


def test_unknown_dtype_names_the_config_key():
    with pytest.raises(InputError, match="backbone.dtype.*float16"):
        device.resolve_dtype("float16", torch.device("cpu"), "backbone.dtype")
