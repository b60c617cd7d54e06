"""Proposal recall/ABO against GT (evaluation side)."""

import numpy as np
import pytest

from iam.evaluation.proposal_recall import recall_metrics
from iam.masks import iou_matrix


def test_iou_ignores_void_pixels():
    gt = np.zeros((1, 4, 4), bool)
    gt[0, :2] = True
    prop = np.zeros((1, 4, 4), bool)
    prop[0, :3] = True
    void = np.zeros((4, 4), bool)
    void[2] = True
    assert iou_matrix(gt, prop)[0, 0] == pytest.approx(8 / 12)
    assert iou_matrix(gt, prop, void)[0, 0] == 1.0


def test_recall_counts_only_the_first_n_proposals():
    ious = [np.array([[0.2, 0.9], [0.6, 0.1]]), np.array([[0.75, 0.0]])]
    m = recall_metrics(ious, counts=(1, 2), thresholds=(0.5, 0.7))
    assert m["recall@1@0.5"] == pytest.approx(2 / 3) and m["recall@1@0.7"] == pytest.approx(1 / 3)
    assert m["recall@2@0.7"] == pytest.approx(2 / 3)
    assert m["abo"] == pytest.approx((0.9 + 0.6 + 0.75) / 3)
