"""Mask stability in IAM inference (``inference.stability_score``, ``agreement_score``): a mask whose
outline sits where its IAM drops steeply, and which the CRF leaves in place, outranks one on a slope."""

from dataclasses import replace
from unittest import mock

import numpy as np
import torch

import iam.inference
from iam.crf.convcrf import CRFParams
from iam.inference import Cuts, InferenceParams, infer_image, score_factors
from iam.mask_stability import cut_stability, pair_iou
from test_filler_training import SIZE, TinyBackbone
from test_prm_competition import two_peaks


def step_and_ramp(size: int = 40) -> np.ndarray:
    """(2, size, size): a plateau that drops to 0 at its edge, and a map that falls linearly with the column."""
    step = np.zeros((size, size), np.float32)
    step[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 1.0
    ramp = np.tile(np.linspace(1.0, 0.0, size, dtype=np.float32), (size, 1))
    return np.stack([step, ramp])


def test_pair_iou_is_the_iou_of_same_index_masks():
    a = np.zeros((3, 4, 4), bool)
    b = np.zeros((3, 4, 4), bool)
    a[0, :2], b[0, :1] = True, True  # 4 of 8 pixels shared
    a[1], b[1] = True, True
    np.testing.assert_allclose(pair_iou(a, b), [0.5, 1.0, 0.0])  # both empty: 0


def test_a_steep_outline_is_stable_and_a_slope_is_not():
    maps = step_and_ramp()
    stable, sloped = cut_stability(maps, np.array([0.5, 0.5]), 0.1)
    assert stable == 1.0
    columns = np.linspace(1.0, 0.0, 40)  # the ramp's cuts keep the columns at or above 0.4 and 0.6 of it
    assert np.isclose(sloped, (columns >= 0.6 - 1e-6).sum() / (columns >= 0.4 - 1e-6).sum(), atol=0.03)
    assert cut_stability(maps, np.array([0.5, 0.5]), 0.2)[1] < sloped  # a wider band moves it more
    assert cut_stability(np.zeros((0, 40, 40), np.float32), np.zeros(0), 0.1).shape == (0,)


def test_factors_multiply_the_kept_share_by_stability_and_crf_agreement():
    iams = step_and_ramp()
    raw = iams >= 0.5
    refined = raw.copy()
    refined[0, 10:20] = False  # the CRF halves the first mask and leaves the second
    cuts = Cuts(raw, refined, None, np.array([0.5, 0.5]))
    kept = np.array([0.5, 1.0])
    base = InferenceParams(crf=CRFParams(), kept_score=True)
    np.testing.assert_allclose(score_factors(iams, cuts, kept, base), [kept, kept])
    stability = cut_stability(iams, cuts.levels, 0.1)
    on = replace(base, stability_score=True, agreement_score=True)
    no_crf, crf = score_factors(iams, cuts, kept, on)
    np.testing.assert_allclose(no_crf, kept * stability)
    np.testing.assert_allclose(crf, kept * stability * [0.5, 1.0])
    without_crf = replace(on, crf=None)  # no CRF, nothing to agree with
    np.testing.assert_allclose(score_factors(iams, cuts, kept, without_crf)[1], kept * stability)


def test_infer_image_scores_carry_the_stability_factor():
    filler, image, prms, peaks = two_peaks()
    iams = step_and_ramp(image.shape[0])  # the filler's IAMs of the two peaks (other classes: no NMS)
    params = InferenceParams(mask_threshold=0.5, threshold_mode="relative", crf=None)

    def scored(p: InferenceParams) -> dict[int, float]:
        with mock.patch.object(iam.inference, "predict_iams", lambda *_: iams):
            res = infer_image(image, peaks, np.ones(2), prms, TinyBackbone(), filler, SIZE, p, torch.device("cpu"))
        return dict(zip(res.raw_source.tolist(), res.without_crf.scores.tolist()))

    plain, stable = scored(params), scored(replace(params, stability_score=True, stability_delta=0.2))
    factor = cut_stability(iams, np.array([0.5, 0.5]), 0.2)
    assert plain.keys() == stable.keys() == {0, 1} and factor[0] == 1 and factor[1] < 0.6
    for source, score in plain.items():
        assert np.isclose(stable[source], score * factor[source], rtol=1e-5)
