"""Does a PRM say on which side of its part the body lies? (reads GT; a diagnostic of a finished run)

A part sits on its body's edge, so the PRM's halo around it falls partly on the body and partly on the
background, and the filler fills from wherever the PRM has mass (README, "PRM oracle"). A GT-free
transform of the PRM alone can keep the body's side only if the PRM leans towards the body. The run's
``prm_quality`` diagnostic measures the lean (``body_side_mass``, ``body_side_cos``:
:mod:`iam.evaluation.prm_quality`); this script applies it to any of the run's ``prm`` artifacts, the
GT-cut PRMs of the PRM oracle included as the reference of a PRM that lies on its instance alone.

    .venv/bin/python benchmarks/prm_side.py results/synthetic --artifacts prm/val prm/train prm_oracle/val
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml
from shards import write_record  # benchmarks/ is on the path when this script runs

from iam.evaluation.gt import instance_reader
from iam.evaluation.prm_quality import prm_quality

KEYS = ("body_side_mass", "body_side_cos", "mass_part", "mass_body", "mass_outside")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="results/<run> of a finished run")
    parser.add_argument("--artifacts", nargs="+", default=["prm/val", "prm/train", "prm_oracle/val"])
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/prm_side.json"))
    args = parser.parse_args()
    classes = yaml.safe_load(args.config.read_text())["dataset"]["classes"]
    voc = args.run / "data" / "VOC2012"
    read_gt = instance_reader("voc", str(voc), None, classes)
    rows = {}
    for name in args.artifacts:
        quality = prm_quality(args.run / f"{name}.h5", voc, read_gt)
        rows[name] = {key: round(quality[key], 3) if quality[key] is not None else None for key in KEYS}
        print(name, rows[name])
    write_record(args.out, args.run, artifacts=rows)


if __name__ == "__main__":
    main()
