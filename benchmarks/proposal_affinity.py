"""Could the proposals teach the filling weights where objects end? The proposals' co-membership as
filling weights on a finished run's val images, scored like the trained weights by
``filler_quality`` (normalised entropy, across/within-GT-region ratio; reads GT).

For each location of the N x N filling grid and each window neighbour (every dilation of the
filler), the affinity is the Jaccard index of the two cells' proposal memberships (each proposal
area-resized to the grid), optionally raised to ``--power``; the affinities of a window are then
normalised to sum 1, as the filler's softmax does.

    .venv/bin/python benchmarks/proposal_affinity.py results/synthetic --power 1 4
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import h5py
import numpy as np
import yaml
from shards import write_record  # benchmarks/ is on the path when this script runs

from iam.data.voc import read_split
from iam.evaluation.filler_quality import neighbour_regions, region_grid, weight_sums
from iam.evaluation.gt import instance_reader
from iam.proposals.store import read_proposals


def membership(masks: np.ndarray, n: int) -> np.ndarray:
    """(P, n, n) float: the share of each grid cell inside each proposal."""
    return np.stack([cv2.resize(m.astype(np.float32), (n, n), interpolation=cv2.INTER_AREA) for m in masks])


def shifted(maps: np.ndarray, r: int, dilation: int) -> np.ndarray:
    """(P, r^2, n, n): each map at every window neighbour (zero outside the grid)."""
    return np.stack([neighbour_regions(m, r, dilation) for m in maps])


def proposal_weights(masks: np.ndarray, n: int, r: int, dilations: tuple[int, ...], power: float) -> np.ndarray:
    """(1, D r^2, n, n) weights: Jaccard co-membership ** power, normalised over each window's in-map taps."""
    m = membership(masks, n)
    blocks = []
    for d in dilations:
        s = shifted(m, r, d).clip(0)  # neighbour_regions pads with -1
        inter = (m[:, None] * s).sum(0)
        union = (m[:, None] + s - m[:, None] * s).sum(0)
        inside = neighbour_regions(np.zeros((n, n)), r, d) >= 0
        a = np.where(inside, (inter / np.maximum(union, 1e-6)) ** power + 1e-6, 0.0)
        blocks.append(a / a.sum(0, keepdims=True))
    return np.concatenate(blocks)[None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--power", type=float, nargs="+", default=[1.0, 4.0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/proposal_affinity.json"))
    args = parser.parse_args()
    config = yaml.safe_load(args.config.read_text())
    voc, classes = args.run / "data" / "VOC2012", config["dataset"]["classes"]
    n, r = config["backbone"]["input_size"] // 4, config["filler"]["radius"]
    dilations = tuple(config["filler"]["dilations"])
    read_gt = instance_reader("voc", str(voc), None, classes)
    ids = read_split(voc, "val")[: config["evaluation"]["filler_images"]]
    totals = {p: np.zeros(6) for p in args.power}
    with h5py.File(args.run / "proposals" / config["proposals"]["source"] / "val.h5", "r") as f:
        for image_id in ids:
            masks, _ = read_proposals(f, image_id)
            regions = region_grid(read_gt(image_id), n)
            for p in args.power:
                totals[p] += weight_sums(proposal_weights(masks, n, r, dilations, p), regions, dilations)
    rows = {}
    for p, (entropy, locations, w_across, w_within, n_across, n_within) in totals.items():
        ratio = (w_across / n_across) / (w_within / n_within)
        rows[f"power {p:g}"] = {"weight_entropy": entropy / locations, "boundary_ratio": ratio}
        print(f"power {p:g}: entropy {entropy / locations:.3f}, boundary ratio {ratio:.3f}")
    write_record(args.out, args.run, images=len(ids), dilations=list(dilations), rows=rows)


if __name__ == "__main__":
    main()
