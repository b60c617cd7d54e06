"""How much of an IAM method's mAP^r is lost to the mask cut and to the ranking? On a finished run's
instance artifact (with soft maps): the masks cut at other fractions of each map's maximum, and the
predictions ranked by other GT-free scores, and by their true IoU (the oracle; reads GT).

    .venv/bin/python benchmarks/mask_cut.py results/synthetic iam/generated/k5/val.nocrf.h5 \\
        --out benchmarks/results/mask_cut.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import yaml
from shards import write_record  # benchmarks/ is on the path when this script runs

from iam.data.voc import read_split
from iam.evaluation.gt import instance_reader
from iam.evaluation.voc_ap import APAccumulator, mean_ap
from iam.io.h5 import open_hdf5
from iam.io.instances import read_instances, read_soft_maps
from iam.masks import iou_matrix, mask_nms

CUTS = (0.5, 0.6, 0.7, 0.8, 0.9)


def scores(soft: np.ndarray, masks: np.ndarray, stored: np.ndarray, oracle: np.ndarray) -> dict[str, np.ndarray]:
    """Scores of n instances: stored, mean map inside the mask, inside-minus-outside contrast, oracle IoU."""
    rel = soft / np.maximum(soft.max(axis=(1, 2), initial=0), 1e-6)[:, None, None]
    inside = (rel * masks).sum((1, 2)) / np.maximum(masks.sum((1, 2)), 1)
    outside = (rel * ~masks).sum((1, 2)) / np.maximum((~masks).sum((1, 2)), 1)
    return {"stored": stored, "mean_inside": inside, "contrast": inside - outside, "oracle_iou": oracle}


def evaluate(run: Path, artifact: Path, config: dict) -> dict[str, list[float]]:
    """mAP^r (%, at the config's thresholds) per cut fraction (stored scores) and per score (stored masks)."""
    classes, thresholds = config["dataset"]["classes"], config["evaluation"]["iou_thresholds"]
    voc = run / "data" / "VOC2012"
    read_gt = instance_reader("voc", str(voc), None, classes)
    accs: dict[str, APAccumulator] = {}

    def add(name: str, labels: np.ndarray, score: np.ndarray, gt_labels: np.ndarray, ious: np.ndarray) -> None:
        accs.setdefault(name, APAccumulator(len(classes), thresholds)).add(labels, score, gt_labels, ious)

    with open_hdf5(run / artifact) as f:
        for image_id in read_split(voc, "val"):
            inst, gt, soft = read_instances(f, image_id), read_gt(image_id), read_soft_maps(f, image_id)
            ious = iou_matrix(inst.masks, gt.masks, gt.void)
            same = ious * (inst.labels[:, None] == gt.labels[None, :])
            oracle = same.max(1) if same.size else np.zeros(len(inst))
            maps = soft[0].astype(np.float32) if soft is not None else np.zeros((0, *gt.void.shape), np.float32)
            for name, score in scores(maps, inst.masks, inst.scores, oracle).items():
                add(f"score {name}", inst.labels, score.astype(np.float32), gt.labels, ious)
            peak = maps.max(axis=(1, 2), initial=0)
            for cut in CUTS:
                masks = maps >= cut * peak[:, None, None]
                keep = mask_nms(masks, inst.labels, inst.scores, config["inference"]["nms_iou"])
                add(
                    f"cut {cut:g} x max",
                    inst.labels[keep],
                    inst.scores[keep],
                    gt.labels,
                    iou_matrix(masks[keep], gt.masks, gt.void),
                )
    return {
        name: [round(100 * float(v), 2) for v in mean_ap(acc.average_precisions("voc"))] for name, acc in accs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="results/<run> of a finished run")
    parser.add_argument("artifact", type=Path, help="instance artifact with soft maps, relative to the run")
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/mask_cut.json"))
    args = parser.parse_args()
    rows = evaluate(args.run, args.artifact, yaml.safe_load(args.config.read_text()))
    for name, values in rows.items():
        print(f"{name:22s}", *values)
    write_record(args.out, args.run, artifact=str(args.artifact), map_percent=rows)


if __name__ == "__main__":
    main()
