"""Report figures (matplotlib, Agg): Fig. 7 IoU-vs-size density, Fig. 8 per-class IoU,
training curves, and the val gallery (image, PRM, IAM, CRF mask, GT)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from iam.io.atomic import atomic_path  # noqa: E402


def save(fig: plt.Figure, path: str | Path) -> None:
    """Write a figure as PNG atomically and close it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)


def iou_vs_size(samples: pd.DataFrame, path: str | Path) -> None:
    """Fig. 7: 2-D density of best IoU against object size, one panel per method."""
    methods = sorted(samples["method"].unique())
    fig, axes = plt.subplots(1, max(len(methods), 1), figsize=(4 * max(len(methods), 1), 3.5), squeeze=False)
    for ax, method in zip(axes[0], methods):
        s = samples[samples["method"] == method]
        ax.hist2d(100 * s["size"], 100 * s["iou"], bins=20, range=[[0, 100], [0, 100]], cmap="Greys")
        ax.set(title=f"{method} (n={len(s)})", xlabel="object size (% of image)", ylabel="best IoU (%)")
    save(fig, path)


def per_class_iou(samples: pd.DataFrame, classes: Sequence[str], path: str | Path) -> None:
    """Fig. 8: per-class mean best IoU, grouped bars per method."""
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(classes)), 3.5))
    if samples.empty:
        ax.text(0.5, 0.5, "no soft-map samples (no peaks on val)", ha="center", transform=ax.transAxes)
    else:
        means = samples.groupby(["class", "method"])["iou"].mean().unstack("method").reindex(list(classes))
        (100 * means.astype(float)).plot.bar(ax=ax, width=0.8)
    ax.set(ylabel="mean best IoU (%)", xlabel="", ylim=(0, 100))
    save(fig, path)


TIMING_COLUMNS = ("seconds", "images_per_s")


def training_curves(csvs: Mapping[str, str | Path], path: str | Path) -> None:
    """Every numeric column of each metrics CSV but the timings against its first column (epoch or
    step); seconds and images/s would flatten the losses and accuracies."""
    fig, axes = plt.subplots(1, len(csvs), figsize=(4.5 * len(csvs), 3.5), squeeze=False)
    for ax, (name, csv) in zip(axes[0], csvs.items()):
        df = pd.read_csv(csv)
        x = df.columns[0]
        for column in df.select_dtypes("number").columns.drop([x, *TIMING_COLUMNS], errors="ignore"):
            ax.plot(df[x], df[column], label=column)
        ax.set(title=name, xlabel=x)
        ax.legend(fontsize=7)
    save(fig, path)


def instance_overlay(masks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(H, W) integer map: 0 background, i + 1 where instance i is (later instances on top)."""
    out = np.zeros(shape, np.int64)
    for i, m in enumerate(masks):
        out[m.astype(bool)] = i + 1
    return out


def gallery(rows: Sequence[Mapping[str, np.ndarray]], path: str | Path) -> None:
    """Grid with one row per image; columns image, PRM, IAM (soft maps, max over instances),
    CRF masks and GT (instance maps)."""
    columns = ["image", "PRM", "IAM", "IAM + CRF", "GT"]
    fig, axes = plt.subplots(len(rows), len(columns), figsize=(2.2 * len(columns), 2.2 * len(rows)), squeeze=False)
    for ax_row, row in zip(axes, rows):
        for ax, name in zip(ax_row, columns):
            data = row[name]
            cmap = "jet" if name in ("PRM", "IAM") else ("tab20" if data.ndim == 2 else None)
            ax.imshow(data, cmap=cmap, interpolation="nearest")
            ax.set_axis_off()
    for ax, name in zip(axes[0], columns):
        ax.set_title(name, fontsize=9)
    save(fig, path)
