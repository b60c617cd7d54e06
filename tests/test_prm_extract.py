"""PRM extraction: the HDF5 artifact round trip, peak selection, shard merge and rendering."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from iam.data.benchmark import generate_benchmark
from iam.data.transforms import to_tensor
from iam.data.voc import read_image, read_image_labels, read_split
from iam.io.h5 import image_ids, merge_shards, open_artifact
from iam.io.prm import read_prm
from iam.models.backbone import PeakBackbone
from iam.prm.extract import PeakRule, class_peaks, extract_split, peak_classes, select_peaks, to_original
from iam.prm.show import render_prm
from iam.workflow import shard_ids

CLASSES = ["bird", "cat", "cow"]
PARAMS = {
    "image_size": 48,
    "n_train": 4,
    "n_val": 3,
    "n_loc_test": 1,
    "n_saliency_test": 1,
    "min_instances": 1,
    "max_instances": 3,
    "jpeg_quality": 92,
}
SIZE = 32


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    out = tmp_path_factory.mktemp("prm")
    generate_benchmark(out, CLASSES, PARAMS, seed=7)
    torch.manual_seed(0)
    return out / "VOC2012", PeakBackbone("resnet18", len(CLASSES)).eval(), out


def test_train_artifact_round_trip(setup):
    voc, model, out = setup
    ids = read_split(voc, "train")
    peak_rule = PeakRule(True, 0.0, 1e9, 3)  # threshold above every peak: only the labelled classes' best
    extract_split(model, voc, ids, CLASSES, SIZE, peak_rule, out / "train.h5", params={"voc_root": str(voc)})
    with open_artifact(out / "train.h5", "prm") as f:
        assert image_ids(f) == ids and json.loads(f.attrs["classes"]) == CLASSES
        for image_id in ids:
            stored, image = read_prm(f, image_id), read_image(voc, image_id)
            h, w = image.shape[:2]
            assert stored.shape == (h, w)
            peaks, prm = stored.peaks, stored.prm
            assert peaks[:, 0].tolist() == np.flatnonzero(read_image_labels(voc, image_id, CLASSES)).tolist()
            assert prm.shape == (len(peaks), h, w) and prm.dtype == np.float16
            np.testing.assert_allclose(prm.astype(np.float64).sum(axis=(1, 2)), 1.0, atol=2e-3)
            with torch.no_grad():
                ref = model(to_tensor(image, SIZE)[None])
            np.testing.assert_allclose(stored.class_scores, ref.scores[0].numpy(), rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(stored.crm, ref.crm[0].numpy(), rtol=1e-2, atol=1e-2)
            response = F.interpolate(ref.crm, size=(SIZE, SIZE), mode="bilinear", align_corners=False)[0]
            best = response.flatten(1).amax(1).numpy()[peaks[:, 0]]
            np.testing.assert_allclose(stored.peak_scores, best, rtol=1e-4)


def test_val_uses_class_threshold_and_shards_merge_in_split_order(setup):
    voc, model, out = setup
    ids = read_split(voc, "val")
    peak_rule = PeakRule(False, -1e9, -1e9, 2)  # every class, two peaks each
    for i in range(2):
        extract_split(model, voc, shard_ids(ids, i, 2), CLASSES, SIZE, peak_rule, out / f"val{i}.h5")
    merge_shards([out / "val0.h5", out / "val1.h5"], out / "val.h5", "prm", order=ids)
    with open_artifact(out / "val.h5", "prm") as f:
        assert image_ids(f) == ids
        assert [sorted(set(read_prm(f, i).peaks[:, 0])) for i in ids] == [[0, 1, 2]] * len(ids)
    top_only = PeakRule(False, 1e9, -1e9, 2)  # no class above the threshold: the top-scoring one
    extract_split(model, voc, ids[:1], CLASSES, SIZE, top_only, out / "top.h5")
    with open_artifact(out / "top.h5", "prm") as f:
        assert len(set(read_prm(f, ids[0]).peaks[:, 0])) == 1
    unreachable = PeakRule(False, 1e9, 1e9, 2)  # the stand-in class keeps its best peak all the same
    extract_split(model, voc, ids[:1], CLASSES, SIZE, unreachable, out / "best.h5")
    with open_artifact(out / "best.h5", "prm") as f:
        stored = read_prm(f, ids[0])
        assert stored.peaks.shape == (1, 3) and stored.prm.shape[0] == 1 and stored.prm.max() > 0


@pytest.mark.parametrize("native", [True, False])
def test_bfloat16_extraction_keeps_peaks_and_warns_only_without_native_support(setup, monkeypatch, caplog, native):
    voc, model, out = setup
    ids = read_split(voc, "val")[:2]
    peak_rule = PeakRule(False, -1e9, -1e9, 2)
    extract_split(model, voc, ids, CLASSES, SIZE, peak_rule, out / "f32.h5")
    monkeypatch.setattr("iam.prm.extract.has_fast_bfloat16", lambda device: native)
    caplog.clear()
    extract_split(model, voc, ids, CLASSES, SIZE, peak_rule, out / "bf16.h5", dtype=torch.bfloat16)
    assert ("without native bfloat16" in caplog.text) is not native
    with open_artifact(out / "f32.h5", "prm") as a, open_artifact(out / "bf16.h5", "prm") as b:
        for i in ids:
            np.testing.assert_array_equal(read_prm(a, i).peaks, read_prm(b, i).peaks)
            pa, pb = read_prm(a, i).prm.astype(np.float64), read_prm(b, i).prm.astype(np.float64)
            assert 0 < np.abs(pa - pb).sum() < 0.02 * np.abs(pa).sum()


def test_contrastive_extraction_keeps_the_forward_and_changes_the_maps(setup):
    """prm.contrast: the same peaks (unrefined), class scores and CRMs as the plain pass; other maps,
    each still a distribution."""
    voc, model, out = setup
    ids = read_split(voc, "val")[:2]
    peak_rule = PeakRule(False, -1e9, -1e9, 2, refine=False)
    extract_split(model, voc, ids, CLASSES, SIZE, peak_rule, out / "plain.h5")
    extract_split(model, voc, ids, CLASSES, SIZE, peak_rule, out / "contrast.h5", contrast="res3")
    with open_artifact(out / "plain.h5", "prm") as a, open_artifact(out / "contrast.h5", "prm") as b:
        for i in ids:
            plain, contrast = read_prm(a, i), read_prm(b, i)
            np.testing.assert_array_equal(plain.peaks, contrast.peaks)
            np.testing.assert_array_equal(plain.class_scores, contrast.class_scores)
            np.testing.assert_allclose(plain.crm, contrast.crm, atol=1e-3)
            pa, pb = plain.prm.astype(np.float64), contrast.prm.astype(np.float64)
            np.testing.assert_allclose(pb.sum(axis=(1, 2)), 1.0, atol=2e-3)
            assert (pb >= 0).all() and np.abs(pa - pb).sum() > 0.05 * len(pa)


def test_class_peaks_thresholds_and_keeps_labelled_best():
    m = np.full((6, 6), -5.0, np.float32)
    m[1, 1], m[4, 4] = -1.0, -2.0
    assert class_peaks(m, PeakRule(False, 0.0, 0.0, 5)).tolist() == []
    assert class_peaks(m, PeakRule(True, 0.0, 0.0, 5), keep_best=True).tolist() == [[1, 1]]
    assert class_peaks(m, PeakRule(False, 0.0, -1.5, 5)).tolist() == [[1, 1]]
    assert class_peaks(m, PeakRule(True, 0.0, -2.5, 5), keep_best=True).tolist() == [[1, 1], [4, 4]]
    assert class_peaks(m, PeakRule(True, 0.0, -2.5, 1), keep_best=True).tolist() == [[1, 1]]


def test_peaks_scale_to_original_pixels():
    peaks = np.array([[0, 0, 0], [1, 31, 15], [2, 16, 31]])
    assert to_original(peaks, 32, 64, 96).tolist() == [[0, 1, 1], [1, 63, 46], [2, 33, 94]]


def test_render_prm(setup):
    voc, _, out = setup
    render_prm(out / "train.h5", voc, read_split(voc, "train")[0], out / "show.png")
    assert (out / "show.png").read_bytes()[:4] == b"\x89PNG"


def test_without_a_class_above_threshold_the_top_class_stands_in_and_keeps_its_best_peak():
    scored, labelled = PeakRule(False, 0.0, 0.0, 3), PeakRule(True, 0.0, 0.0, 3)
    classes, keep_best = peak_classes(np.array([-2.0, 0.5, 1.0]), None, scored)
    assert classes.tolist() == [1, 2] and not keep_best
    classes, keep_best = peak_classes(np.array([-2.0, -0.5, -1.0]), None, scored)
    assert classes.tolist() == [1] and keep_best
    assert peak_classes(np.zeros(0), None, scored)[0].tolist() == []
    classes, keep_best = peak_classes(np.array([5.0, -1.0]), np.array([0, 1]), labelled)
    assert classes.tolist() == [1] and keep_best
    crm = np.full((3, 6, 6), -5.0, np.float32)
    crm[1, 2, 3] = -1.0  # the stand-in class's map is below the peak threshold everywhere
    peaks = select_peaks(crm, *peak_classes(np.array([-2.0, -0.5, -1.0]), None, scored), scored)
    assert peaks.tolist() == [[1, 2, 3]]


def test_peak_rule_from_config_reads_every_key_and_tolerates_the_training_splits_missing_threshold():
    prm = {"class_threshold": -1.0, "peak_threshold": 0.5, "max_peaks": 2, "refine_peaks": False}
    assert PeakRule.from_config(prm, use_labels=False) == PeakRule(False, -1.0, 0.5, 2, False)
    train = {k: v for k, v in prm.items() if k != "class_threshold"}  # rules/common.smk: prm_params
    assert PeakRule.from_config(train, use_labels=True) == PeakRule(True, None, 0.5, 2, False)
