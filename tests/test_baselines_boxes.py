"""Box -> mask baselines and CAM boxes."""

import numpy as np
import pytest

from iam.baselines.boxes import ellipse_masks, fill_boxes, rect_masks
from iam.baselines.cam import cam_boxes


def test_rect_and_ellipse_masks():
    rect = rect_masks(np.array([[2, 1, 6, 4]]), (8, 8))[0]
    assert rect.sum() == 12 and rect[1, 2] and not rect[4, 2]
    ellipse = ellipse_masks(np.array([[0, 0, 8, 8]]), (8, 8))[0]
    assert ellipse[4, 4] and not ellipse[0, 0] and ellipse.sum() == pytest.approx(np.pi * 16, abs=8)


def test_proposal_fill_picks_best_overlapping_proposal():
    proposals = np.zeros((2, 8, 8), bool)
    proposals[0, :4, :4] = True
    proposals[1, 4:, 4:] = True
    masks = fill_boxes(np.array([[4, 4, 8, 7]]), (8, 8), "proposal", proposals)
    assert (masks[0] == proposals[1]).all()


def test_cam_boxes_one_box_per_component_of_present_classes():
    crm = np.zeros((2, 8, 8), np.float32)
    crm[0, 1:3, 1:3] = 1.0
    crm[0, 5:7, 5:7] = 0.5
    crm[1, 3, 3] = 1.0
    boxes, labels, scores = cam_boxes(crm, np.array([2.0, -1.0]), (8, 8), 0.2, 0.0)
    assert labels.tolist() == [0, 0]
    assert len(boxes) == 2 and scores[0] > scores[1]
