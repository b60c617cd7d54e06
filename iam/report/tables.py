"""The paper's tables from metric files: Table 1 (mAP^r, ABO), Table 2 (seconds per image),
Tables 3-4 analogues (transfer), proposal recall; every number read from a metrics artifact."""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from iam.names import PRM_ORACLE, SELF_TRAINED_SOURCE, parse_derived, parse_method, parse_self_trained

FILL_NAMES = {"rect": "Rect", "ellipse": "Ellipse", "proposal": "best proposal"}
VARIANT_LABELS = {"crf": "", "nocrf": " (no CRF)", "snap": " snapped to proposals (ours, not the paper's)"}


def method_label(method: str) -> str:
    """Human-readable name of a metrics/{method}.json method."""
    if iam := parse_method(method):
        k, variant = iam
        return f"IAM-S{k}" + VARIANT_LABELS[variant]
    if method == "prm_retrieval":
        return "PRM retrieval"
    if (of_k := parse_self_trained(method)) is not None:
        return f"IAM-S{of_k} self-trained on its snapped training IAMs (ours, not the paper's)"
    if (fed_k := parse_derived(method, PRM_ORACLE)) is not None:
        return f"IAM-S{fed_k} filler fed PRMs cut to their GT instance (diagnostic, uses GT masks)"
    if method == "iam_ceiling":
        return "IAM-S1 filler trained on GT masks (upper bound, uses GT masks)"
    boxes, fill = method.rsplit("_", 1)
    if boxes == "gt_box":
        return f"GT boxes + {FILL_NAMES[fill]} (upper bound, uses GT boxes)"
    return f"CAM boxes + {FILL_NAMES[fill]}"


def load_json(paths: Mapping[str, str | Path]) -> dict[str, dict[str, Any]]:
    """Metric JSON files by name."""
    return {name: json.loads(Path(p).read_text()) for name, p in paths.items()}


def table1(metrics: Mapping[str, dict[str, Any]]) -> pd.DataFrame:
    """mAP^r (VOC mode) and COCO-mode cross-checks at every threshold, and ABO, in percent."""
    rows = []
    for method, m in metrics.items():
        row = {"method": method_label(method)}
        row.update({f"mAP@{t}": 100 * v for t, v in m["map"].items()})
        row["ABO"] = 100 * m["abo"]
        row.update({f"COCO-mode mAP@{t}": 100 * v for t, v in m["coco_map_pycocotools"].items()})
        rows.append(row)
    return pd.DataFrame(rows).set_index("method")


def table2(metrics: Mapping[str, dict[str, Any]]) -> pd.DataFrame:
    """Mean seconds per image of each timed stage and their total, for PRM retrieval and IAM."""
    parts = {
        "forward + peak backprop": "time_prm",
        "filling": "time_fill",
        "proposals": "time_proposals",
        "retrieval": "time_retrieval",
        "CRF": "time_crf",
    }
    rows = []
    for method, m in metrics.items():
        timed = m.get("seconds_per_image", {})
        row = {"method": method_label(method), **{p: timed.get(a, np.nan) for p, a in parts.items()}}
        row["total"] = float(np.nansum([row[p] for p in parts]))
        rows.append(row)
    return pd.DataFrame(rows).set_index("method")


def table3(loc: dict[str, Any]) -> pd.DataFrame:
    """Localization errors (percent) of IAM and CAM boxes on loc_test."""
    return pd.DataFrame(
        {
            name.upper(): {
                "top-1 loc. error": 100 * r["top1_loc_error"],
                "GT-known loc. error": 100 * r["gt_known_loc_error"],
                "top-1 cls. error": 100 * r["top1_cls_error"],
            }
            for name, r in loc.items()
            if isinstance(r, dict)
        }
    ).T


def table4(sal: dict[str, Any]) -> pd.DataFrame:
    """F_β (adaptive threshold, max over thresholds) of IAM, CAM and PRM saliency on saliency_test."""
    return pd.DataFrame(
        {
            name.upper(): {"F_beta (adaptive)": r["adaptive_f"], "max F_beta": r["max_f"]}
            for name, r in sal.items()
            if isinstance(r, dict)
        }
    ).T


TRUNK_ROWS = {
    "val_accuracy": "ImageNet stand-in: held-out accuracy (64 classes)",
    "val_outline_accuracy": "ImageNet stand-in: outline family right",
    "val_hue_accuracy": "ImageNet stand-in: hue right",
    "view_accuracy": "self-supervised trunk: views whose nearest other view is their twin",
    "val_map": "classification mAP on val (last epoch)",
}
PRM_ROWS = {
    "cam_miou": "CAM pseudo masks: mIoU at the best background score (VOC 2012 train, ResNet-50: 46.5)",
    "peak_precision": "stored peaks inside an instance of their class",
    "instance_recall": "instances hit by a stored peak",
    "prm_max_precision": "PRM maxima inside an instance of their class",
    "prm_max_recall": "instances hit by a PRM maximum",
    "on_object": "PRMs with >= 30 % of their mass on one instance of their class",
    "on_object_own_mass": "mass of such a PRM on its own instance",
    "mass_outside": "PRM mass outside its instance",
    "body_side_mass": "PRM mass on the body's side of its peak (0.5: no lean)",
    "body_side_cos": "PRM centroid towards the body: median cosine (0: no lean)",
}
PSEUDO_GT_ROWS = {
    "top1_iou": "top-1 candidate: mean IoU with the peak's instance",
    "top1_iou_ge_50": "top-1 candidate: share with IoU >= 0.5",
    "best_of_k_iou": "best of the k candidates: mean IoU",
    "best_proposal_iou": "best proposal of the image: mean IoU (ceiling)",
    "best_in_top5": "best proposal ranked in the top 5",
    "area_ratio_median": "top-1 candidate area / instance area (median)",
    "top1_background": "top-1 candidate: mean share of its pixels on no instance",
    "top1_mostly_background": "top-1 candidate: share more than half on no instance",
    "top1_recall": "top-1 candidate: mean share of the instance it covers",
    "union_recall": "the k candidates together: mean share of the instance they cover",
    "without_candidate": "training peaks without a candidate",
}
FILLER_ROWS = {
    "weight_entropy": "filling weights: normalised entropy (1 = uniform)",
    "boundary_ratio": "filling weights: across / within GT regions (1 = blind)",
}


