"""The PRM oracle diagnostic: each PRM cut to its own GT instance, and the artifact that carries them."""

import numpy as np

from iam.data.voc import GTInstances
from iam.evaluation.prm_oracle import cut_to_instances, write_cut_prms
from iam.io.h5 import open_artifact, write_artifact
from iam.io.prm import KIND, PRMRecord, read_prm, write_prm
from iam.names import PRM_ORACLE, derived_method, parse_derived, parse_method, parse_self_trained


def _gt() -> GTInstances:
    masks = np.zeros((3, 6, 6), bool)
    masks[0, :3, :3] = True  # class 0
    masks[1, 3:, 3:] = True  # class 0 too
    masks[2, :3, 3:] = True  # class 1
    return GTInstances(masks, np.array([0, 0, 1]), np.zeros((6, 6), bool))


def _prms() -> tuple[np.ndarray, np.ndarray]:
    prm = np.zeros((3, 6, 6), np.float32)
    prm[0, 4, 4], prm[0, 0, 0], prm[0, 3, 0] = 0.5, 0.2, 0.3  # most on instance 1, some on 0, some off
    prm[1, 0, 5], prm[1, 5, 0] = 0.25, 0.75  # class 1: a quarter on its instance
    prm[2, 2, 2] = 1.0  # class 2 is not in the image
    return np.array([[0, 4, 4], [1, 0, 5], [2, 2, 2]]), prm


def test_each_prm_keeps_only_its_own_instance_and_sums_to_one():
    peaks, prm = _prms()
    cut = cut_to_instances(peaks, prm, _gt())
    expected = np.zeros_like(prm)
    expected[0, 4, 4] = 1.0  # the same-class instance holding most of the mass, not instance 0
    expected[1, 0, 5] = 1.0
    expected[2] = prm[2]  # class absent: as it was
    np.testing.assert_allclose(cut, expected)
    assert cut.dtype == np.float32


def test_cut_prms_artifact_keeps_peaks_scores_and_times(tmp_path):
    peaks, prm = _prms()
    src, out = tmp_path / "prm.h5", tmp_path / "cut.h5"
    record = PRMRecord(peaks, np.array([1.0, 2.0, 3.0]), prm, np.ones(3), np.zeros((3, 2, 2)))
    with write_artifact(src, KIND, "extract_prm") as f:
        write_prm(f, "a", record).attrs["time_forward"] = 0.25
    write_cut_prms(src, ["a"], lambda image_id: _gt(), out)
    with open_artifact(out, KIND) as f:
        stored = read_prm(f, "a")
        np.testing.assert_array_equal(stored.peaks, peaks)
        np.testing.assert_array_equal(stored.peak_scores, [1.0, 2.0, 3.0])
        assert stored.prm[0, 4, 4] == 1.0 and stored.prm[0].sum() == 1.0
        assert stored.times == {"time_prm": 0.25}


def test_oracle_method_name_round_trips_and_is_no_other_method():
    name = derived_method(5, PRM_ORACLE)
    assert name == "iam_s5_prm_oracle" and parse_derived(name, PRM_ORACLE) == 5
    assert parse_method(name) is None and parse_self_trained(name) is None
    assert parse_derived("iam_s5", PRM_ORACLE) is None
