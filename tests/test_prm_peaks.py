"""Peak finding on hand-made maps, and its agreement with the training-time peak stimulation."""

import numpy as np
import torch

from iam.models.backbone import peak_mask, peak_stimulation
from iam.prm.peaks import find_peaks


def test_isolated_peaks_sorted_highest_first():
    m = np.zeros((6, 6), np.float32)
    m[1, 1], m[4, 4], m[1, 4] = 2.0, 3.0, 1.0
    assert find_peaks(m).tolist() == [[4, 4], [1, 1], [1, 4]]


def test_border_and_corner_pixels_can_be_peaks():
    m = np.zeros((5, 5), np.float32)
    m[0, 0], m[4, 2], m[2, 4] = 1.0, 2.0, 3.0
    assert find_peaks(m).tolist() == [[2, 4], [4, 2], [0, 0]]


def test_plateau_is_one_peak_at_its_first_pixel():
    m = np.zeros((5, 7), np.float32)
    m[1:3, 2:5] = 1.0
    m[4, 0] = 0.5
    assert find_peaks(m).tolist() == [[1, 2], [4, 0]]


def test_ties_between_separate_peaks_keep_raster_order():
    m = np.zeros((5, 5), np.float32)
    m[3, 1] = m[1, 3] = 1.0
    assert find_peaks(m).tolist() == [[1, 3], [3, 1]]


def test_below_median_maxima_are_not_peaks_but_the_maximum_always_is():
    m = np.full((4, 4), 5.0, np.float32)
    m[0, 0] = 1.0  # a local minimum; the 5-plateau touches everything
    m[3, 3] = 4.0  # local max of nothing: neighbours are 5
    assert find_peaks(m).tolist() == [[0, 1]]
    assert find_peaks(np.zeros((3, 3))).tolist() == [[0, 0]]


def test_threshold_and_max_peaks():
    m = np.zeros((7, 7), np.float32)
    m[0, 0], m[3, 3], m[6, 6] = 1.0, 2.0, 3.0
    assert find_peaks(m, threshold=1.5).tolist() == [[6, 6], [3, 3]]
    assert find_peaks(m, max_peaks=1).tolist() == [[6, 6]]


def test_torch_peak_mask_matches_numpy_peaks_on_random_maps():
    rng = np.random.default_rng(0)
    maps = rng.normal(size=(2, 3, 9, 9)).astype(np.float32)
    mask = peak_mask(torch.from_numpy(maps)).numpy()
    for b in range(2):
        for c in range(3):
            assert sorted(map(tuple, np.argwhere(mask[b, c]))) == sorted(map(tuple, find_peaks(maps[b, c])))


def test_peak_stimulation_is_mean_of_peaks_with_gradient_only_at_peaks():
    crm = torch.zeros(1, 1, 5, 5)
    crm[0, 0, 1, 1], crm[0, 0, 3, 3] = 2.0, 4.0
    crm.requires_grad_(True)
    score = peak_stimulation(crm)
    assert score.item() == 3.0
    score.sum().backward()
    expected = torch.zeros(5, 5)
    expected[1, 1] = expected[3, 3] = 0.5
    assert torch.equal(crm.grad[0, 0], expected)
