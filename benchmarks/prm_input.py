"""What a trained filler makes of other PRMs: the val PRMs of a finished run transformed, filled by one
of the run's fillers as it is (no retraining; ``--k``, or ``--ceiling`` for the filler trained on GT
masks), and evaluated (mAP^r @.25/.5/.75 and ABO with and without CRF, extent errors; reads GT).
Inference is the configured one without ``inference.prm_competition`` (the mode ``compete:G`` is it).

Transforms (``--modes``); those marked GT read the val GT, the others do not:
``stored``     the PRMs as stored (reproduces IAM-S{k}, or the ceiling row)
``gt``         cut to their own GT instance (the PRM oracle row of Table 1; GT)
``fg``         cut to the union of all GT instances, a perfect class-agnostic saliency map (GT)
``side``       cut to the half-plane through the peak that faces its own instance's centroid (GT)
``box``        cut to the bounding box of their own GT instance (GT)
``others``     cut off every other GT instance (GT)
``compete:G``  cut to where it holds at least G x the strongest other PRM of the image (G = 1: each pixel
               to its strongest peak; ``iam.data.maps.compete``, as ``inference.prm_competition: G``)
``xclass:G``   the same, against the PRMs of the other classes only
``dup:C``      ``compete:1``, sparing PRMs of one class with a cosine similarity of at least C (taken for
               duplicate peaks on one instance), as ``inference.duplicate_cosine: C``
``disc:R``     cut to a disc of radius R x the image's shorter side around the stored peak
``propbox:K``  cut to the bounding box of the union of their top-K proposals by the pseudo-GT score
``power:G``    raised to the power G (sharper: the halo off the part fades)
``crm:G``      times their class's CRM, upsampled and scaled to maximum 1, to the power G
``self:C``     cut where the filler's own IAM of the stored PRM reaches C x its maximum

A cut that would leave a PRM empty leaves it as stored; the GT cuts leave PRMs whose class is not in
the image as stored.

    .venv/bin/python benchmarks/prm_input.py results/synthetic --modes stored gt power:2 crm:1 self:0.5
    .venv/bin/python benchmarks/prm_input.py results/synthetic --ceiling --modes stored gt fg side box disc:0.16
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import yaml
from shards import val_split, write_record  # benchmarks/ is on the path when this script runs

from iam.data.maps import Competition, compete, normalise_prms, upsample_cam
from iam.data.voc import GTInstances, read_image
from iam.evaluation.ceiling import SOURCE as CEILING
from iam.evaluation.instance_metrics import evaluate_instances
from iam.evaluation.prm_oracle import cut_to_instances, write_prms
from iam.evaluation.prm_quality import own_instance
from iam.inference import InferenceParams, infer_split, live_iams
from iam.io.h5 import open_artifact
from iam.io.prm import StoredPRM
from iam.models.backbone import PeakBackbone
from iam.models.filling import FillingModule
from iam.proposals.store import KIND as PROPOSALS
from iam.proposals.store import read_proposals
from iam.pseudo_gt.matching import select_candidates
from iam.pseudo_gt.scoring import MatchParams, score_proposals
from iam.training.filler import load_feature_backbone, load_filler

Transform = Callable[[str, StoredPRM], np.ndarray]


def normalised(prms: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Each map rescaled to sum 1 (:func:`normalise_prms`); where one sums to 0, the ``fallback`` map."""
    out = normalise_prms(prms).reshape(prms.shape)
    empty = ~out.reshape(len(out), -1).any(1)
    out[empty] = fallback[empty]
    return out


def crm_weighted(p: StoredPRM, gamma: float) -> np.ndarray:
    """The PRMs times their class's upsampled CRM (:func:`upsample_cam`) to the power ``gamma``."""
    prms = p.prm.astype(np.float32)
    weights = [upsample_cam(p.crm_of(int(c)), prms.shape[1:]) ** gamma for c in p.peaks[:, 0]]
    return normalised(prms * np.stack(weights), prms) if weights else prms


