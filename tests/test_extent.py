"""Extent errors: each prediction is sorted into correct / too big / too small / off-object."""

import numpy as np
import pytest

from iam.evaluation.extent import extent_rows, extent_summary
from iam.masks import overlaps


def square(top: int, left: int, side: int, size: int = 20) -> np.ndarray:
    m = np.zeros((size, size), bool)
    m[top : top + side, left : left + side] = True
    return m


def test_predictions_are_sorted_by_how_they_miss():
    gt = np.stack([square(0, 0, 6), square(10, 10, 6)])
    preds = np.stack([square(0, 0, 6), square(8, 8, 10), square(10, 10, 2), square(0, 12, 4), square(0, 0, 6)])
    labels = np.array([0, 0, 0, 0, 1])  # the last one covers a GT instance of another class
    rows = extent_rows(*overlaps(preds, gt, np.zeros((20, 20), bool)), labels, np.array([0, 0]))
    assert rows[0] == pytest.approx([1.0, 1.0, 1.0])
    assert rows[1] == pytest.approx([100 / 36, 1.0, 36 / 100])
    assert rows[2] == pytest.approx([4 / 36, 4 / 36, 4 / 36])
    assert np.isnan(rows[3, 0]) and np.isnan(rows[4, 0])
    summary = extent_summary([rows])
    assert summary["n_predictions"] == 5
    assert [summary[f"share_{k}"] for k in ("correct", "too_big", "too_small", "off_object")] == [0.2, 0.2, 0.2, 0.4]
    assert summary["area_ratio_median"] == pytest.approx(1.0)


def test_void_pixels_do_not_count():
    gt, pred = square(0, 0, 4)[None], square(0, 0, 8)[None]
    void = ~square(0, 0, 4)
    rows = extent_rows(*overlaps(pred, gt, void), np.array([0]), np.array([0]))
    assert rows[0] == pytest.approx([1.0, 1.0, 1.0])


def test_no_predictions():
    rows = extent_rows(
        *overlaps(np.zeros((0, 5, 5), bool), np.zeros((1, 5, 5), bool)), np.zeros(0, int), np.zeros(1, int)
    )
    assert rows.shape == (0, 3)
    assert extent_summary([rows])["share_correct"] == 0.0 and extent_summary([])["area_ratio_median"] is None
