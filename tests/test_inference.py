"""IAM inference: instances from IAMs (threshold, score, NMS), CRF and no-CRF files, bad PRMs, one forward."""

import cv2
import numpy as np
import torch

from iam.crf.convcrf import CRFParams
from iam.inference import InferenceParams, fill_iams, foreground, infer_split, instances, predict_iams
from iam.io.h5 import open_artifact, put, write_artifact
from iam.io.instances import get_classes, read_instances
from iam.models.backbone import PeakBackbone
from iam.models.filling import FillingModule
from iam.prm.backprop import probabilistic
from iam.prm.extract import PeakRule, image_prm
from test_filler_training import SIZE, TinyBackbone

PARAMS = InferenceParams(mask_threshold=0.5, nms_iou=0.5, crf=CRFParams(filter_size=5, iterations=2))


def test_instances_threshold_score_and_classwise_nms():
    probs = np.zeros((4, 10, 10), np.float32)
    probs[0, :5] = probs[1, :5] = probs[2, :5] = 0.9  # 0 and 1 duplicate; 2 same place, other class
    probs[1, 5] = 0.9
    iams = probs.copy()
    masks = foreground(probs, PARAMS)
    inst, source = instances(masks, iams, np.array([0, 0, 1, 0]), np.array([2.0, 0.0, 0.0, 5.0]), PARAMS)
    assert sorted(inst.labels.tolist()) == [0, 1]  # 1 suppressed by 0, 3 has an empty mask
    assert sorted(source.tolist()) == [0, 2]  # each instance remembers its peak (for its soft map)
    top = int(np.argmax(inst.scores))
    assert inst.labels[top] == 0 and inst.masks[top].sum() == 50
    np.testing.assert_allclose(inst.scores[top], 0.9 / (1 + np.exp(-2.0)), rtol=1e-6)


def test_relative_threshold_cuts_each_map_at_a_fraction_of_its_maximum():
    probs = np.zeros((3, 4, 4), np.float32)
    probs[0, 0, :] = [0.4, 0.3, 0.1, 0.0]  # peaks below 0.5: empty with the absolute threshold
    probs[1, 1, :2] = [0.9, 0.5]
    relative = InferenceParams(mask_threshold=0.5, threshold_mode="relative")
    masks = foreground(probs, relative)
    assert masks[0, 0].tolist() == [True, True, False, False] and masks[0].sum() == 2
    assert masks[1].sum() == 2 and not masks[2].any()  # an all-zero map stays empty
    assert not foreground(probs, PARAMS)[0].any()


def write_inputs(tmp_path):
    voc = tmp_path / "voc"
    (voc / "JPEGImages").mkdir(parents=True)
    image = np.zeros((36, 44, 3), np.uint8)
    image[8:24, 10:30] = 255
    for image_id in ("a", "b"):
        cv2.imwrite(str(voc / "JPEGImages" / f"{image_id}.jpg"), image)
    prms = np.zeros((3, 36, 44), np.float32)
    prms[0, 15, 20] = prms[2, 12, 15] = 1.0  # prm 1 is all zero
    with write_artifact(tmp_path / "prm.h5", "prm", "test") as f:
        g = f.create_group("a")
        put(g, "peaks", np.array([[0, 15, 20], [1, 5, 5], [2, 12, 15]]))
        put(g, "peak_scores", np.array([1.0, 1.0, 0.5]))
        put(g, "prm", prms, half=True)
        g = f.create_group("b")  # no peaks
        put(g, "peaks", np.zeros((0, 3), np.int64))
        put(g, "peak_scores", np.zeros(0))
        put(g, "prm", np.zeros((0, 36, 44)), half=True)
    return voc


def test_infer_split_writes_crf_and_nocrf_files_at_image_size(tmp_path):
    voc = write_inputs(tmp_path)
    torch.manual_seed(0)
    filler = FillingModule({"res2": 6, "res3": 8, "res4": 10}, channels=4, pyramid_channels=8)
    with torch.no_grad():
        filler.decoder[-1].bias.fill_(3.0)  # confident IAMs, so masks are non-empty
    infer_split(
        TinyBackbone(),
        filler,
        SIZE,
        tmp_path / "prm.h5",
        voc,
        ["a", "b"],
        tmp_path / "val.h5",
        tmp_path / "val.nocrf.h5",
        ["x", "y", "z"],
        PARAMS,
        torch.device("cpu"),
    )
    for name, crf in (("val.h5", True), ("val.nocrf.h5", False)):
        with open_artifact(tmp_path / name, "instances") as f:
            assert get_classes(f) == ["x", "y", "z"] and list(f) == ["a", "b"]
            inst = read_instances(f, "a")
            assert inst.masks.shape[1:] == (36, 44) and len(inst) >= 1
            assert set(inst.labels.tolist()) <= {0, 2}  # the all-zero PRM (class 1) is dropped
            assert f["a/soft"].shape == (len(inst), 36, 44)  # one soft map per instance
            assert f["a"].attrs["time_fill"] > 0 and (f["a"].attrs["time_crf"] > 0) == crf
            assert len(read_instances(f, "b")) == 0


def test_filling_the_prm_forward_features_equals_a_second_forward():
    torch.manual_seed(0)
    backbone = PeakBackbone("resnet10", 3).eval()
    filler = FillingModule({"res2": 64, "res3": 128, "res4": 256}, channels=4, pyramid_channels=8).eval()
    image = np.random.default_rng(0).integers(0, 256, (40, 52, 3), dtype=np.uint8)
    prm = image_prm(probabilistic(backbone), image, None, SIZE, PeakRule(False, -np.inf, -np.inf, 2))
    assert len(prm.peaks) and set(prm.features) == {"image", "res2", "res3", "res4"}
    once = fill_iams(prm.prm, prm.features, filler, SIZE, image.shape[:2])
    twice = predict_iams(image, prm.prm, backbone, filler, SIZE, torch.device("cpu"))
    assert once.shape == (len(prm.peaks), 40, 52)
    np.testing.assert_allclose(once, twice, rtol=1e-4, atol=1e-5)
