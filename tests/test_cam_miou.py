"""CAM pseudo-mask mIoU: the background score decides where a weak CAM stops, absent classes do
not count, and the artifact path reads the CRMs of the image's GT classes."""

import json

import numpy as np
import pytest

from iam.data.voc import GTInstances
from iam.evaluation.cam_miou import THRESHOLDS, cam_confusion, cam_miou, miou
from iam.io.h5 import put, write_artifact


def _gt() -> GTInstances:
    masks = np.zeros((1, 4, 4), bool)
    masks[0, :, :2] = True  # class 1 on the left half
    return GTInstances(masks, np.array([1]), np.zeros((4, 4), bool))


def _cam() -> np.ndarray:
    cam = np.full((1, 4, 4), 0.12, np.float32)  # a weak response on the background half
    cam[0, :, :2] = 1.0
    return cam


def test_background_score_cuts_the_weak_response():
    scores = miou(cam_confusion(_cam(), np.array([1]), _gt(), n_classes=3))
    low, high = list(THRESHOLDS).index(0.05), list(THRESHOLDS).index(0.15)
    assert scores[low] == pytest.approx(0.25)  # all class 1: IoU 1/2, background 0
    assert scores[high] == pytest.approx(1.0)  # classes 0 and 2 never occur and are not averaged


def test_void_pixels_are_ignored():
    gt = _gt()
    gt.void[:, 2:] = True
    assert miou(cam_confusion(_cam(), np.array([1]), gt, n_classes=3))[0] == pytest.approx(1.0)


def test_artifact_reads_the_gt_classes_crm(tmp_path):
    path = tmp_path / "train.h5"
    crm = np.zeros((3, 2, 2), np.float32)
    crm[1, :, 0] = 1.0  # class 1 left, class 2 (not in the image) everywhere
    crm[2] = 5.0
    with write_artifact(path, "prm", "test") as f:
        f.attrs["classes"] = json.dumps(["a", "b", "c"])
        g = f.create_group("img")
        g.attrs["height"], g.attrs["width"] = 4, 4
        put(g, "crm", crm)
    result = cam_miou(path, lambda _: _gt(), n_classes=3)
    assert result["cam_miou"] > 0.5 and result["cam_threshold"] in THRESHOLDS
