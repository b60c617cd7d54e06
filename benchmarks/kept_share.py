"""Does a training peak's kept mass share (the share of its PRM that the inference competition keeps,
``iam.data.maps.kept_mass``) tell how good its pseudo GT is? On a finished run, per training peak with
a candidate: the kept share, and the IoU of its first candidate and the mean IoU of its k candidates
with the peak's own GT instance (reads GT, a diagnostic). The motivation of ``filler.kept_weight``.

    .venv/bin/python benchmarks/kept_share.py results/synthetic --out benchmarks/results/kept_share.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import yaml
from scipy.stats import spearmanr
from shards import write_record  # benchmarks/ is on the path when this script runs

from iam.data.maps import Competition
from iam.data.voc import read_split
from iam.evaluation.gt import instance_reader
from iam.evaluation.prm_quality import own_instance
from iam.io.h5 import open_hdf5
from iam.io.prm import read_prm
from iam.io.pseudo_gt import read_pseudo_gt
from iam.masks import iou_matrix

BINS = ((0.0, 0.5), (0.5, 0.8), (0.8, 0.99), (0.99, 1.01))


def peak_rows(run: Path, config: dict, k: int) -> np.ndarray:
    """(n, 3): kept share, first-candidate IoU and mean candidate IoU of every scored training peak."""
    voc, competition = run / "data" / "VOC2012", Competition.from_config(config["inference"])
    read_gt = instance_reader("voc", str(voc), None, config["dataset"]["classes"])
    rows = []
    with open_hdf5(run / "prm" / "train.h5") as prm_f, open_hdf5(run / f"pseudo_gt/generated/k{k}.h5") as pgt_f:
        for image_id in read_split(voc, "train"):
            p, g, gt = read_prm(prm_f, image_id), read_pseudo_gt(pgt_f, image_id), read_gt(image_id)
            if not len(p.prm):
                continue
            _, kept = competition.kept(p.prm, p.peaks[:, 0])
            for i, (cls, _, _) in enumerate(p.peaks):
                inst, valid = own_instance(int(cls), p.prm[i].astype(np.float64), gt), g.candidates[i] >= 0
                if inst is None or not valid.any():
                    continue
                ious = iou_matrix(g.masks[g.candidates[i][valid]], gt.masks[inst][None], gt.void)[:, 0]
                rows.append((kept[i], ious[0], ious.mean()))
    return np.array(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="results/<run> of a finished run")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rows = peak_rows(args.run, yaml.safe_load(args.config.read_text()), args.k)
    kept, top1, mean = rows.T
    bins = [
        {
            "kept": [lo, hi],
            "peaks": int(m.sum()),
            "top1_iou": round(float(top1[m].mean()), 3),
            "mean_iou": round(float(mean[m].mean()), 3),
        }
        for lo, hi in BINS
        if (m := (kept >= lo) & (kept < hi)).any()
    ]
    rho = {"top1": float(spearmanr(kept, top1).correlation), "mean_of_k": float(spearmanr(kept, mean).correlation)}
    print(len(rows), "peaks; Spearman with the kept share:", rho)
    for row in bins:
        print(row)
    write_record(args.out, args.run, k=args.k, peaks=len(rows), spearman=rho, bins=bins)


if __name__ == "__main__":
    main()
