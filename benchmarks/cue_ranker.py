"""How far a learned ranking over ``score_cues.py``'s GT-free cues could take IAM instances: a logistic
model of whether a CRF mask is correct (best IoU >= 0.5 with a GT instance of its class), fitted *with
GT* on the masks of every filler from the other runs (training seeds), scores each filler's masks,
which are then NMS-ed and evaluated (VOC mAP^r) as the shipped score's are. It bounds what a GT-free
learned score over these cues (fitted to pseudo GT instead) could gain. The model reads the logs of
the proposal-free cues (``--proposals`` adds ``proposal_fit`` and ``objectness``) and ``border``.

    .venv/bin/python benchmarks/score_cues.py results/synthetic --k 5 --dump /tmp/cues-s0-k5.h5 ...
    .venv/bin/python benchmarks/cue_ranker.py /tmp/cues-s*-k*.h5 --out benchmarks/results/cue_ranker.json
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from scipy.optimize import minimize
from score_cues import add_ranked, ap_row, best_ious  # benchmarks/ is on the path when this script runs
from shards import write_record

from iam.evaluation.voc_ap import APAccumulator

CUES = ("peak", "mean_iam", "kept", "edge", "area", "prm_inside", "iam_inside", "stability", "agreement")
PROPOSAL_CUES = ("proposal_fit", "objectness")
L2 = 1e-3


def attrs(path: Path) -> dict[str, Any]:
    """The attributes score_cues.py --dump wrote to ``path`` (run, k, nms_iou, thresholds, n_classes)."""
    with h5py.File(path, "r") as f:
        return dict(f.attrs)


def images(path: Path) -> Iterator[h5py.Group]:
    with h5py.File(path, "r") as f:
        for name in sorted(f):
            yield f[name]


def features(g: h5py.Group, cues: tuple[str, ...]) -> np.ndarray:
    """(n, len(cues) + 1) log cues of one image's masks and whether each touches the border."""
    logs = [np.log(np.maximum(g[c][()], 1e-4)) for c in cues]
    return np.stack([*logs, g["border"][()]], 1)


def correct(g: h5py.Group) -> np.ndarray:
    """(n,) whether each of one image's masks has IoU >= 0.5 with a GT instance of its class."""
    return best_ious(g["labels"][()], g["gt_labels"][()], g["ious"][()]) >= 0.5


def fit(paths: list[Path], cues: tuple[str, ...]) -> Callable[[np.ndarray], np.ndarray]:
    """The fitted logistic model's logit, as a function of :func:`features`."""
    pairs = [(features(g, cues), correct(g)) for p in paths for g in images(p)]
    x, y = np.concatenate([f for f, _ in pairs]), np.concatenate([c for _, c in pairs]).astype(np.float64)
    mu, sd = x.mean(0), x.std(0) + 1e-9
    z = np.concatenate([(x - mu) / sd, np.ones((len(x), 1))], 1)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        p = 1 / (1 + np.exp(-(z @ w)))
        nll = -(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12)).mean()
        return nll + L2 * (w[:-1] ** 2).sum(), z.T @ (p - y) / len(y) + 2 * L2 * np.append(w[:-1], 0)

    w = minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B").x
    return lambda f: ((f - mu) / sd) @ w[:-1] + w[-1]


def evaluate(path: Path, score: Callable[[h5py.Group], np.ndarray]) -> list[float]:
    """mAP^r (%) of the masks dumped to ``path`` ranked by ``score`` of each image's group."""
    meta = attrs(path)
    acc, nms_iou = APAccumulator(int(meta["n_classes"]), list(meta["thresholds"])), float(meta["nms_iou"])
    for g in images(path):
        masks, labels = g["masks"][()].astype(bool), g["labels"][()]
        add_ranked(acc, masks, labels, score(g), g["gt_labels"][()], g["ious"][()], nms_iou)
    return ap_row(acc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dumps", type=Path, nargs="+", help="score_cues.py --dump files, one per filler")
    parser.add_argument("--proposals", action="store_true", help="also the cues that read proposals")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/cue_ranker.json"))
    args = parser.parse_args()
    cues = CUES + (PROPOSAL_CUES if args.proposals else ())
    meta = {p: attrs(p) for p in args.dumps}
    run_of = {p: str(m["run"]) for p, m in meta.items()}
    rows = []
    for path in args.dumps:
        model = fit([p for p in args.dumps if run_of[p] != run_of[path]], cues)
        k = int(meta[path]["k"])
        shipped = evaluate(path, lambda g: g["shipped"][()])
        learned = evaluate(path, lambda g, m=model: m(features(g, cues)))
        rows.append({"run": run_of[path], "k": k, "shipped": shipped, "learned": learned})
        print(f"{run_of[path]} k{k}: shipped {shipped}, learned {learned}", flush=True)
    gain = [r["learned"][1] - r["shipped"][1] for r in rows]
    print(f"learned - shipped @0.5: mean {np.mean(gain):+.2f}, range {min(gain):+.2f} to {max(gain):+.2f}")
    write_record(
        args.out,
        Path(run_of[args.dumps[0]]).parent,
        cues=list(cues),
        fillers=rows,
        mean_gain_at_50=round(float(np.mean(gain)), 2),
    )


if __name__ == "__main__":
    main()
