"""Compare two finished runs (``results/<run>`` trees) file by file: HDF5 artifacts array by array and
attr by attr (``iam diff``: the code version and per-image ``time_*`` attrs ignored), every other file
byte by byte; logs and Snakemake benchmarks are skipped. Prints a summary and the files that differ.

    .venv/bin/python benchmarks/compare_runs.py /tmp/before/results/synthetic /tmp/after/results/synthetic
"""

from __future__ import annotations

import argparse
from pathlib import Path

from iam.io.compare import artifact_differences

SKIPPED = {"logs", "benchmarks"}


def files(root: Path) -> set[Path]:
    """Relative paths of the files under ``root`` outside the skipped folders."""
    return {p.relative_to(root) for p in root.rglob("*") if p.is_file() and p.relative_to(root).parts[0] not in SKIPPED}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    args = parser.parse_args()
    fa, fb = files(args.a), files(args.b)
    bytes_equal, arrays_equal, differ = 0, 0, []
    for rel in sorted(fa & fb):
        if (args.a / rel).read_bytes() == (args.b / rel).read_bytes():
            bytes_equal += 1
        elif rel.suffix == ".h5" and not artifact_differences(args.a / rel, args.b / rel):
            arrays_equal += 1
        else:
            differ.append(str(rel))
    print(f"only in {args.a}: {sorted(map(str, fa - fb))}")
    print(f"only in {args.b}: {sorted(map(str, fb - fa))}")
    print(f"{len(fa & fb)} files in both: {bytes_equal} byte-identical, {arrays_equal} HDF5 identical array by array")
    print(f"{len(differ)} differ:", *differ, sep="\n  ")


if __name__ == "__main__":
    main()
