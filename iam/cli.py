"""The ``iam`` command: look inside every artifact the pipeline writes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from iam.errors import InputError
from iam.io.inspect import inspect_artifact


def _inspect(args: argparse.Namespace) -> None:
    print(inspect_artifact(args.file, args.image_id, limit=args.limit))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="iam", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("inspect", help="list groups, datasets, shapes, dtypes and attrs of an HDF5 artifact")
    p.add_argument("file")
    p.add_argument("image_id", nargs="?")
    p.add_argument("--limit", type=int, default=3, help="image groups to list without IMAGE_ID")
    p.set_defaults(func=_inspect)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (InputError, KeyError, OSError) as exc:
        print(f"iam {args.command}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
