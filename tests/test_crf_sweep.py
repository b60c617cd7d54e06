"""benchmarks/crf_sweep.py: a grid mixes ConvCRF keys and mask keys, each set where the pipeline reads it."""

import sys
from pathlib import Path
from unittest import mock

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
import crf_sweep  # noqa: E402

import iam.inference
from iam.crf.convcrf import CRFParams
from iam.data.maps import Competition
from iam.inference import InferenceParams, infer_image
from iam.proposal_snap import SnapParams, competing_iams
from test_filler_training import SIZE, TinyBackbone
from test_mask_stability import step_and_ramp
from test_prm_competition import two_peaks


def test_grid_keys_reach_the_crf_or_the_mask_settings():
    base = InferenceParams(0.5, 0.5, CRFParams(filter_size=11), "relative")
    grid = crf_sweep.settings(base, {"filter_size": [7, 11], "nms_iou": [0.5, 0.7]})
    assert set(grid) == {"no CRF", "config", "filter_size=7", "nms_iou=0.7", "filter_size=7, nms_iou=0.7"}
    assert grid["no CRF"].crf is None and grid["config"] == base
    assert grid["nms_iou=0.7"].nms_iou == 0.7 and grid["nms_iou=0.7"].crf == base.crf
    both = grid["filter_size=7, nms_iou=0.7"]
    assert both.crf is not None and both.crf.filter_size == 7 and both.nms_iou == 0.7
    assert both.crf.iterations == base.crf.iterations and both.mask_threshold == 0.5
    absolute = crf_sweep.settings(base, {"threshold_mode": ["absolute"]})["threshold_mode=absolute"]
    assert absolute.threshold_mode == "absolute" and absolute.crf == base.crf


def test_found_scores_and_cuts_as_infer_iam_writes_its_crf_file():
    filler, image, prms, peaks = two_peaks()
    iams = step_and_ramp(image.shape[0])
    params = InferenceParams(
        0.5, 0.5, CRFParams(filter_size=5, iterations=2), "edge", Competition(1.0), True, True,
        stability_score=True, agreement_score=True,
    )  # fmt: skip
    cpu = torch.device("cpu")
    with mock.patch.object(iam.inference, "predict_iams", lambda *_: iams):
        written = infer_image(image, peaks, np.array([1.0, 2.0]), prms, TinyBackbone(), filler, SIZE, params, cpu)
        snap = SnapParams(competition=params.competition, kept_score=True)
        live, maps, kept = competing_iams(image, peaks, prms, TinyBackbone(), filler, SIZE, snap, cpu)
    swept = crf_sweep.found(image, maps, peaks[live, 0], np.array([1.0, 2.0])[live], kept, params)
    assert len(swept) == len(written.with_crf) > 0
    np.testing.assert_array_equal(swept.masks, written.with_crf.masks)
    np.testing.assert_allclose(swept.scores, written.with_crf.scores, rtol=1e-6)
