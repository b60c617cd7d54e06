"""ConvCRF speed against another revision's implementation: kernel and per-instance refinement.

Loads ``iam/crf/convcrf.py`` as of ``--against`` (a git revision) beside the current one, checks
that both give the same foreground marginals on a random image, and times each (median of
``--repeats``, 1 thread unless OMP_NUM_THREADS says otherwise) at 128² and 448² with 4 instances.
The reference refines through its general ``refine`` on the two-label unary, as inference did.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/crf.py --against 6f4b6ab
writes benchmarks/results/crf-cpu.json.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import torch
from shards import cpu_model  # benchmarks/ is on the path when this script runs

from iam.crf import convcrf
from iam.io.atomic import write_json

ROOT = Path(__file__).resolve().parents[1]


def module_at(revision: str) -> ModuleType:
    """``iam.crf.convcrf`` as of a git revision, imported under another name."""
    source = subprocess.run(
        ["git", "show", f"{revision}:iam/crf/convcrf.py"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "convcrf_reference.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("convcrf_reference", path)
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)  # dataclasses look it up
    spec.loader.exec_module(module)
    return module


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        tic = time.perf_counter()
        fn()
        times.append(time.perf_counter() - tic)
    return 1000 * float(np.median(times))


def compare(reference: ModuleType, size: int, repeats: int) -> dict[str, float]:
    """Kernel and refinement milliseconds of both implementations on one random image."""
    g = torch.Generator().manual_seed(0)
    image = torch.rand(3, size, size, generator=g) * 255
    fg = torch.rand(4, size, size, generator=g).clamp(0.01, 0.99)
    params = convcrf.CRFParams()
    unary = torch.stack([1 - fg, fg], dim=1).log()
    ours = convcrf.refine_foreground(image, fg.logit(), params)
    torch.testing.assert_close(ours, reference.refine(image, unary, params)[:, 1], rtol=1e-3, atol=2e-4)
    return {
        "size": size,
        "instances": 4,
        "kernel_ms": median_ms(lambda: convcrf.flat_kernel(image, params), repeats),
        "kernel_reference_ms": median_ms(lambda: reference.pairwise_kernel(image, params), repeats),
        "refine_ms": median_ms(lambda: convcrf.refine_foreground(image, fg.logit(), params), repeats),
        "refine_reference_ms": median_ms(lambda: reference.refine(image, unary, params), repeats),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="6f4b6ab", help="git revision of the reference implementation")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    reference = module_at(args.against)
    rows = [compare(reference, size, args.repeats) for size in (128, 448)]
    report = {
        "benchmark": "ConvCRF kernel + 5 mean-field iterations, filter 7, random image",
        "device": cpu_model(),
        "torch_threads": torch.get_num_threads(),
        "date": datetime.date.today().isoformat(),
        "against": args.against,
        "results": rows,
    }
    write_json(Path(__file__).parent / "results" / "crf-cpu.json", report)
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
