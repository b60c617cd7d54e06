"""mAP^r (VOC and COCO mode), ABO and mask IoU on hand-made cases with known answers."""

import numpy as np
import pytest

from iam.evaluation.abo import average_best_overlap
from iam.evaluation.coco import CocoCollector, coco_average_precisions
from iam.evaluation.voc_ap import APAccumulator, greedy_match, mean_ap
from iam.masks import iou_matrix

T = [0.25, 0.5, 0.75]


def rect(shape, y0, y1, x0, x1):
    m = np.zeros(shape, bool)
    m[y0:y1, x0:x1] = True
    return m


def voc_map(preds, gts, n_classes=3, void=None):
    """preds/gts: per image lists of (masks, labels[, scores])."""
    acc = APAccumulator(n_classes, T)
    for (pm, pl, ps), (gm, gl) in zip(preds, gts):
        acc.add(pl, ps, gl, iou_matrix(pm, gm, void))
    return acc


A = rect((20, 20), 0, 10, 0, 10)
B = rect((20, 20), 10, 20, 10, 20)


def test_iou_matrix_values_and_void():
    half = rect((20, 20), 0, 10, 0, 5)
    assert iou_matrix(np.stack([A, half, B]), A[None])[:, 0] == pytest.approx([1.0, 0.5, 0.0])
    grown = rect((20, 20), 0, 12, 0, 10)
    void = rect((20, 20), 10, 12, 0, 20)
    assert iou_matrix(grown[None], A[None])[0, 0] == pytest.approx(100 / 120)
    assert iou_matrix(grown[None], A[None], void)[0, 0] == 1.0
    assert iou_matrix(np.zeros((1, 20, 20), bool), np.zeros((1, 20, 20), bool))[0, 0] == 0.0


def test_perfect_predictions_score_one():
    acc = voc_map([(np.stack([A, B]), [0, 1], [0.9, 0.8])], [(np.stack([A, B]), [0, 1])])
    assert mean_ap(acc.average_precisions()) == pytest.approx([1, 1, 1])
    assert average_best_overlap([iou_matrix(np.stack([A, B]), np.stack([A, B]))]) == 1.0


def test_false_positive_ranked_above_true_positive_halves_ap():
    acc = voc_map([(np.stack([B, A]), [0, 0], [0.9, 0.8])], [(A[None], [0])])
    assert mean_ap(acc.average_precisions()) == pytest.approx([0.5, 0.5, 0.5])


def test_duplicate_is_false_positive_after_match():
    assert greedy_match(np.array([[1.0], [1.0]]), np.array([0.8, 0.9]), 0.5).tolist() == [False, True]
    acc = voc_map([(np.stack([A, A, B]), [0, 0, 0], [0.9, 0.8, 0.7])], [(np.stack([A, B]), [0, 0])])
    # ranks TP, FP(duplicate), TP: precision 1 at recall .5, 2/3 at recall 1
    assert mean_ap(acc.average_precisions())[0] == pytest.approx(0.5 + 0.5 * 2 / 3)


def test_match_prefers_unmatched_gt_with_highest_iou():
    ious = np.array([[0.9, 0.6], [0.8, 0.3]])
    assert greedy_match(ious, np.array([0.9, 0.8]), 0.5).tolist() == [True, False]
    assert greedy_match(ious, np.array([0.9, 0.8]), 0.25).tolist() == [True, True]


def test_threshold_decides_true_positive():
    pred = rect((20, 20), 0, 10, 0, 6)  # IoU 0.6 with A
    acc = voc_map([(pred[None], [0], [1.0])], [(A[None], [0])])
    assert mean_ap(acc.average_precisions()) == pytest.approx([1, 1, 0])


def test_classes_without_gt_are_ignored_and_count_in_no_class():
    acc = voc_map([(np.stack([A, B]), [0, 2], [0.5, 0.9])], [(A[None], [0])])
    ap = acc.average_precisions()
    assert np.isnan(ap[:, 1:]).all()
    assert mean_ap(ap) == pytest.approx([1, 1, 1])


