"""Glue for workflow scripts: logging to the rule's log file, seeding, thread limits, allocator,
subnormal flushing."""

from __future__ import annotations

import logging
import random
import re
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from iam.allocator import retain_freed_memory


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch, and ask torch for deterministic kernels."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def shard_ids(ids: list[str], index: int, count: int) -> list[str]:
    """The ids of shard ``index`` of ``count``: dealt round-robin by position in the split."""
    if not 0 <= index < count:
        raise ValueError(f"shard index {index} outside 0..{count - 1}")
    return ids[index::count]


def shard_rules(rules_dir: Path) -> tuple[str, ...]:
    """The named rules of ``rules_dir/*.smk`` whose output is one shard (``shard{{i}}`` in the
    output): everything downstream of them depends on ``shards.count``."""
    found = []
    for smk in sorted(rules_dir.glob("*.smk")):
        for name, body in re.findall(r"^\s*rule (\w+):\n(.*?)(?=^\s*rule |\Z)", smk.read_text(), re.M | re.S):
            output = re.search(r"output:\n(.*?)\n\s*log:", body, re.S)  # every rule has log: after output:
            if output and "shard{{i}}" in output[1]:
                found.append(name)
    return tuple(found)


def limit_threads(count: int) -> None:
    """Limit every thread pool of the process to ``count``: torch, OpenCV (when imported) and the
    BLAS / OpenMP pools of NumPy and SciPy (threadpoolctl), which otherwise take every core whatever
    the rule's ``threads:`` says, and spin-wait after a matrix product on cores torch's threads then
    wait for (Table 2 on 2 threads, three paired runs: PRM stage 0.228 -> 0.217 s per image)."""
    count = max(1, count)
    if "torch" in sys.modules:  # torch stages imported it already; others skip its ~2 s import
        sys.modules["torch"].set_num_threads(count)
    if "cv2" in sys.modules:
        sys.modules["cv2"].setNumThreads(count)
    threadpool_limits(count)


def flush_subnormals() -> bool:
    """Have torch's CPU kernels treat subnormal floats (below ~1.2e-38) as zero (FTZ/DAZ), when torch is
    imported; whether that took effect. x86 cores compute subnormal operands 10-100x slower, and filler
    training drifts into them: two fresh clones of the default run an hour apart on one Xeon VM spent
    1,333 and 672 CPU s in train_filler, without and with the flush, their backbones 502 and 500
    (benchmarks/results/default-run-xeon-72541d7.json, -355cbb5.json). Values this small carry nothing
    a float32 result keeps, and flushing them is deterministic."""
    torch = sys.modules.get("torch")
    return torch is not None and bool(torch.set_flush_denormal(True))


def prepare_process(threads: int, retain_memory: bool = True) -> bool:
    """Set this process up as every rule runs: thread pools limited to ``threads``
    (:func:`limit_threads`), freed memory kept for reuse (:mod:`iam.allocator`; unless ``retain_memory``
    is False) and subnormals flushed (:func:`flush_subnormals`). Benchmarks that imitate a rule call it
    too. Returns whether freed memory is retained."""
    limit_threads(threads)
    retained = retain_memory and retain_freed_memory()
    flush_subnormals()
    return retained


def run(smk: Any, main: Callable[[Any], None]) -> None:
    """Run ``main(snakemake)`` with logging into ``snakemake.log[0]`` in a process set up by
    :func:`prepare_process` for the rule's threads.

    Exceptions are logged with their traceback and re-raised so the rule fails non-zero.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if smk.log:
        handlers.append(logging.FileHandler(str(smk.log[0]), mode="w"))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        handlers=handlers,
        force=True,
    )
    prepare_process(int(smk.threads))
    try:
        main(smk)
    except Exception:
        logging.getLogger(smk.rule).error("rule %s failed:\n%s", smk.rule, traceback.format_exc())
        raise
