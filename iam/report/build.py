"""Assemble ``report/``: tables.md + one CSV per table, figures/*.png and index.html."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from iam.evaluation.saliency import merge_maps
from iam.io.atomic import atomic_path, write_text
from iam.io.h5 import open_artifact
from iam.io.instances import KIND, read_instances, read_soft_maps
from iam.io.prm import KIND as PRM
from iam.io.prm import read_prm
from iam.names import LOCALIZATION, SALIENCY
from iam.report import figures, tables
from iam.report.html import write_index

TABLES = ("stage_chain", "table1", "table2", "table3", "table4", "proposal_recall")
FIGURES = ("iou_vs_size", "per_class_iou", "training_curves", "gallery")
CAPTIONS = {
    "stage_chain": "Per-stage diagnostics (read GT; the stages do not): "
    "trunk -> peaks -> PRMs -> pseudo GT -> filler -> masks",
    "table1": "Table 1: instance segmentation on val, mAP^r (VOC mode; void pixels excluded from intersection "
    "and union), ABO and COCO-mode mAP (pycocotools) in %",
    "table2": "Table 2: mean seconds per image of each stage and their total (all: backbone forward + peak backprop; "
    "PRM retrieval: + proposals, built-in generator only, + retrieval; IAM: + filling + CRF, 0 without CRF; "
    "IAM snapped to proposals: + filling + proposals + snapping, in the retrieval column)",
    "table3": "Table 3 analogue: localization error (%) on loc_test",
    "table4": "Table 4 analogue: saliency F_beta (beta^2 = 0.3) on saliency_test",
    "proposal_recall": "Proposal recall and ABO on val",
    "iou_vs_size": "Fig. 7 analogue: best IoU vs object size, PRMs and IAMs",
    "per_class_iou": "Fig. 8 analogue: per-class mean best IoU of PRMs and IAMs",
    "training_curves": "Training curves (backbone, filling module)",
    "gallery": "Val gallery: image, PRM, IAM, IAM + CRF masks, GT",
}


def gallery_rows(
    ids: Sequence[str],
    prm_path: str | Path,
    iam_path: str | Path,
    nocrf_path: str | Path,
    read_image: Callable[[str], np.ndarray],
    read_gt: Callable,
) -> list[dict[str, np.ndarray]]:
    """Panels of the gallery figure for ``ids``."""
    rows = []
    with (
        open_artifact(prm_path, PRM) as prm,
        open_artifact(iam_path, KIND) as crf,
        open_artifact(nocrf_path, KIND) as soft,
    ):
        for image_id in ids:
            gt = read_gt(image_id)
            shape = gt.void.shape
            soft_maps = read_soft_maps(soft, image_id)
            rows.append(
                {
                    "image": read_image(image_id),
                    "PRM": merge_maps(read_prm(prm, image_id).prm, shape),
                    "IAM": merge_maps(np.zeros((0, *shape)) if soft_maps is None else soft_maps[0], shape),
                    "IAM + CRF": figures.instance_overlay(read_instances(crf, image_id).masks, shape),
                    "GT": figures.instance_overlay(gt.masks, shape),
                }
            )
    return rows


def build_report(
    out_dir: str | Path,
    metrics: Mapping[str, str | Path],
    timings: Mapping[str, str | Path],
    proposal_recall: str | Path,
    soft_maps: str | Path,
    transfer: Mapping[str, str | Path],
    curves: Mapping[str, str | Path],
    classes: Sequence[str],
    gallery: Sequence[Mapping[str, np.ndarray]],
    run: str,
    diagnostics: Mapping[str, Mapping[str, str | Path]],
    filling_figures: Mapping[str, str | Path],
) -> None:
    """Write every table, figure and the HTML page of a run's report under ``out_dir``.

    ``timings`` are the per-method ``timing/{method}.json`` files (Table 2), kept apart from the
    deterministic metrics. ``curves`` are the training metrics CSVs by name (``pretrain`` when the run
    pretrains, ``backbone``, the fillers); ``diagnostics`` holds the per-stage GT diagnostics (``prm``
    by split, ``pseudo_gt`` and ``filler`` by k); ``filling_figures`` the Fig. 5 PNGs (under ``out_dir``) by k."""
    out = Path(out_dir)
    loaded = tables.load_json(metrics)
    extra = tables.load_json(transfer)
    chain = {name: tables.load_json(paths) for name, paths in diagnostics.items()}
    last_epochs = {name: pd.read_csv(csv).iloc[-1].to_dict() for name, csv in curves.items()}
    frames = {
        "stage_chain": tables.stage_chain(last_epochs, chain["prm"], chain["pseudo_gt"], chain["filler"], loaded),
        "table1": tables.table1(loaded),
        "table2": tables.table2(tables.load_json(timings)),
        "table3": tables.table3(extra.get(LOCALIZATION, {})),
        "table4": tables.table4(extra.get(SALIENCY, {})),
        "proposal_recall": tables.proposal_table(tables.load_json({"p": proposal_recall})["p"]),
    }
    notes = [tables.verdict(loaded), f"Timings measured by this run's rules on: {tables.machine()}."]
    for name, df in frames.items():
        with atomic_path(out / f"{name}.csv") as tmp:
            df.to_csv(tmp)
    write_text(
        out / "tables.md",
        "\n\n".join(
            [f"# Report: {run}", *notes, *(f"## {CAPTIONS[n]}\n\n{tables.to_markdown(df)}" for n, df in frames.items())]
        )
        + "\n",
    )
    samples = pd.read_csv(soft_maps)
    paths = {name: out / "figures" / f"{name}.png" for name in FIGURES}
    figures.iou_vs_size(samples, paths["iou_vs_size"])
    figures.per_class_iou(samples, classes, paths["per_class_iou"])
    figures.training_curves(curves, paths["training_curves"])
    figures.gallery(gallery, paths["gallery"])
    shown: dict[str, str | Path] = {CAPTIONS[n]: p for n, p in paths.items()}
    shown.update(
        {f"Fig. 5: filling weights, {k} (arrows: weight above the window mean)": p for k, p in filling_figures.items()}
    )
    write_index(out / "index.html", f"IAM report: {run}", notes, {CAPTIONS[n]: df for n, df in frames.items()}, shown)
