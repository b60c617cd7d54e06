"""How far can GT-free proposal cues take the pseudo GT? A diagnostic ceiling (reads GT), not a product path.

For every training peak of a finished run, each proposal of its image gets a row of GT-free cues
(:data:`CUES`). A linear listwise ranker (softmax over the image's proposals, target softmax(IoU with
the peak's own instance / 0.05)) is fitted on the peaks of the first half of the images, *with* GT,
and scored on the second half: top-1 IoU with the peak's instance (the pseudo-GT diagnostic's
``top1_iou``), its share >= 0.5, and whether the best proposal ranks in the top 5. Rows: the shipped
score, the ranker on the shipped score's terms, on every cue, and on every cue but one. If the ranker
fitted with GT cannot lift the top-1 IoU, no hand-set weighting of these cues can.

    .venv/bin/python benchmarks/proposal_cues.py results/synthetic 400

writes ``benchmarks/results/proposal_cues-<commit>.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import yaml
from shards import write_record  # benchmarks/ is on the path when this script runs

from iam.data.maps import normalise_prms
from iam.data.voc import GTInstances, read_gt_instances, read_image, read_split
from iam.evaluation.prm_quality import own_instance
from iam.io.h5 import open_artifact
from iam.io.prm import StoredPRM, read_prm
from iam.masks import iou_matrix
from iam.proposals.store import read_proposals
from iam.pseudo_gt.matching import background_map, border_connectivity, contours
from iam.pseudo_gt.scoring import MatchParams

CUES = (
    "overlap",  # sum(M * S): the peak's PRM mass inside the proposal
    "contour",  # sum(M * contour(S))
    "background",  # sum(B * S) / sum(B), B the CRM background map
    "area",  # |S| / |image|
    "border",  # boundary connectivity
    "crm_mean",  # mean of the peak class's max-normalised CRM inside S
    "crm_share",  # share of that CRM's mass inside S
    "edge",  # z-scored mean Lab gradient on S's contour
    "holds_peak",  # S contains the stored peak
    "same_class_others",  # other same-class peaks' PRM mass inside S
    "compactness",  # |S| / |convex hull of S|
    "density",  # overlap / area
    "log_area",
    "objectness",  # z-scored proposal score of the generator
)
SHIPPED = ("overlap", "contour", "background", "area", "border")
TEMPERATURE = 0.05


def contour_contrast(props: np.ndarray, image: np.ndarray) -> np.ndarray:
    """(n,) z-scored mean Lab gradient magnitude on each proposal's contour."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    grad = sum(
        cv2.Sobel(lab[..., c], cv2.CV_32F, 1, 0) ** 2 + cv2.Sobel(lab[..., c], cv2.CV_32F, 0, 1) ** 2 for c in range(3)
    )
    con = contours(props, 3).reshape(len(props), -1).astype(np.float32)
    edge = con @ np.sqrt(grad).reshape(-1) / np.maximum(con.sum(1), 1)
    return (edge - edge.mean()) / (edge.std() + 1e-6)


