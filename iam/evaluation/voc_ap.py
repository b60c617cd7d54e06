"""mAP^r: instance-segmentation average precision in the VOC protocol (PRM, IRN, this paper).

Per image and class, predictions are taken by descending score (stable, so ties keep their
stored order) and each is matched to the still-unmatched GT instance of its class with the
highest mask IoU; it is a true positive iff that IoU >= t, otherwise a false positive (so a
duplicate of an already-matched instance is a false positive). Per class, the matches of all
images are pooled and sorted by score (stable, images in evaluation order).

``mode="voc"``: all-point area under the interpolated precision-recall curve (VOC 2010+).
``mode="coco"``: COCO's 101-point interpolation with at most ``COCO_MAX_DETS`` predictions per
image and class, as ``pycocotools.COCOeval`` computes it. mAP is the mean over classes that have
at least one GT instance; classes without GT are ignored (their predictions count nowhere).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

COCO_MAX_DETS = 100
COCO_RECALL_POINTS = np.linspace(0.0, 1.0, 101)


def greedy_match(ious: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """(p,) bool true positives of one image and class; ``ious`` (p, g) prediction x GT."""
    tp = np.zeros(len(scores), bool)
    matched = np.zeros(ious.shape[1], bool)
    if not ious.shape[1]:
        return tp
    for i in np.argsort(-scores, kind="stable"):
        candidates = np.where(matched, -1.0, ious[i])
        j = int(np.argmax(candidates))
        if candidates[j] >= threshold:
            tp[i] = matched[j] = True
    return tp


def voc_average_precision(tp: np.ndarray, n_gt: int) -> float:
    """All-point interpolated AP of ranked true-positive flags."""
    hits = np.cumsum(tp)
    recall = hits / n_gt
    precision = hits / np.arange(1, len(tp) + 1)
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    step = np.flatnonzero(mrec[1:] != mrec[:-1])
    return float(np.sum((mrec[step + 1] - mrec[step]) * mpre[step + 1]))


def coco_average_precision(tp: np.ndarray, n_gt: int) -> float:
    """COCO 101-point interpolated AP of ranked true-positive flags."""
    sampled = np.zeros(len(COCO_RECALL_POINTS))
    if len(tp):
        hits = np.cumsum(tp).astype(np.float64)
        precision = hits / (np.arange(1, len(tp) + 1) + np.spacing(1))
        precision = np.maximum.accumulate(precision[::-1])[::-1]
        idx = np.searchsorted(hits / n_gt, COCO_RECALL_POINTS, side="left")
        valid = idx < len(tp)
        sampled[valid] = precision[idx[valid]]
    return float(sampled.mean())


class APAccumulator:
    """Collects per-image matches for every class and IoU threshold; reports AP per class."""

    def __init__(self, n_classes: int, thresholds: Sequence[float]) -> None:
        self.n_classes = n_classes
        self.thresholds = [float(t) for t in thresholds]
        self.n_gt = np.zeros(n_classes, np.int64)
        self._labels: list[np.ndarray] = []
        self._scores: list[np.ndarray] = []
        self._ranks: list[np.ndarray] = []
        self._tp: list[np.ndarray] = []  # (p, T) per image

    def add(self, labels: np.ndarray, scores: np.ndarray, gt_labels: np.ndarray, ious: np.ndarray) -> None:
        """One image: prediction labels/scores, GT labels and the (p, g) IoU matrix."""
        labels, gt_labels = np.asarray(labels, np.int64), np.asarray(gt_labels, np.int64)
        scores = np.asarray(scores, np.float64)
        self.n_gt += np.bincount(gt_labels, minlength=self.n_classes)[: self.n_classes]
        tp = np.zeros((len(labels), len(self.thresholds)), bool)
        ranks = np.zeros(len(labels), np.int64)
        for c in np.unique(labels):
            rows, cols = np.flatnonzero(labels == c), np.flatnonzero(gt_labels == c)
            sub = ious[np.ix_(rows, cols)]
            ranks[rows[np.argsort(-scores[rows], kind="stable")]] = np.arange(len(rows))
            for t, threshold in enumerate(self.thresholds):
                tp[rows, t] = greedy_match(sub, scores[rows], threshold)
        self._labels.append(labels)
        self._scores.append(scores)
        self._ranks.append(ranks)
        self._tp.append(tp)

    def average_precisions(self, mode: str = "voc") -> np.ndarray:
        """(T, C) AP per threshold and class; NaN for classes without GT."""
        ap_of = {"voc": voc_average_precision, "coco": coco_average_precision}[mode]
        labels, scores, ranks = (
            np.concatenate(x) if x else np.zeros(0) for x in (self._labels, self._scores, self._ranks)
        )
        tp = np.concatenate(self._tp) if self._tp else np.zeros((0, len(self.thresholds)), bool)
        keep = ranks < COCO_MAX_DETS if mode == "coco" else np.ones(len(labels), bool)
        out = np.full((len(self.thresholds), self.n_classes), np.nan)
        for c in np.flatnonzero(self.n_gt):
            rows = np.flatnonzero((labels == c) & keep)
            order = rows[np.argsort(-scores[rows], kind="stable")]
            for t in range(len(self.thresholds)):
                out[t, c] = ap_of(tp[order, t], int(self.n_gt[c]))
        return out


def mean_ap(ap: np.ndarray) -> np.ndarray:
    """(T,) mean over classes with GT (NaN columns ignored); 0 when no class has GT."""
    has_gt = ~np.isnan(ap).all(0)
    return ap[:, has_gt].mean(1) if has_gt.any() else np.zeros(len(ap))
