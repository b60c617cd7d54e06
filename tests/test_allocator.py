"""iam.allocator: with glibc, freed large blocks are reused instead of faulted in again."""

import platform
import subprocess
import sys

import pytest

ROUNDS = """
import resource, sys
import numpy as np
from iam.allocator import retain_freed_memory
if sys.argv[1] == "retain":
    assert retain_freed_memory()
def faults():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    blocks = [np.ones(2**17) for _ in range(64)]  # 64 blocks of 1 MiB, written
    del blocks
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
rounds = [faults() for _ in range(4)]
print(sum(rounds[1:]))  # the first round faults its pages in either way
"""


def later_round_faults(mode: str) -> int:
    """Page faults of rounds 2-4 of allocating, writing and freeing 64 MiB in a fresh process."""
    return int(subprocess.run([sys.executable, "-c", ROUNDS, mode], capture_output=True, text=True, check=True).stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_freed_blocks_are_reused_without_page_faults():
    default, retained = later_round_faults("default"), later_round_faults("retain")
    assert default > 16_000  # glibc returns the freed 64 MiB to the OS and faults it in again
    assert retained < default / 10
