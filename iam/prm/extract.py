"""PRM extraction: forward, class peaks, batched peak backpropagation, one HDF5 group per image.

Writes ``prm/{split}.h5`` (kind ``prm``, :mod:`iam.io.prm`; file attrs ``classes``, ``input_size``).

Classes considered: on the training split the image's labels (weak labels are allowed); on other
splits the classes whose score exceeds ``class_threshold`` (the top-scoring class when none does).
Per class, the ``max_peaks`` highest peaks with a value above ``peak_threshold`` are kept (on the
training split the strongest peak of a labelled class is kept even below it: the label says the
class is there); peaks are grouped by class, highest first within a class.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from iam.data.transforms import to_tensor
from iam.data.voc import read_image, read_image_labels
from iam.device import has_fast_bfloat16
from iam.io.h5 import write_artifact
from iam.io.prm import KIND, PRMRecord, write_prm
from iam.prm.backprop import peak_response_maps, peak_response_maps_looped, probabilistic, top_down
from iam.prm.peaks import find_peaks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeakRule:
    """Which classes and peaks of an image become PRMs."""

    use_labels: bool  # training split: the image's labels choose the classes
    class_threshold: float | None  # other splits: the class scores above it (unused with use_labels)
    peak_threshold: float
    max_peaks: int
    refine: bool = True  # store each peak where its PRM peaks (:func:`refine_peaks`), not at the CRM cell

    @classmethod
    def from_config(cls, prm: Mapping[str, Any], use_labels: bool) -> PeakRule:
        """From the config section ``prm`` (``class_threshold`` may be absent, as the training split's
        rule params leave it out: rules/common.smk ``prm_params``)."""
        return cls(use_labels, prm.get("class_threshold"), prm["peak_threshold"], prm["max_peaks"], prm["refine_peaks"])


@dataclass(frozen=True)
class ImagePRM(PRMRecord):
    """An image's PRM record and the backbone features of the same forward (not stored)."""

    features: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)


def peak_classes(scores: np.ndarray, labels: np.ndarray | None, peak_rule: PeakRule) -> tuple[np.ndarray, bool]:
    """The classes whose peaks become PRMs, and whether each keeps its strongest peak below the peak
    threshold: the image's labels (``use_labels``), else the classes scoring above ``class_threshold``,
    else the top-scoring class alone (every image holds an object; the CAM baseline makes the same
    choice). A labelled class and the stand-in top class are taken to be there, so they keep a peak."""
    if peak_rule.use_labels:
        assert labels is not None, "peak_rule.use_labels needs the image's labels"
        return np.flatnonzero(labels > 0), True
    assert peak_rule.class_threshold is not None, "a split without labels needs prm.class_threshold"
    above = np.flatnonzero(scores > peak_rule.class_threshold)
    if len(above) or not len(scores):
        return above, False
    return np.array([int(np.argmax(scores))]), True


def select_peaks(response: np.ndarray, classes: np.ndarray, keep_best: bool, peak_rule: PeakRule) -> np.ndarray:
    """(n, 3) (class, y, x) peaks of the (C, S, S) upsampled CRM for the given class indices
    (``keep_best``: see :func:`class_peaks`)."""
    rows = [
        np.column_stack([np.full(len(p), c), p])
        for c in classes
        for p in [class_peaks(response[c], peak_rule, keep_best)]
    ]
    return np.concatenate(rows).astype(np.int64) if rows else np.zeros((0, 3), np.int64)


def class_peaks(response: np.ndarray, peak_rule: PeakRule, keep_best: bool = False) -> np.ndarray:
    """(k, 2) peaks of one class map above the peak threshold; with ``keep_best`` the strongest peak
    is kept whatever its value."""
    peaks = find_peaks(response, max_peaks=peak_rule.max_peaks)
    keep = response[peaks[:, 0], peaks[:, 1]] > peak_rule.peak_threshold
    keep[:1] |= keep_best
    return peaks[keep]


def to_original(peaks: np.ndarray, size: int, height: int, width: int) -> np.ndarray:
    """Peak pixels on the size x size input -> pixels of the height x width image (pixel centres)."""
    out = peaks.copy()
    out[:, 1] = np.minimum(((peaks[:, 1] + 0.5) * height / size).astype(np.int64), height - 1)
    out[:, 2] = np.minimum(((peaks[:, 2] + 0.5) * width / size).astype(np.int64), width - 1)
    return out


