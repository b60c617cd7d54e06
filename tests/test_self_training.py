"""Self-training targets: each live peak's IAM snapped to the proposal it fits best."""

import numpy as np

from iam.self_training import snapped_targets


def _box(y0: int, x0: int, y1: int, x1: int, size: int = 16) -> np.ndarray:
    mask = np.zeros((size, size), bool)
    mask[y0:y1, x0:x1] = True
    return mask


def test_each_live_peak_gets_the_proposal_its_iam_fits_and_dead_peaks_none():
    proposals = np.stack([_box(0, 0, 8, 8), _box(0, 0, 16, 16), _box(8, 8, 16, 16)]).astype(np.uint8)
    peaks = np.array([[0, 12, 12], [1, 3, 3], [0, 2, 2]])
    live = np.array([True, False, True])
    iams = np.stack([0.9 * _box(8, 8, 16, 16) + 0.05, 0.8 * _box(1, 1, 7, 7)]).astype(np.float32)
    t = snapped_targets(peaks, iams, live, proposals, threshold=0.9, k=5)
    assert t.candidates.shape == (3, 5) and (t.candidates[:, 1:] == -1).all()
    assert t.candidates[1, 0] == -1 and np.isnan(t.candidate_scores[1]).all()
    assert (t.masks[t.candidates[0, 0]] == proposals[2].astype(bool)).all()
    assert (t.masks[t.candidates[2, 0]] == proposals[0].astype(bool)).all()
    assert len(t.masks) == 2  # only the proposals some peak uses are stored
    assert np.isclose(t.candidate_scores[0, 0], 1.0) and np.isclose(t.candidate_scores[2, 0], 36 / 64)


def test_an_image_without_proposals_leaves_every_peak_without_a_target():
    peaks, live = np.array([[0, 4, 4]]), np.array([True])
    t = snapped_targets(peaks, np.ones((1, 16, 16), np.float32), live, np.zeros((0, 16, 16), np.uint8), 0.9, 1)
    assert t.masks.shape == (0, 16, 16) and (t.candidates == -1).all() and t.n_without_candidates == 1
