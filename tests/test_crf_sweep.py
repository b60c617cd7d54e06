"""benchmarks/crf_sweep.py: a grid mixes ConvCRF keys and mask keys, each set where the pipeline reads it."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
import crf_sweep  # noqa: E402

from iam.crf.convcrf import CRFParams
from iam.inference import InferenceParams


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