def refine_peaks(peaks: np.ndarray, prms: np.ndarray, sigma: float) -> np.ndarray:
    """Move each (class, y, x) peak to the maximum of its PRM blurred by a Gaussian of ``sigma`` px:
    a CRM peak sits at a cell centre of the coarse grid, the PRM says which pixels caused it."""
    out = peaks.copy()
    for i, m in enumerate(prms):
        if m.max() > 0:
            out[i, 1:] = np.unravel_index(np.argmax(cv2.GaussianBlur(m, (0, 0), sigma)), m.shape)
    return out


def resize_maps(maps: np.ndarray, height: int, width: int) -> np.ndarray:
    """(n, s, s) -> (n, H, W) bilinear, each renormalised to sum 1."""
    out = (
        np.stack([cv2.resize(m, (width, height), interpolation=cv2.INTER_LINEAR) for m in maps])
        if len(maps)
        else np.zeros((0, height, width), np.float32)
    )
    return out / np.maximum(out.sum(axis=(1, 2), keepdims=True), 1e-12)


def image_prm(
    net: nn.Module,
    image: np.ndarray,
    labels: np.ndarray | None,
    size: int,
    peak_rule: PeakRule,
    batched: bool = True,
    contrast: str | None = None,
) -> ImagePRM:
    """Peaks and PRMs of one image with a :func:`probabilistic` backbone (``batched=False``: per-peak loop;
    ``contrast``: see :func:`top_down`)."""
    height, width = image.shape[:2]
    device = next(net.parameters()).device
    response, pullback, out = top_down(net, to_tensor(image, size)[None].to(device), contrast)
    scores, maps = _numpy(out.scores[0]), _numpy(response[0])
    peaks = select_peaks(maps, *peak_classes(scores, labels, peak_rule), peak_rule)
    backward = peak_response_maps if batched else peak_response_maps_looped
    prms = _numpy(backward(response, pullback, torch.from_numpy(peaks).to(device)))
    return ImagePRM(
        peaks=to_original(refine_peaks(peaks, prms, size / 32) if peak_rule.refine else peaks, size, height, width),
        peak_scores=maps[peaks[:, 0], peaks[:, 1], peaks[:, 2]],
        prm=resize_maps(prms, height, width),
        class_scores=scores,
        crm=_numpy(out.crm[0]),
        features={name: f.detach() for name, f in out.features.items()},
    )


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().float().cpu().numpy()


def extract_split(
    backbone: nn.Module,
    voc_root: str | Path,
    ids: list[str],
    classes: list[str],
    size: int,
    peak_rule: PeakRule,
    out_path: str | Path,
    rule: str = "extract_prm",
    params: dict | None = None,
    dtype: torch.dtype = torch.float32,
    contrast: str | None = None,
) -> None:
    """Write the ``prm`` artifact of ``ids``, streaming one image at a time, atomically (``dtype``: of
    the top-down pass's convolutions, see :func:`probabilistic`; ``contrast``: see :func:`top_down`)."""
    device = next(backbone.parameters()).device
    if dtype == torch.bfloat16 and not has_fast_bfloat16(device):
        log.warning(
            "prm.dtype bfloat16 on %s without native bfloat16 arithmetic: expect it to be slower than float32", device
        )
    net = probabilistic(backbone, dtype)
    with write_artifact(out_path, KIND, rule, params) as f:
        f.attrs["classes"] = json.dumps(list(classes))
        f.attrs["input_size"] = size
        for image_id in tqdm(ids, desc=f"PRM {Path(out_path).name}", mininterval=10):
            labels = read_image_labels(voc_root, image_id, classes) if peak_rule.use_labels else None
            image = read_image(voc_root, image_id)
            tic = time.perf_counter()
            result = image_prm(net, image, labels, size, peak_rule, contrast=contrast)
            write_prm(f, image_id, result).attrs["time_forward"] = time.perf_counter() - tic
    log.info("wrote PRMs of %d images to %s", len(ids), out_path)
