"""Table 2 side by side: per-image inference seconds of IAM vs PRM retrieval, same images, same machine.

Uses a finished run's trained backbone and filler (``make run`` first) and its val images. For each
image, in one process and one after the other:

* shared: backbone forward + class peaks + batched peak backpropagation (the PRMs; both methods
  need them at test time);
* IAM: filling module on the features of the shared forward (``fill``; the backbone runs once per
  image, as a deployed IAM would; the DAG's inference rule reruns it because PRMs come from disk),
  per-instance ConvCRF (``crf``), masks + NMS;
* PRM retrieval: the built-in proposal generator (``proposals``, always CPU like MCG), proposal
  decoding + scoring + NMS (``retrieval``, CPU).

Prints median and p90 of every stage and of the totals, and the ratios the paper's Table 2 claims
(retrieval total / IAM total with and without proposal generation), and what the shared PRM stage
computes (``prm_compute``: GMAC per network pass, 2 + peaks passes per image, GMAC/s, and a fit of
its seconds against the peak count). ``--size`` resizes the images
(and the network input) to simulate another resolution, e.g. 448 as in the paper; with a model
trained at another size, ``--top-classes 1`` keeps the peak count realistic.
Writes benchmarks/results/table2-{device}-{size}.json (or ``--out``) with machine and date.

Usage: OMP_NUM_THREADS=2 python benchmarks/table2.py [--configfile config.yaml] [--device cpu] [--size 448]
[--prm-dtype bfloat16] [--default-malloc]
"""

from __future__ import annotations

import argparse
import datetime
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import yaml
from shards import cpu_model  # benchmarks/ is on the path when this script runs

from iam.baselines.prm_retrieval import retrieve
from iam.config import validate_config
from iam.data.transforms import to_tensor
from iam.data.voc import read_image, read_split
from iam.device import DTYPES, dtype_name, resolve_dtype
from iam.inference import InferenceParams, crf_refine, fill_iams, foreground, instances, synced_clock
from iam.io.atomic import write_json
from iam.models.backbone import load_backbone
from iam.prm.backprop import probabilistic
from iam.prm.extract import PeakRule, image_prm
from iam.proposals.generate import GeneratorConfig, generate
from iam.pseudo_gt.scoring import MatchParams
from iam.training.filler import load_filler
from iam.workflow import prepare_process

RESULTS = Path(__file__).resolve().parent / "results"
IAM_STAGES, PRM_STAGES = ("prm", "fill", "crf", "masks"), ("prm", "proposals", "retrieval")


class Clock:
    """Runs a stage and records its seconds (device-synchronised) under a name."""

    def __init__(self, device: torch.device) -> None:
        self.device, self.times = device, {}

    def __call__(self, name: str, fn: Callable[[], Any]) -> Any:
        tic = synced_clock(self.device)
        out = fn()
        self.times[name] = synced_clock(self.device) - tic
        return out


def top_classes(image: np.ndarray, backbone: torch.nn.Module, n: int, device: torch.device) -> np.ndarray:
    """Multi-hot vector of the ``n`` best-scoring classes (untimed; fixes the peak count at other sizes)."""
    with torch.no_grad():
        scores = backbone(to_tensor(image, image.shape[0])[None].to(device)).scores[0].cpu().numpy()
    labels = np.zeros(len(scores), np.float32)
    labels[np.argsort(-scores)[:n]] = 1
    return labels


def time_image(
    image: np.ndarray, models: dict, cfg: dict, device: torch.device, n_classes: int | None
) -> dict[str, float]:
    """Seconds of every stage of both methods on one image (``n_classes``: peaks of the top classes
    instead of the classes above ``prm.class_threshold``)."""
    clock, size = Clock(device), image.shape[0]
    labels = None if n_classes is None else top_classes(image, models["backbone"], n_classes, device)
    peak_rule = PeakRule.from_config(cfg["prm"], use_labels=labels is not None)
    prm = clock("prm", lambda: image_prm(models["prm_net"], image, labels, size, peak_rule))
    params = InferenceParams.from_config(cfg["inference"], cfg["crf"])
    classes = prm.peaks[:, 0].astype(np.int64)
    if len(prm.peaks):
        iams = clock("fill", lambda: fill_iams(prm.prm, prm.features, models["filler"], size, image.shape[:2]))
        refined = clock("crf", lambda: crf_refine(image, iams, params.crf, device) if params.crf else iams)
        clock("masks", lambda: instances(foreground(refined, params), iams, classes, prm.peak_scores, params))
    gen = cfg["proposals"]["generator"]
    gen_cfg = GeneratorConfig(tuple(gen["scales"]), gen["sigma"], gen["min_size"], gen["min_area"], gen["dedup_iou"])
    props = Clock(torch.device("cpu"))
    proposals = props("proposals", lambda: generate(image, gen_cfg, cfg["proposals"]["max_per_image"]))
    r = cfg["retrieval"]
    props(
        "retrieval",
        lambda: retrieve(
            prm.peaks,
            prm.peak_scores,
            prm.prm,
            prm.crm,
            proposals.masks(),
            MatchParams.from_config(r),
            r["nms_iou"],
        ),
    )
    return {"peaks": float(len(prm.peaks)), **clock.times, **props.times}


def conv_macs(model: torch.nn.Module, size: int, device: torch.device) -> int:
    """Multiply-accumulates of the convolutions of one forward pass of ``model`` at size x size."""
    macs: list[int] = []
    hooks = [
        m.register_forward_hook(lambda m, _, out: macs.append(out.numel() * m.weight[0].numel()))
        for m in model.modules()
        if isinstance(m, torch.nn.Conv2d)
    ]
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size, device=device))
    for hook in hooks:
        hook.remove()
    return sum(macs)


