"""Matching score vs brute force, top-k + overlap filter by hand, pseudo-GT artifact assembly."""

import numpy as np
import pytest
from scipy import ndimage

from iam.data.maps import Competition
from iam.io.h5 import open_artifact, write_artifact
from iam.io.prm import PRMRecord, write_prm
from iam.io.pseudo_gt import read_pseudo_gt
from iam.proposals.mcg import from_lists
from iam.proposals.store import write_proposals
from iam.pseudo_gt.build import build, image_pseudo_gt
from iam.pseudo_gt.matching import border_connectivity, matching_scores, select_candidates
from iam.pseudo_gt.scoring import MatchParams


def test_matching_score_equals_brute_force_on_random_maps():
    rng = np.random.default_rng(0)
    prms = rng.random((4, 20, 24)).astype(np.float32)
    masks = rng.random((7, 20, 24)) > 0.6
    alpha, width = 0.7, 3
    f, overlap = matching_scores(prms, masks, alpha, width)
    for i in range(4):
        m = prms[i] / prms[i].sum()
        for j in range(7):
            s = masks[j]
            grad = ndimage.binary_dilation(s, np.ones((3, 3))) & ~ndimage.binary_erosion(
                s, np.ones((3, 3)), border_value=1
            )
            assert overlap[i, j] == pytest.approx((m * s).sum(), rel=1e-4)
            assert f[i, j] == pytest.approx(alpha * (m * s).sum() + (m * grad).sum(), rel=1e-4)


def test_scores_do_not_depend_on_prm_scale():
    rng = np.random.default_rng(1)
    prms, masks = rng.random((2, 8, 8)), rng.random((3, 8, 8)) > 0.5
    np.testing.assert_allclose(
        matching_scores(prms, masks, 1.0, 3)[0], matching_scores(prms * 50, masks, 1.0, 3)[0], rtol=1e-5
    )


def test_top_k_then_overlap_filter_by_hand():
    scores = np.array([[0.9, 0.8, 0.1, 0.7], [0.2, 0.3, 0.95, 0.1]])
    overlap = np.array([[0.5, 0.1, 0.0, 0.3], [0.0, 0.15, 0.6, 0.0]])  # proposal 1: max 0.15 < 0.2
    cand, cs = select_candidates(scores, overlap, k=3, min_overlap=0.2)
    np.testing.assert_array_equal(cand, [[0, 3, -1], [2, 0, -1]])
    np.testing.assert_allclose(cs[0, :2], [0.9, 0.7])
    assert np.isnan(cs[:, 2]).all()


def test_peak_without_surviving_candidate_is_all_minus_one():
    cand, _ = select_candidates(np.array([[0.5, 0.4]]), np.array([[0.1, 0.05]]), k=2, min_overlap=0.2)
    np.testing.assert_array_equal(cand, [[-1, -1]])


def _square(h, w, y0, y1, x0, x1):
    m = np.zeros((h, w), bool)
    m[y0:y1, x0:x1] = True
    return m


def test_image_pseudo_gt_picks_the_proposal_around_each_peak():
    h = w = 16
    proposals = np.stack([_square(h, w, 0, 6, 0, 6), _square(h, w, 8, 16, 8, 16), _square(h, w, 0, 16, 0, 16)])
    prms = np.zeros((2, h, w), np.float32)
    prms[0, 2:4, 2:4] = 1  # inside proposal 0
    prms[1, 10:14, 10:14] = 1  # inside proposal 1
    pgt = image_pseudo_gt(
        np.array([[0, 3, 3], [1, 12, 12]]),
        prms,
        np.zeros((2, 4, 4)),
        proposals,
        k=1,
        match=MatchParams(alpha=1.0, beta=0.0, contour_width=3),
        min_overlap=0.2,
    )
    np.testing.assert_array_equal(pgt.masks[pgt.candidates[0, 0]], proposals[0])
    np.testing.assert_array_equal(pgt.masks[pgt.candidates[1, 0]], proposals[1])
    assert len(pgt.masks) == 2  # only proposals that are some peak's candidate are stored


def test_background_term_stops_the_whole_image_proposal_from_winning():
    h = w = 16
    obj = _square(h, w, 4, 12, 4, 12)
    proposals = np.stack([obj, np.ones((h, w), bool)])
    prm = np.where(obj, 0.6 / obj.sum(), 0.4 / (~obj).sum()).astype(np.float32)[None]  # 60 % on the object
    crm = obj[None, ::4, ::4].astype(np.float32)  # the class fires on the object only
    peaks = np.array([[0, 8, 8]])

    def best(beta: float) -> np.ndarray:
        pgt = image_pseudo_gt(peaks, prm, crm, proposals, k=1, match=MatchParams(1.0, beta, 3), min_overlap=0.2)
        return pgt.masks[pgt.candidates[0, 0]]

    assert best(0.0).all()  # the paper's f: the whole image holds all of the PRM's mass
    np.testing.assert_array_equal(best(1.0), obj)
    f, _ = matching_scores(prm, proposals, 1.0, 3, beta=1.0, background=np.ones((h, w)))
    # float32 sums of O(1) terms: the subtraction 1 - 1 leaves a few ulps (1e-6 was exceeded with numpy 2.4)
    np.testing.assert_allclose(f, matching_scores(prm, proposals, 1.0, 3)[0] - [[obj.mean(), 1.0]], atol=1e-5)


