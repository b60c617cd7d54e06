"""The ``iam`` command: look inside every artifact the pipeline writes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from iam.errors import InputError
from iam.io.compare import artifact_differences
from iam.io.inspect import inspect_artifact


def _inspect(args: argparse.Namespace) -> None:
    print(inspect_artifact(args.file, args.image_id, limit=args.limit))


def _diff(args: argparse.Namespace) -> int:
    diffs = artifact_differences(args.a, args.b)
    print("\n".join(diffs) if diffs else "identical (ignoring timings and code version)")
    return 1 if diffs else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="iam", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("inspect", help="list groups, datasets, shapes, dtypes and attrs of an HDF5 artifact")
    p.add_argument("file")
    p.add_argument("image_id", nargs="?")
    p.add_argument("--limit", type=int, default=3, help="image groups to list without IMAGE_ID")
    p.set_defaults(func=_inspect)

    p = sub.add_parser("diff", help="compare two HDF5 artifacts array by array (exit 1 if they differ)")
    p.add_argument("a")
    p.add_argument("b")
    p.set_defaults(func=_diff)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status = args.func(args)
    except (InputError, KeyError, OSError) as exc:
        print(f"iam {args.command}: {exc}", file=sys.stderr)
        return 2
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())