def self_cut(
    image: np.ndarray, p: StoredPRM, backbone: PeakBackbone, filler: FillingModule, size: int, cut: float
) -> np.ndarray:
    prms = p.prm.astype(np.float32)
    live, iams = live_iams(image, prms, backbone, filler, size, torch.device("cpu"))
    keep = np.ones_like(prms, dtype=bool)
    keep[live] = iams >= cut * iams.reshape(len(iams), -1).max(1)[:, None, None]
    return normalised(prms * keep, prms)


def cut_each(p: StoredPRM, keep: Callable[[int], np.ndarray | None]) -> np.ndarray:
    """The PRMs, each times its ``keep(row)`` mask (None or an empty cut: as stored), rescaled to sum 1."""
    prms = p.prm.astype(np.float32)
    out = prms.copy()
    for row in range(len(prms)):
        mask = keep(row)
        if mask is not None and (prms[row] * mask).sum() > 0:
            out[row] = prms[row] * mask
    return normalise_prms(out).reshape(out.shape)


def box_of(mask: np.ndarray, margin: float = 0.0) -> np.ndarray:
    """The filled bounding box of a non-empty (H, W) mask, grown by ``margin`` x its sides."""
    ys, xs = np.nonzero(mask)
    dy, dx = margin * (np.ptp(ys) + 1), margin * (np.ptp(xs) + 1)
    box = np.zeros(mask.shape, bool)
    box[int(max(0, ys.min() - dy)) : int(ys.max() + 1 + dy), int(max(0, xs.min() - dx)) : int(xs.max() + 1 + dx)] = True
    return box


def gt_cut(p: StoredPRM, gt: GTInstances, how: str) -> np.ndarray:
    """Each PRM cut by what GT says of its own instance: ``fg`` (all instances), ``side`` (the half-plane
    facing the instance's centroid), ``box`` (its bounding box), ``others`` (off every other instance)."""
    yy, xx = np.mgrid[: p.prm.shape[1], : p.prm.shape[2]]

    def keep(row: int) -> np.ndarray | None:
        cls, y, x = p.peaks[row]
        own = own_instance(int(cls), p.prm[row].astype(np.float64), gt)
        if own is None:
            return None
        if how == "fg":
            return np.asarray(gt.masks.any(0))
        if how == "box":
            return box_of(gt.masks[own])
        if how == "others":
            return ~np.delete(gt.masks, own, axis=0).any(0)
        cy, cx = np.argwhere(gt.masks[own]).mean(0)
        return (yy - y) * (cy - y) + (xx - x) * (cx - x) >= 0

    return cut_each(p, keep)


def disc_cut(p: StoredPRM, radius: float) -> np.ndarray:
    """Each PRM cut to a disc of ``radius`` x the shorter side around its stored peak (GT-free)."""
    yy, xx = np.mgrid[: p.prm.shape[1], : p.prm.shape[2]]
    r = radius * min(p.prm.shape[1:])
    return cut_each(p, lambda row: (yy - p.peaks[row, 1]) ** 2 + (xx - p.peaks[row, 2]) ** 2 <= r * r)


def proposal_box_cut(p: StoredPRM, proposals: np.ndarray, match: MatchParams, k: int, min_overlap: float) -> np.ndarray:
    """Each PRM cut to the bounding box of the union of its top-``k`` proposals by the pseudo-GT score."""
    if not len(proposals) or not len(p.prm):
        return p.prm.astype(np.float32)
    scores, overlap = score_proposals(p.peaks, p.prm.astype(np.float32), p.crm, proposals, match)
    candidates, _ = select_candidates(scores, overlap, k, min_overlap)

    def keep(row: int) -> np.ndarray | None:
        picked = candidates[row][candidates[row] >= 0]
        union = proposals[picked].any(0) if len(picked) else None
        return box_of(union) if union is not None and union.any() else None

    return cut_each(p, keep)


