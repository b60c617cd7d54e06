"""The ``iam`` command: look inside every artifact the pipeline writes."""

from __future__ import annotations

import argparse
import json
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


def _show(args: argparse.Namespace) -> None:
    from iam.show import show

    show(args.file, args.image_id, args.out, voc_root=args.voc_root, top=args.top)
    print(args.out)


def _dataset_stats(args: argparse.Namespace) -> None:
    from iam.data.stats import contact_sheet, dataset_stats

    classes = args.classes.split(",")
    print(json.dumps(dataset_stats(args.voc_root, classes, args.split), indent=2))
    if args.sheet:
        contact_sheet(args.voc_root, args.split, args.sheet, classes)


def _export_coco(args: argparse.Namespace) -> None:
    from iam.report.export import export_predictions

    print(f"{export_predictions(args.file, args.out)} predictions -> {args.out}")


def _export_coco_gt(args: argparse.Namespace) -> None:
    from iam.data.voc import read_split
    from iam.evaluation.gt import instance_reader
    from iam.report.export import export_ground_truth

    if args.gt_source == "sbd" and not args.sbd_root:
        raise InputError("--sbd-root", "required with --gt-source sbd")
    classes = args.classes.split(",")
    reader = instance_reader(args.gt_source, args.voc_root, args.sbd_root, classes)
    n = export_ground_truth(read_split(args.voc_root, args.split), reader, classes, args.out)
    print(f"{n} GT instances -> {args.out}")


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

    p = sub.add_parser("show", help="render one image of an artifact (prm, proposals, instances) to PNG")
    p.add_argument("file")
    p.add_argument("image_id")
    p.add_argument("-o", "--out", required=True)
    p.add_argument("--voc-root", help="VOC tree of the images (default: the one the artifact records)")
    p.add_argument("--top", type=int, default=16, help="proposals to draw")
    p.set_defaults(func=_show)

    p = sub.add_parser("dataset-stats", help="statistics of a VOC-format split (reads GT)")
    p.add_argument("voc_root")
    p.add_argument("--split", default="train")
    p.add_argument("--classes", required=True, help="comma-separated class names in label order")
    p.add_argument("--sheet", help="also write a contact sheet PNG here")
    p.set_defaults(func=_dataset_stats)

    p = sub.add_parser("export-coco", help="an instance-set artifact as COCO results JSON (RLE)")
    p.add_argument("file")
    p.add_argument("-o", "--out", required=True)
    p.set_defaults(func=_export_coco)

    p = sub.add_parser("export-coco-gt", help="a split's GT instances as a COCO dataset JSON")
    p.add_argument("voc_root")
    p.add_argument("--split", default="val")
    p.add_argument("--classes", required=True, help="comma-separated class names in label order")
    p.add_argument("--gt-source", choices=["voc", "sbd"], default="voc")
    p.add_argument("--sbd-root")
    p.add_argument("-o", "--out", required=True)
    p.set_defaults(func=_export_coco_gt)
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
