"""Image edges in IAM inference: the contour edge score (``inference.edge_score``), under which a mask
whose outline lies on the image's edges outranks one that ends inside the object or on the background,
and the edge-aligned cut (``threshold_mode: edge``)."""

import numpy as np

from iam.contour_edges import contour_mean, edge_aligned_level, edge_strength
from iam.inference import InferenceParams, calibrated, cut_levels, foreground, instances


def square_image() -> np.ndarray:
    """A bright 16 x 16 square on a dark 40 x 40 image."""
    image = np.full((40, 40, 3), 30, np.uint8)
    image[12:28, 12:28] = 220
    return image


def squares(*boxes: tuple[int, int]) -> np.ndarray:
    """(n, 40, 40) square masks from (first, stop) row/column ranges."""
    masks = np.zeros((len(boxes), 40, 40), bool)
    for mask, (lo, hi) in zip(masks, boxes):
        mask[lo:hi, lo:hi] = True
    return masks


def test_the_object_outline_scores_above_a_mask_inside_or_beyond_it():
    edges = edge_strength(square_image())
    assert np.isclose(edges.mean(), 1.0, rtol=1e-5)
    exact, inside, beyond = contour_mean(squares((12, 28), (16, 24), (6, 34)), edges)
    assert exact > 3 and inside == 0 and beyond == 0  # flat colour off the outline: no gradient


def test_contour_is_the_inner_ring_and_not_the_image_frame():
    field = np.arange(1600, dtype=np.float32).reshape(40, 40)
    ring = squares((12, 28))[0] & ~squares((13, 27))[0]
    assert np.isclose(contour_mean(squares((12, 28)), field)[0], field[ring].mean())
    whole = np.ones((1, 40, 40), bool)
    assert contour_mean(whole, field)[0] == 0 and contour_mean(np.zeros((1, 40, 40), bool), field)[0] == 0


def test_edge_score_reorders_instances_by_their_outline():
    masks = squares((12, 28), (14, 26))  # the object's outline, and a mask inside it (other class: no NMS)
    probs, labels, peak_scores = masks.astype(np.float32), np.array([0, 1]), np.array([0.0, 1.0])
    edges = edge_strength(square_image())
    params = InferenceParams(mask_threshold=0.5, crf=None)
    plain, _ = instances(masks, probs, labels, peak_scores, params)
    scored, _ = instances(masks, probs, labels, peak_scores, params, edges=edges)
    assert plain.labels[np.argmax(plain.scores)] == 1 and scored.labels[np.argmax(scored.scores)] == 0
    by_label = dict(zip(plain.labels.tolist(), plain.scores.tolist()))
    for label, score in zip(scored.labels.tolist(), scored.scores.tolist()):
        assert np.isclose(score, by_label[label] * contour_mean(masks, edges)[label], rtol=1e-5)


def cone(size: int = 40, centre: float = 19.5) -> np.ndarray:
    """A map falling linearly from the image's centre: its cut at level t is a disc of radius ~ (1 - t) x 20."""
    yy, xx = np.mgrid[:size, :size]
    return np.clip(1 - np.hypot(yy - centre, xx - centre) / 20, 0, None).astype(np.float32)


def test_edge_aligned_level_picks_the_cut_on_the_object_outline():
    image = np.full((40, 40, 3), 30, np.uint8)
    yy, xx = np.mgrid[:40, :40]
    image[np.hypot(yy - 19.5, xx - 19.5) <= 8] = 220  # a disc of radius 8: the cut at level 0.6
    edges, levels = edge_strength(image), (0.2, 0.4, 0.6, 0.8)
    assert edge_aligned_level(cone(), edges, levels, 0.0) == 0.6
    assert edge_aligned_level(cone(), edges, levels, 0.25) == 0.6
    assert edge_aligned_level(np.zeros((40, 40), np.float32), edges, levels, 0.25) == 0.2  # nothing: the first


def test_edge_mode_cuts_without_crf_at_the_chosen_level_and_calibrates_the_crf_there():
    image = np.full((40, 40, 3), 30, np.uint8)
    image[np.hypot(*np.mgrid[-19.5:20.5, -19.5:20.5]) <= 8] = 220
    iams = 0.4 * cone()[None]  # a filler whose map peaks below 0.5
    params = InferenceParams(mask_threshold=0.5, crf=None, threshold_mode="edge", edge_levels=(0.2, 0.4, 0.6, 0.8))
    levels = cut_levels(iams, edge_strength(image), params)
    assert levels.tolist() == [0.6]
    np.testing.assert_array_equal(foreground(iams, params, levels), iams >= 0.6 * iams.max())
    unary = calibrated(iams, params, levels)
    assert np.isclose(unary.max(), 1 / (2 * 0.6))  # the maximum of the map at 0.83, the cut level at 0.5
    np.testing.assert_array_equal(unary >= 0.5 - 1e-6, foreground(iams, params, levels))