def prm_compute(rows: list[dict[str, float]], macs: int) -> dict[str, float]:
    """What the PRM stage computes: the network's GMAC per pass, 2 + peaks passes per image (forward,
    the Eq. 1 normaliser Z, one top-down pass per peak), the rate that makes, and a least-squares fit
    of the stage's seconds against the peak count (seconds per peak, seconds at zero peaks)."""
    peaks, seconds = np.array([r["peaks"] for r in rows]), np.array([r["prm"] for r in rows])
    per_peak, at_zero = np.polyfit(peaks, seconds, 1) if len(set(peaks)) > 1 else (float("nan"), float("nan"))
    return {
        "gmac_per_pass": macs / 1e9,
        "passes_per_image": float(np.mean(2 + peaks)),
        "gmac_per_s": float(np.mean((2 + peaks) * macs / seconds) / 1e9),
        "fit_s_per_peak": float(per_peak),
        "fit_s_at_zero_peaks": float(at_zero),
    }


def summarise(rows: list[dict[str, float]], macs: int) -> dict[str, Any]:
    """Median / p90 per stage and of each method's total; the Table 2 ratios; the PRM stage's compute."""

    def col(name: str) -> np.ndarray:
        return np.array([r.get(name, 0.0) for r in rows])

    iam = sum(col(s) for s in IAM_STAGES)
    prm = sum(col(s) for s in PRM_STAGES)
    prm_no_proposals = prm - col("proposals")
    stats = {
        name: {"median_s": float(np.median(v)), "p90_s": float(np.percentile(v, 90)), "mean_s": float(v.mean())}
        for name, v in {
            **{s: col(s) for s in (*IAM_STAGES, "proposals", "retrieval")},
            "iam_total": iam,
            "prm_retrieval_total": prm,
            "prm_retrieval_total_without_proposals": prm_no_proposals,
        }.items()
    }
    return {
        "images": len(rows),
        "peaks_per_image": float(col("peaks").mean()),
        "stages": stats,
        "prm_compute": prm_compute(rows, macs),
        "ratio_with_proposals": float(np.median(prm) / np.median(iam)),
        "ratio_without_proposal_generation": float(np.median(prm_no_proposals) / np.median(iam)),
        "ratio_after_prms": float(
            np.median(col("proposals") + col("retrieval"))
            / max(np.median(col("fill") + col("crf") + col("masks")), 1e-9)
        ),
    }


def load_models(results: Path, cfg: dict, device: torch.device) -> dict:
    """The run's backbone (plain and probabilistic) and its filler for the reported k."""
    k = cfg["evaluation"]["transfer_k"]
    backbone = load_backbone(results / "backbone" / "model.pt", device)
    filler, _ = load_filler(results / "filler" / cfg["proposals"]["source"] / f"k{k}" / "model.pt", device)
    prm_net = probabilistic(backbone, resolve_dtype(cfg["prm"]["dtype"], device, "prm.dtype"))
    return {"backbone": backbone, "prm_net": prm_net, "filler": filler.eval()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configfile", default="config.yaml")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--size", type=int, help="resize images to size x size (default: the run's input size)")
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument(
        "--top-classes",
        type=int,
        help="take the peaks of the n best classes of each image "
        "(a model trained at another size may score no class above the threshold)",
    )
    parser.add_argument("--out", type=Path, help="result file (default: results/table2-<device>-<size>.json)")
    parser.add_argument("--prm-dtype", choices=DTYPES, help="override the config's prm.dtype")
    parser.add_argument(
        "--default-malloc", action="store_true", help="leave glibc's allocator settings alone (see iam.allocator)"
    )
    args = parser.parse_args()
    retained = prepare_process(torch.get_num_threads(), not args.default_malloc)  # as the pipeline's rules do
    cfg = validate_config(yaml.safe_load(Path(args.configfile).read_text()))
    results, device = Path("results") / cfg["run"], torch.device(args.device)
    cfg["prm"]["dtype"] = dtype_name(resolve_dtype(args.prm_dtype or cfg["prm"]["dtype"], device, "prm.dtype"))
    if not (results / "backbone" / "model.pt").is_file():
        raise SystemExit(f"{results}: no trained run; run the pipeline (make run) first")
    size = args.size or cfg["backbone"]["input_size"]
    voc = results / "data" / "VOC2012"
    models = load_models(results, cfg, device)
    rows = []
    for image_id in read_split(voc, cfg["dataset"]["val_split"])[: args.images + 1]:
        image = cv2.resize(read_image(voc, image_id), (size, size), interpolation=cv2.INTER_LINEAR)
        rows.append(time_image(image, models, cfg, device, args.top_classes))
    report = {
        "date": datetime.date.today().isoformat(),
        "device": _device_name(device),
        "machine": f"{platform.node()} {platform.machine()}, {torch.get_num_threads()} torch threads, "
        f"torch {torch.__version__}",
        "config": args.configfile,
        "prm_dtype": cfg["prm"]["dtype"],
        "retain_freed_memory": retained,
        "size": size,
        "top_classes": args.top_classes,
        **summarise(rows[1:], conv_macs(models["backbone"], size, device)),
    }  # first image: warm-up
    write_json(args.out or RESULTS / f"table2-{device.type}-{size}.json", report)
    print(yaml.safe_dump(report, sort_keys=False))


def _device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_model()


if __name__ == "__main__":
    main()