def gt_free_transform(mode: str, run: Path, config: dict, split: str = "val") -> Transform | None:
    """The transform of a mode that reads no GT (``stored``, ``disc``, ``compete``, ``xclass``, ``dup``, ``propbox``)
    for the PRMs of ``split``."""
    name, _, arg = mode.partition(":")
    if name == "stored":
        return lambda i, p: p.prm.astype(np.float32)
    if name == "compete":
        return lambda i, p: compete(p.prm.astype(np.float32), float(arg))
    if name == "xclass":
        return lambda i, p: compete(p.prm.astype(np.float32), float(arg), p.peaks[:, 0], duplicate_cosine=-1.0)
    if name == "dup":
        return lambda i, p: compete(p.prm.astype(np.float32), 1.0, p.peaks[:, 0], duplicate_cosine=float(arg))
    if name == "disc":
        return lambda i, p: disc_cut(p, float(arg))
    if name == "propbox":
        match, min_overlap = MatchParams.from_config(config["pseudo_gt"]), config["pseudo_gt"]["min_overlap"]
        source = config["proposals"]["source"]

        def cut(i: str, p: StoredPRM) -> np.ndarray:
            with open_artifact(run / "proposals" / source / f"{split}.h5", PROPOSALS) as f:
                proposals, _ = read_proposals(f, i)
            return proposal_box_cut(p, proposals, match, int(arg), min_overlap)

        return cut
    return None


def transform_of(mode: str, run: Path, config: dict, read_gt, backbone, filler, size: int) -> Transform:
    name, _, arg = mode.partition(":")
    free = gt_free_transform(mode, run, config)
    if free is not None:
        return free
    if name == "gt":
        return lambda i, p: cut_to_instances(p.peaks, p.prm, read_gt(i))
    if name in ("fg", "side", "box", "others"):
        return lambda i, p: gt_cut(p, read_gt(i), name)
    if name == "power":
        return lambda i, p: normalised(p.prm.astype(np.float32).clip(0) ** float(arg), p.prm.astype(np.float32))
    if name == "crm":
        return lambda i, p: crm_weighted(p, float(arg))
    if name == "self":
        return lambda i, p: self_cut(read_image(run / "data" / "VOC2012", i), p, backbone, filler, size, float(arg))
    raise SystemExit(f"unknown mode {mode!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="results/<run> of a finished run")
    parser.add_argument("--modes", nargs="+", default=["stored", "gt", "power:2", "crm:1", "self:0.5"])
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--ceiling", action="store_true", help="the filler trained on GT masks instead of IAM-S{k}'s")
    parser.add_argument("--model", type=Path, help="another filler model.pt on the run's backbone (e.g. another seed)")
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/prm_input"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/prm_input.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = yaml.safe_load(args.config.read_text())
    voc, classes, ids, read_gt = val_split(args.run, config)
    device = torch.device("cpu")
    filler_dir = f"{CEILING}/k1" if args.ceiling else f"{config['proposals']['source']}/k{args.k}"
    filler_path = args.model or args.run / "filler" / filler_dir / "model.pt"
    filler, size = load_filler(filler_path, device)
    backbone = load_feature_backbone(filler_path, args.run / "backbone" / "model.pt", device)
    # the modes are the PRMs the filler gets: no competition on top (mode compete:G is that)
    params = replace(InferenceParams.from_config(config["inference"], config["crf"]), competition=Competition())
    rows = {}
    for mode in args.modes:
        work = args.work / mode.replace(":", "_")
        prms = work / "val_prm.h5"
        write_prms(
            args.run / "prm" / "val.h5",
            ids,
            transform_of(mode, args.run, config, read_gt, backbone, filler, size),
            prms,
            "prm_input",
        )
        infer_split(
            backbone, filler, size, prms, voc, ids, work / "val.h5", work / "val.nocrf.h5", classes, params, device
        )
        for tag, name in (("crf", "val.h5"), ("nocrf", "val.nocrf.h5")):
            m = evaluate_instances(work / name, ids, read_gt, classes, [0.25, 0.5, 0.75])
            figures = [round(100 * m["map"][t], 2) for t in ("0.25", "0.5", "0.75")] + [round(100 * m["abo"], 1)]
            rows[f"{mode} {tag}"] = {"map_abo": figures, "extent": m["extent"]}
            print(f"{mode:10s} {tag:5s}", *figures)
    write_record(args.out, args.run, filler=str(args.model) if args.model else filler_dir, rows=rows)


if __name__ == "__main__":
    main()
