"""Second-round filler targets, GT-free: each training peak's IAM (the finished run's filler of k) snapped
to the proposal its cut overlaps best, written as a pseudo-GT artifact with one candidate per peak
(file attrs k and source as the run's pseudo GT, so ``filler_ablation.py`` takes it as ``targets``).

    .venv/bin/python benchmarks/round2_targets.py results/synthetic /tmp/round2_k5.h5
    .venv/bin/python benchmarks/filler_ablation.py results/synthetic round2_snap \\
        '{"targets": "/tmp/round2_k5.h5"}'
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from iam.data.voc import read_image, read_split
from iam.inference import live_peaks, predict_iams
from iam.io.h5 import open_artifact, write_artifact
from iam.io.prm import read_prm
from iam.io.pseudo_gt import KIND, PseudoGT, write_pseudo_gt
from iam.proposal_snap import best_fits
from iam.proposals.store import read_proposals
from iam.training.filler import load_feature_backbone, load_filler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="results/<run> of a finished run")
    parser.add_argument("out", type=Path, help="the pseudo-GT artifact to write")
    parser.add_argument("--k", type=int, default=5, help="whose filler makes the targets")
    parser.add_argument("--threshold", type=float, default=0.9, help="relative cut matched to the proposals")
    args = parser.parse_args()
    torch.set_num_threads(1)
    device, voc = torch.device("cpu"), args.run / "data" / "VOC2012"
    filler_path = args.run / "filler" / "generated" / f"k{args.k}" / "model.pt"
    filler, size = load_filler(filler_path, device)
    backbone = load_feature_backbone(filler_path, args.run / "backbone" / "model.pt", device)
    with (
        open_artifact(args.run / "prm" / "train.h5") as prm_f,
        open_artifact(args.run / "proposals" / "generated" / "train.h5") as prop_f,
        write_artifact(args.out, KIND, "round2_targets", {"k": args.k, "threshold": args.threshold}) as out,
    ):
        out.attrs["k"], out.attrs["source"] = args.k, "generated"
        for image_id in read_split(voc, "train"):
            p, (proposals, _) = read_prm(prm_f, image_id), read_proposals(prop_f, image_id)
            prms = p.prm.astype(np.float32)
            live = live_peaks(prms)
            candidates = np.full((len(prms), args.k), -1, np.int64)
            masks = np.zeros((0, *p.shape), bool)
            if live.any() and len(proposals):
                iams = predict_iams(read_image(voc, image_id), prms[live], backbone, filler, size, device)
                used, row = np.unique(best_fits(iams, proposals, args.threshold)[0], return_inverse=True)
                masks, candidates[np.flatnonzero(live), 0] = proposals[used].astype(bool), row
            write_pseudo_gt(out, image_id, PseudoGT(p.peaks, masks, candidates, np.zeros(candidates.shape, np.float32)))


if __name__ == "__main__":
    main()
