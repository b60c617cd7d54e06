"""IAM snapped to proposals: each IAM's cut picks the proposal it overlaps best, duplicates merge."""

import numpy as np

from iam.proposal_snap import SnapParams, snap_instances

H = W = 32


def box(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    m = np.zeros((H, W), bool)
    m[y0:y1, x0:x1] = True
    return m


def blob(cy: float, cx: float, sigma: float) -> np.ndarray:
    yy, xx = np.mgrid[:H, :W]
    return np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma**2)).astype(np.float32)


OBJECT, BIG, ELSEWHERE = box(10, 18, 10, 18), box(2, 30, 2, 30), box(0, 6, 24, 32)
PROPOSALS = np.stack([BIG, ELSEWHERE, OBJECT])


def test_the_cut_picks_the_proposal_it_fits_and_the_score_multiplies_confidence_and_fit():
    iam = 0.4 * blob(13.5, 13.5, 6.0)
    inst, source = snap_instances(iam[None], PROPOSALS, np.array([3]), np.array([2.0]), SnapParams(0.9))
    assert source.tolist() == [0] and inst.labels.tolist() == [3]
    assert np.array_equal(inst.masks[0], OBJECT)
    cut = iam >= 0.9 * iam.max()
    fit = (cut & OBJECT).sum() / (cut | OBJECT).sum()
    expected = iam[OBJECT].mean() * fit / (1 + np.exp(-2.0))
    assert np.isclose(inst.scores[0], expected, rtol=1e-5)


def test_a_low_threshold_takes_the_whole_spread_and_snaps_to_the_large_proposal():
    iam = blob(13.5, 13.5, 6.0)
    inst, _ = snap_instances(iam[None], PROPOSALS, np.array([0]), np.array([0.0]), SnapParams(0.05))
    assert np.array_equal(inst.masks[0], BIG)


def test_duplicates_on_one_object_keep_the_better_scored_and_other_classes_stay():
    iams = np.stack([blob(13, 13, 3), 0.5 * blob(14, 14, 3), blob(3, 28, 2)])
    inst, source = snap_instances(iams, PROPOSALS, np.array([1, 1, 2]), np.array([1.0, 1.0, 1.0]), SnapParams(0.9))
    assert sorted(source.tolist()) == [0, 2]
    by_source = dict(zip(source.tolist(), inst.masks))
    assert np.array_equal(by_source[0], OBJECT) and np.array_equal(by_source[2], ELSEWHERE)


def test_no_proposals_or_no_iams_give_no_instances():
    iam = blob(13, 13, 3)[None]
    for iams, proposals in ((iam, np.zeros((0, H, W), bool)), (np.zeros((0, H, W), np.float32), PROPOSALS)):
        inst, source = snap_instances(iams, proposals, np.zeros(len(iams), np.int64), np.zeros(len(iams)), SnapParams())
        assert len(inst) == 0 and len(source) == 0 and inst.masks.shape[1:] == (H, W)
