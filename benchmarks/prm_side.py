"""Does a PRM say on which side of its part the body lies? (reads GT; a diagnostic of a finished run)

A part sits on its body's edge, so the PRM's halo around it falls partly on the body and partly on the
background, and the filler fills from wherever the PRM has mass (README, "PRM oracle"). Any GT-free
transform of the PRM alone can keep the body's side only if the PRM itself leans towards the body. For
each PRM whose stored peak lies inside its own GT instance (:func:`own_instance`), this measures:

``cos``              cosine between (PRM centroid - peak) and (instance centroid - peak)
``body_half_mass``   PRM mass on the half-plane through the peak facing the instance centroid
``own_mass``         PRM mass on its instance
``centroid_offset``  distance from the peak to the PRM's centroid, and ``instance_offset`` to the instance's

    .venv/bin/python benchmarks/prm_side.py results/synthetic --splits val train --also prm_oracle/val
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import yaml
from shards import write_record  # benchmarks/ is on the path when this script runs

from iam.data.voc import GTInstances
from iam.evaluation.gt import instance_reader
from iam.evaluation.prm_quality import own_instance
from iam.io.h5 import image_ids, open_artifact
from iam.io.prm import KIND, read_prm


def side_row(peak: np.ndarray, prm: np.ndarray, gt: GTInstances) -> tuple[float, ...] | None:
    """(cos, body_half_mass, own_mass, centroid_offset, instance_offset) of one PRM, or None when its
    class is absent, its map empty or its peak outside its instance."""
    c, y, x = (int(v) for v in peak)
    own = own_instance(c, prm, gt)
    if own is None or prm.sum() <= 0 or not gt.masks[own][y, x]:
        return None
    m = prm / prm.sum()
    yy, xx = np.mgrid[: m.shape[0], : m.shape[1]]
    to_prm = np.array([(m * yy).sum() - y, (m * xx).sum() - x])
    inst = gt.masks[own]
    to_body = np.array([yy[inst].mean() - y, xx[inst].mean() - x])
    cos = to_prm @ to_body / max(np.linalg.norm(to_prm) * np.linalg.norm(to_body), 1e-9)
    facing = (yy - y) * to_body[0] + (xx - x) * to_body[1] > 0
    return cos, m[facing].sum(), m[inst].sum(), np.linalg.norm(to_prm), np.linalg.norm(to_body)


def split_figures(prm_path: Path, read_gt) -> dict[str, float | int]:
    """The module docstring's figures over one split's PRMs."""
    rows = []
    with open_artifact(prm_path, KIND) as f:
        for image_id in image_ids(f):
            stored, gt = read_prm(f, image_id), read_gt(image_id)
            found = (side_row(p, m.astype(np.float64), gt) for p, m in zip(stored.peaks, stored.prm))
            rows += [row for row in found if row is not None]
    r = np.asarray(rows).reshape(-1, 5)
    return {
        "n_prms": len(r),
        "cos_mean": round(float(r[:, 0].mean()), 3),
        "cos_median": round(float(np.median(r[:, 0])), 3),
        "share_cos_positive": round(float((r[:, 0] > 0).mean()), 3),
        "body_half_mass": round(float(r[:, 1].mean()), 3),
        "own_mass": round(float(r[:, 2].mean()), 3),
        "centroid_offset_median_px": round(float(np.median(r[:, 3])), 1),
        "instance_offset_median_px": round(float(np.median(r[:, 4])), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="results/<run> of a finished run")
    parser.add_argument("--splits", nargs="+", default=["val", "train"])
    parser.add_argument("--also", nargs="*", default=["prm_oracle/val"], help="other prm artifacts of the run")
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/prm_side.json"))
    args = parser.parse_args()
    classes = yaml.safe_load(args.config.read_text())["dataset"]["classes"]
    read_gt = instance_reader("voc", str(args.run / "data" / "VOC2012"), None, classes)
    names = [f"prm/{split}" for split in args.splits] + args.also
    splits = {name: split_figures(args.run / f"{name}.h5", read_gt) for name in names}
    for split, figures in splits.items():
        print(split, figures)
    write_record(args.out, args.run, splits=splits)


if __name__ == "__main__":
    main()
