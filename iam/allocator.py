"""Let glibc keep freed large blocks for reuse instead of returning them to the OS after every free.

glibc serves allocations above its mmap threshold (128 KiB at first, raised dynamically only up to
the size of blocks already freed) with fresh ``mmap`` pages and unmaps them on ``free``; a network
pass that allocates the same multi-MB activations layer after layer then page-faults every one of
them in again, on every image. Raising the mmap and trim thresholds once per process serves them
from the heap, which keeps freed blocks. This is the page-fault half of why PyTorch's CPU tuning
guide recommends jemalloc/tcmalloc, without a native dependency. Measured effect:
benchmarks/README.md (PRM extraction). A no-op where the C library has no ``mallopt``.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 * 2**20  # glibc's maximum on 64-bit: larger blocks are still mmapped
TRIM_THRESHOLD = 2**30  # free heap top kept up to 1 GiB before it is returned to the OS


def retain_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process; False where that is unavailable."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    mallopt = getattr(ctypes.CDLL(name), "mallopt", None)
    return (
        mallopt is not None
        and bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
        and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    )
