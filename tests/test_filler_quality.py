"""Filling-weight diagnostics: uniform weights are blind to boundaries, region-respecting ones are not."""

import numpy as np
import pytest

from iam.data.voc import GTInstances
from iam.evaluation.filler_quality import neighbour_regions, region_grid, weight_sums


def _regions() -> np.ndarray:
    regions = np.zeros((6, 6), np.int32)
    regions[:, 3:] = 1
    return regions


def _stats(weights: np.ndarray, regions: np.ndarray) -> tuple[float, float]:
    entropy, n, w_across, w_within, n_across, n_within = weight_sums(weights, regions)
    return entropy / n, (w_across / n_across) / (w_within / n_within)


def test_uniform_weights_have_entropy_one_and_ratio_one():
    regions = _regions()
    valid = (neighbour_regions(np.zeros_like(regions), 3) >= 0).astype(np.float64)
    entropy, _ = _stats(np.repeat((valid / valid.sum(0))[None], 2, axis=0), regions)
    _, ratio = _stats(np.full((2, 9, 6, 6), 1 / 9), regions)
    assert entropy == pytest.approx(1.0) and ratio == pytest.approx(1.0)


def test_weights_inside_the_region_give_ratio_zero():
    regions = _regions()
    same = (neighbour_regions(regions, 3) == regions[None]).astype(np.float64)
    entropy, ratio = _stats((same / same.sum(0))[None], regions)
    assert ratio == 0.0 and entropy < 1.0


def test_region_grid_marks_instances_background_and_void():
    masks = np.zeros((1, 8, 8), bool)
    masks[0, :4] = True
    void = np.zeros((8, 8), bool)
    void[6:] = True
    grid = region_grid(GTInstances(masks, np.array([0]), void), 4)
    assert grid[:2].tolist() == [[1] * 4] * 2 and grid[2].tolist() == [0] * 4 and grid[3].tolist() == [-1] * 4