EXTENT_ROWS = {
    "area_ratio_median": "mask area / its GT instance's (median)",
    "share_correct": "share IoU >= 0.5",
    "share_too_big": "share too big (IoU < 0.5, larger than the instance)",
    "share_too_small": "share too small (IoU < 0.5, no larger)",
    "share_off_object": "share on no instance of its class",
}


def stage_chain(
    last_epochs: Mapping[str, dict[str, Any]],
    prm: Mapping[str, dict[str, Any]],
    pseudo_gt: Mapping[str, dict[str, Any]],
    filler: Mapping[str, dict[str, Any]],
    metrics: Mapping[str, dict[str, Any]],
    threshold: str = "0.5",
) -> pd.DataFrame:
    """Where quality is lost, stage by stage: the trunk (the accuracies in the last epoch of each
    training curve that records them: pretraining, backbone), peaks and PRMs per split, pseudo GT
    and filling weights per k, then the masks' mAP^r (diagnostics read GT; the stages they describe
    do not)."""
    rows = [
        ("trunk", name, label, m[key])
        for name, m in last_epochs.items()
        for key, label in TRUNK_ROWS.items()
        if key in m
    ]
    rows += [("peaks + PRMs", split, label, m.get(key)) for split, m in prm.items() for key, label in PRM_ROWS.items()]
    rows += [("pseudo GT", k, label, m.get(key)) for k, m in pseudo_gt.items() for key, label in PSEUDO_GT_ROWS.items()]
    rows += [("filler", k, label, m.get(key)) for k, m in filler.items() for key, label in FILLER_ROWS.items()]
    masks = {name: m for name, m in metrics.items() if name.startswith(("iam_", "prm_retrieval"))}
    rows += [
        ("masks", method_label(name), f"mAP^r@{threshold} (%)", 100 * m["map"][threshold]) for name, m in masks.items()
    ]
    rows += [
        ("masks", method_label(name), label, m["extent"][key])
        for name, m in masks.items()
        if "extent" in m
        for key, label in EXTENT_ROWS.items()
    ]
    frame = pd.DataFrame(rows, columns=["stage", "where", "measure", "value"])
    return frame.set_index(["stage", "where", "measure"])


def proposal_table(recall: dict[str, Any]) -> pd.DataFrame:
    """Proposal recall/ABO of the val proposals (one row)."""
    return pd.DataFrame([recall], index=["proposals"])


def _iam_variant(method: str) -> str | None:
    """The IAM variant of a method name (crf, nocrf, snap or selftrain); None for other methods."""
    if iam := parse_method(method):
        return iam[1]
    return SELF_TRAINED_SOURCE if parse_self_trained(method) is not None else None


def verdict(metrics: Mapping[str, dict[str, Any]], threshold: str = "0.5") -> str:
    """Whether the best IAM with CRF (the paper's) beats PRM retrieval at mAP^r@threshold, and the
    self-trained and snapped IAMs when evaluated, with the numbers and both ABOs. Figures that print
    equal (to 0.1 point) are called level."""
    if "prm_retrieval" not in metrics:
        return "IAM vs PRM retrieval: not both evaluated in this run."
    lines, retrieval = [], metrics["prm_retrieval"]
    for variant in ("crf", SELF_TRAINED_SOURCE, "snap"):
        iams = {m: round(100 * v["map"][threshold], 1) for m, v in metrics.items() if _iam_variant(m) == variant}
        if iams:
            best, prm = max(iams, key=iams.__getitem__), round(100 * retrieval["map"][threshold], 1)
            word = "beats" if iams[best] > prm else "is level with" if iams[best] == prm else "does not beat"
            lines.append(
                f"{method_label(best)} {word} PRM retrieval at mAP^r@{threshold}: {iams[best]:.1f}% vs {prm:.1f}% "
                f"(ABO {100 * metrics[best]['abo']:.1f}% vs {100 * retrieval['abo']:.1f}%)."
            )
    return " ".join(lines) or "IAM vs PRM retrieval: not both evaluated in this run."


def machine() -> str:
    """CPU model (and GPUs, as nvidia-smi names them) of the machine running this code."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines() if ln.startswith("model name")]
        cpu = f"{names[0]} x{len(names)}" if names else cpu
    gpus = _gpu_names()
    return f"{cpu}; GPU {gpus}" if gpus else cpu


def _gpu_names() -> str:
    if shutil.which("nvidia-smi") is None:
        return ""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    return ", ".join(line.strip() for line in out.splitlines() if line.strip())


def to_markdown(df: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table, floats to one decimal (three below 1)."""

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return "n/a" if np.isnan(v) else (f"{v:.3f}" if abs(v) < 1 else f"{v:.1f}")
        return str(v)

    names = [n or "" for n in df.index.names]
    header = [*names, *map(str, df.columns)]
    keys = df.index if len(names) > 1 else [(i,) for i in df.index]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += [
        "| " + " | ".join([*map(str, key), *(fmt(v) for v in row)]) + " |"
        for key, row in zip(keys, df.itertuples(index=False))
    ]
    return "\n".join(lines)