def test_size_prior_prefers_the_object_over_a_proposal_that_also_holds_the_spilled_mass():
    h = w = 16
    obj = _square(h, w, 4, 10, 4, 10)
    big = _square(h, w, 3, 11, 3, 11)  # the object plus the ring where 40 % of the PRM spills
    prm = np.where(obj, 0.6 / obj.sum(), 0.0).astype(np.float32)
    prm[big & ~obj] = 0.4 / (big & ~obj).sum()
    proposals = np.stack([obj, big])

    def best(size_prior: float) -> np.ndarray:
        pgt = image_pseudo_gt(
            np.array([[0, 7, 7]]),
            prm[None],
            np.zeros((1, 4, 4)),
            proposals,
            1,
            MatchParams(1.0, 0.0, 3, size_prior),
            0.2,
        )
        return pgt.masks[pgt.candidates[0, 0]]

    np.testing.assert_array_equal(best(0.0), big)  # f alone rewards the mass that spilled off the object
    np.testing.assert_array_equal(best(1.0), obj)


def test_border_connectivity_is_length_on_the_border_over_root_area():
    h = w = 10
    inner = _square(h, w, 3, 7, 3, 7)
    corner = _square(h, w, 0, 4, 0, 9)  # 4 rows x 9 columns in the top-left corner
    np.testing.assert_allclose(
        border_connectivity(np.stack([inner, corner, np.zeros((h, w), bool)])), [0.0, (9 + 3) / 6.0, 0.0]
    )


def test_border_prior_prefers_the_object_over_a_background_proposal_holding_the_spilled_mass():
    h = w = 16
    obj = _square(h, w, 6, 10, 6, 10)
    strip = _square(h, w, 0, 16, 0, 5)  # background along the left border, where 60 % of the PRM spills
    prm = np.where(obj, 0.4 / obj.sum(), 0.0).astype(np.float32)
    prm[strip] = 0.6 / strip.sum()

    def best(border_prior: float) -> np.ndarray:
        match = MatchParams(1.0, 0.0, 3, 0.0, border_prior)
        proposals = np.stack([obj, strip])
        pgt = image_pseudo_gt(np.array([[0, 8, 8]]), prm[None], np.zeros((1, 4, 4)), proposals, 1, match, 0.2)
        return pgt.masks[pgt.candidates[0, 0]]

    np.testing.assert_array_equal(best(0.0), strip)
    np.testing.assert_array_equal(best(0.5), obj)


def test_build_writes_a_self_contained_artifact(tmp_path):
    h = w = 12
    prm_path, prop_path, out = tmp_path / "prm.h5", tmp_path / "prop.h5", tmp_path / "k2.h5"
    sp = np.arange(h * w).reshape(h, w) // (h * w // 4)  # 4 horizontal bands
    with write_artifact(prm_path, "prm", "extract_prm") as f:
        for image_id, peaks in (("a", np.array([[0, 1, 5]])), ("b", np.zeros((0, 3), np.int64))):
            prm = np.zeros((len(peaks), h, w), np.float32)
            prm[:, :3] = 1
            write_prm(f, image_id, PRMRecord(peaks, np.ones(len(peaks)), prm, np.ones(2), np.ones((2, 3, 3))))
    with write_artifact(prop_path, "proposals", "ingest_proposals") as f:
        for image_id in ("a", "b"):
            write_proposals(f, image_id, from_lists(sp, [np.array([0]), np.array([0, 1]), np.array([3])], np.ones(3)))
    counts = build(
        prm_path,
        prop_path,
        ["a", "b"],
        out,
        k=2,
        match=MatchParams(alpha=1.0, beta=0.5, contour_width=3),
        min_overlap=0.2,
        source="generated",
        params={"k": 2},
    )
    assert counts == {"peaks": 1, "without_candidates": 0}
    with open_artifact(out, "pseudo_gt", expect={"k": 2}) as f:
        assert f.attrs["k"] == 2 and f.attrs["source"] == "generated"
        a, b = read_pseudo_gt(f, "a"), read_pseudo_gt(f, "b")
        np.testing.assert_array_equal(a.candidates, [[0, 1]])
        np.testing.assert_array_equal(a.masks[0], sp == 0)  # band 0 alone fits best
        assert b.masks.shape == (0, h, w) and b.candidates.shape == (0, 2)


def test_competing_prms_stop_a_neighbours_spill_from_winning_the_pair_box():
    h, w = 16, 24
    first, second, pair = _square(h, w, 4, 12, 2, 10), _square(h, w, 4, 12, 13, 21), _square(h, w, 4, 12, 2, 21)
    prms = np.stack(
        [
            np.where(first, 0.55, 0.0) + np.where(second, 0.45, 0.0),
            np.where(first, 0.4, 0.0) + np.where(second, 0.6, 0.0),
        ]
    ).astype(np.float32)  # each peak spills a good part of its response onto its neighbour
    peaks, crm = np.array([[0, 8, 6], [0, 8, 17]]), np.zeros((1, 4, 4))

    def best(competition: float) -> list[np.ndarray]:
        match = MatchParams(1.0, 0.0, 3, competition=Competition(competition))
        pgt = image_pseudo_gt(peaks, prms, crm, np.stack([pair, first, second]), 1, match, 0.2)
        return [pgt.masks[c] for c in pgt.candidates[:, 0]]

    assert all(np.array_equal(mask, pair) for mask in best(0.0))
    own = best(1.0)
    np.testing.assert_array_equal(own[0], first)
    np.testing.assert_array_equal(own[1], second)