def _zscore(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / (values.std() + 1e-6)


def _compactness(props: np.ndarray) -> np.ndarray:
    hulls = [
        cv2.contourArea(cv2.convexHull(np.argwhere(m)[:, ::-1].astype(np.int32))) if m.sum() > 2 else 1.0 for m in props
    ]
    return props.reshape(len(props), -1).sum(1) / np.maximum(hulls, 1.0)


def image_cues(stored: StoredPRM, props: np.ndarray, objectness: np.ndarray, image: np.ndarray) -> np.ndarray:
    """(m peaks, n proposals, len(CUES)) cue tensor of one image."""
    n, (height, width) = len(props), props.shape[1:]
    flat = props.reshape(n, -1).astype(np.float32)
    share = flat.sum(1) / (height * width)
    mass = normalise_prms(stored.prm)
    inside = mass @ flat.T
    contour = mass @ contours(props, 3).reshape(n, -1).T.astype(np.float32)
    bg = background_map(stored.crm, stored.peaks[:, 0], (height, width)).reshape(-1)
    per_image = {
        "background": flat @ bg / max(float(bg.sum()), 1e-6),
        "area": share,
        "border": border_connectivity(props),
        "edge": contour_contrast(props, image),
        "compactness": _compactness(props),
        "log_area": np.log(share + 1e-4),
        "objectness": _zscore(np.asarray(objectness, np.float32)),
    }
    rows = []
    for i, (cls, y, x) in enumerate(stored.peaks):
        crm = np.clip(stored.crm[cls].astype(np.float32), 0, None)
        crm = cv2.resize(crm / max(float(crm.max()), 1e-6), (width, height)).reshape(-1)
        others = (stored.peaks[:, 0] == cls) & (np.arange(len(stored.peaks)) != i)
        per_peak = {
            "overlap": inside[i],
            "contour": contour[i],
            "crm_mean": flat @ crm / np.maximum(flat.sum(1), 1),
            "crm_share": flat @ crm / max(float(crm.sum()), 1e-6),
            "holds_peak": props[:, y, x].astype(np.float32),
            "same_class_others": inside[others].sum(0),
            "density": inside[i] / np.maximum(share, 1e-3),
        }
        rows.append(np.column_stack([{**per_image, **per_peak}[c] for c in CUES]))
    return np.stack(rows).astype(np.float32)


def peak_rows(run: Path, n_images: int, classes: list[str]) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """(cues (n, f), IoU of each proposal with the peak's own instance (n,), image index) per scored peak."""
    voc = run / "data/VOC2012"
    rows = []
    with (
        open_artifact(run / "prm/train.h5", "prm") as pf,
        open_artifact(run / "proposals/generated/train.h5", "proposals") as qf,
    ):
        for index, image_id in enumerate(read_split(voc, "train")[:n_images]):
            stored, (props, objectness) = read_prm(pf, image_id), read_proposals(qf, image_id)
            if not len(props) or not len(stored.peaks):
                continue
            gt: GTInstances = read_gt_instances(voc, image_id, classes)
            cues = image_cues(stored, props, objectness, read_image(voc, image_id))
            prop_iou = iou_matrix(props, gt.masks, gt.void)
            for i, (cls, _, _) in enumerate(stored.peaks):
                own = own_instance(int(cls), stored.prm[i].astype(np.float64), gt)
                if own is not None:
                    rows.append((cues[i], prop_iou[:, own].astype(np.float32), index))
    return rows


def scores_of(rows: list, weights: np.ndarray) -> dict[str, float]:
    """Top-1 IoU (mean, share >= 0.5) and best proposal in the top 5 when ranking by cues @ weights."""
    top1, top5 = [], []
    for cues, iou, _ in rows:
        score = cues @ weights
        top1.append(iou[np.argmax(score)])
        top5.append(int(np.argmax(iou)) in np.argsort(-score, kind="stable")[:5])
    return {
        "top1_iou": float(np.mean(top1)),
        "top1_iou_ge_50": float(np.mean(np.array(top1) >= 0.5)),
        "best_in_top5": float(np.mean(top5)),
    }


def fit_ranker(rows: list, columns: list[int], epochs: int, seed: int = 0) -> np.ndarray:
    """Weights (len(CUES),) of a linear listwise ranker on ``columns`` (the others 0), fitted with GT IoU."""
    torch.manual_seed(seed)
    stacked = np.concatenate([r[0] for r in rows])[:, columns]
    mean, std = stacked.mean(0), stacked.std(0) + 1e-6
    xs = [torch.from_numpy((r[0][:, columns] - mean) / std) for r in rows]
    targets = [torch.softmax(torch.from_numpy(r[1]) / TEMPERATURE, 0) for r in rows]
    w = torch.zeros(len(columns), requires_grad=True)
    opt = torch.optim.Adam([w], lr=0.05)
    for _ in range(epochs):
        opt.zero_grad()
        loss = sum(-(t * torch.log_softmax(x @ w, 0)).sum() for x, t in zip(xs, targets)) / len(xs)
        loss.backward()
        opt.step()
    weights = np.zeros(len(CUES))
    weights[columns] = w.detach().numpy() / std
    return weights


def shipped_weights(match: MatchParams) -> np.ndarray:
    """The shipped pseudo-GT score as weights on :data:`CUES`."""
    weights = np.zeros(len(CUES))
    for name, value in zip(SHIPPED, (match.alpha, 1.0, -match.beta, -match.size_prior, -match.border_prior)):
        weights[CUES.index(name)] = value
    return weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("images", type=int, nargs="?", default=400)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument(
        "--config", type=Path, default=Path("config.yaml"), help="the run's config (classes, pseudo_gt)"
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    config = yaml.safe_load(args.config.read_text())
    classes, match = config["dataset"]["classes"], MatchParams.from_config(config["pseudo_gt"])
    tic = time.perf_counter()
    rows = peak_rows(args.run, args.images, classes)
    fit, test = [r for r in rows if r[2] < args.images // 2], [r for r in rows if r[2] >= args.images // 2]
    every = list(range(len(CUES)))
    shipped = [CUES.index(c) for c in SHIPPED]
    results = {
        "shipped score": {**scores_of(test, shipped_weights(match)), "weights": dict(zip(CUES, shipped_weights(match)))}
    }
    for name, columns in (("ranker on the shipped terms", shipped), ("ranker on every cue", every)):
        weights = fit_ranker(fit, columns, args.epochs)
        results[name] = {
            **scores_of(test, weights),
            "fit": scores_of(fit, weights),
            "weights": dict(zip(CUES, weights)),
        }
        print(name, {k: round(v, 3) for k, v in results[name].items() if isinstance(v, float)}, flush=True)
    for drop in every:
        weights = fit_ranker(fit, [c for c in every if c != drop], args.epochs)
        results[f"every cue but {CUES[drop]}"] = scores_of(test, weights)
    results["oracle (best proposal)"] = {"top1_iou": float(np.mean([r[1].max() for r in test]))}
    for name, figures in results.items():
        print(f"{name:32s}", {k: round(v, 3) for k, v in figures.items() if isinstance(v, float)})
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    out = args.out or Path(__file__).parent / f"results/proposal_cues-{commit}.json"
    write_record(
        out,
        args.run,
        benchmark="proposal cues: GT-fitted linear ranker, top-1 IoU of held-out training peaks",
        commit=commit,
        images=args.images,
        peaks_fit=len(fit),
        peaks_test=len(test),
        seconds=round(time.perf_counter() - tic, 1),
        cues=list(CUES),
        results=results,
    )
    print("wrote", out)


if __name__ == "__main__":
    main()
