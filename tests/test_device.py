"""Device facts: whether bfloat16 is native (decides whether prm.dtype bfloat16 is worth a warning)."""

from pathlib import Path
from unittest import mock

import pytest
import torch

from iam import device


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
