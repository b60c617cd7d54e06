"""The pseudo-GT diagnostic's per-peak rows on a hand-made image."""

import numpy as np
import pytest

from iam.data.voc import GTInstances
from iam.evaluation.pseudo_gt_quality import image_rows
from iam.pseudo_gt.scoring import MatchParams


def _box(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    m = np.zeros((10, 10), bool)
    m[y0:y1, x0:x1] = True
    return m


def test_rows_measure_the_first_candidate_against_the_peaks_instance():
    obj, big = _box(2, 6, 2, 6), _box(0, 8, 0, 8)  # 16 and 64 pixels, big holds obj
    void = np.zeros((10, 10), bool)
    void[9] = True  # outside both: counts for neither share
    gt = GTInstances(obj[None], np.array([0]), void)
    prm = obj[None].astype(np.float32)
    proposals = np.stack([obj, big])
    candidates = np.array([[1, 0]])  # the big proposal first
    rows = image_rows(
        np.array([[0, 3, 3]]), prm, np.zeros((1, 2, 2)), candidates, proposals, proposals, gt, MatchParams()
    )
    top1, best_k, best_proposal, rank, area, background, top1_recall, union_recall = rows[0]
    assert (top1, best_k, best_proposal, rank) == (pytest.approx(0.25), 1.0, 1.0, 1)
    assert area == 4.0 and background == pytest.approx(48 / 64)
    assert top1_recall == 1.0 and union_recall == 1.0


def test_recall_counts_the_instance_pixels_no_candidate_covers():
    obj = _box(2, 6, 2, 6)  # 16 pixels
    left, part = _box(2, 6, 2, 4), _box(2, 4, 2, 4)  # 8 and 4 of them
    gt = GTInstances(obj[None], np.array([0]), np.zeros((10, 10), bool))
    proposals = np.stack([part, left, obj])
    rows = image_rows(
        np.array([[0, 3, 3]]),
        obj[None].astype(np.float32),
        np.zeros((1, 2, 2)),
        np.array([[0, 1]]),  # the part first, then the left half; the whole object is not a candidate
        proposals,
        proposals,
        gt,
        MatchParams(),
    )
    assert rows[0][6:] == (pytest.approx(4 / 16), pytest.approx(8 / 16))


def test_a_peak_of_a_class_not_in_the_image_gets_no_row_and_no_candidate_no_background():
    gt = GTInstances(_box(2, 6, 2, 6)[None], np.array([0]), np.zeros((10, 10), bool))
    prm = np.ones((2, 10, 10), np.float32)
    peaks = np.array([[1, 3, 3], [0, 3, 3]])  # class 1 is absent
    candidates = np.full((2, 2), -1)
    rows = image_rows(
        peaks,
        prm,
        np.zeros((2, 2, 2)),
        candidates,
        np.zeros((0, 10, 10), bool),
        _box(2, 6, 2, 6)[None],
        gt,
        MatchParams(),
    )
    assert len(rows) == 1 and rows[0][0] == 0.0 and np.isnan(rows[0][5]) and rows[0][6:] == (0.0, 0.0)