def test_empty_predictions_score_zero():
    acc = voc_map([(np.zeros((0, 20, 20), bool), [], [])], [(A[None], [0])])
    assert mean_ap(acc.average_precisions()) == pytest.approx([0, 0, 0])
    assert mean_ap(acc.average_precisions("coco")) == pytest.approx([0, 0, 0])
    assert average_best_overlap([iou_matrix(np.zeros((0, 20, 20), bool), A[None])]) == 0.0


def test_pooling_over_images_ranks_by_score():
    # two GT (one per image), recall tops at 0.5: FP ranked first -> precision 0.5 there
    gts = [(A[None], [0]), (A[None], [0])]
    low = voc_map([(B[None], [0], [0.9]), (A[None], [0], [0.8])], gts)
    high = voc_map([(B[None], [0], [0.7]), (A[None], [0], [0.8])], gts)
    assert mean_ap(low.average_precisions())[0] == pytest.approx(0.25)
    assert mean_ap(high.average_precisions())[0] == pytest.approx(0.5)


def random_image(rng, shape=(24, 24), n_classes=3):
    def boxes(n):
        out = []
        for _ in range(n):
            y, x = rng.integers(0, shape[0] - 4, 2)
            h, w = rng.integers(3, 12, 2)
            out.append(rect(shape, y, y + h, x, x + w))
        return np.stack(out) if out else np.zeros((0, *shape), bool)

    gm = boxes(rng.integers(0, 4))
    gl = rng.integers(0, n_classes, len(gm))
    jitter = [np.roll(m, rng.integers(-2, 3, 2), (0, 1)) for m in gm if rng.random() < 0.8]
    pm = np.concatenate([np.stack(jitter) if jitter else np.zeros((0, *shape), bool), boxes(rng.integers(0, 3))])
    pl = np.concatenate([gl[: len(jitter)], rng.integers(0, n_classes, len(pm) - len(jitter))]).astype(np.int64)
    void = rect(shape, 0, 1, 0, shape[1]) | rect(shape, shape[0] - 1, shape[0], 0, shape[1])
    keep_gt = (gm & ~void).any((1, 2))
    keep_pred = (pm & ~void).any((1, 2))
    return pm[keep_pred], pl[keep_pred], rng.random(keep_pred.sum()), gm[keep_gt], gl[keep_gt], void


@pytest.mark.parametrize("seed", range(6))
def test_coco_mode_equals_pycocotools(seed):
    rng = np.random.default_rng(seed)
    acc, coco = APAccumulator(3, T), CocoCollector(["a", "b", "c"])
    for i in range(8):
        pm, pl, ps, gm, gl, void = random_image(rng)
        acc.add(pl, ps, gl, iou_matrix(pm, gm, void))
        index = coco.add_gt(str(i), gm & ~void, gl)
        coco.add_predictions(index, pm & ~void, pl, ps)
    ours, theirs = acc.average_precisions("coco"), coco_average_precisions(coco, T)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_allclose(ours, theirs, atol=1e-9, equal_nan=True)


def test_ap_invariant_to_prediction_order():
    rng = np.random.default_rng(1)
    pm, pl, ps, gm, gl, void = random_image(rng)
    while len(pm) < 3 or len(gm) == 0:
        pm, pl, ps, gm, gl, void = random_image(rng)
    perm = rng.permutation(len(pm))
    a = voc_map([(pm, pl, ps)], [(gm, gl)], void=void).average_precisions()
    b = voc_map([(pm[perm], pl[perm], ps[perm])], [(gm, gl)], void=void).average_precisions()
    np.testing.assert_array_equal(a, b)


def test_abo_at_most_one_and_one_iff_exact():
    rng = np.random.default_rng(2)
    for _ in range(20):
        pm, _, _, gm, _, _ = random_image(rng)
        abo = average_best_overlap([iou_matrix(pm, gm)])
        exact = all(any((p == g).all() for p in pm) for g in gm) and len(gm) > 0
        assert 0 <= abo <= 1
        assert (abo == 1.0) == exact
