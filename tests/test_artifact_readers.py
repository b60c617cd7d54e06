"""The typed readers of the ``prm`` and ``pseudo_gt`` artifacts: round trips and missing datasets."""

import h5py
import numpy as np
import pytest

from iam.errors import ArtifactError
from iam.io.h5 import open_artifact, write_artifact
from iam.io.prm import KIND as PRM
from iam.io.prm import PRMRecord, read_prm, write_prm
from iam.io.pseudo_gt import KIND as PSEUDO_GT
from iam.io.pseudo_gt import PseudoGT, read_pseudo_gt, write_pseudo_gt


def _record(rng: np.random.Generator) -> PRMRecord:
    prm = rng.random((2, 5, 6)).astype(np.float32)
    return PRMRecord(
        peaks=np.array([[0, 1, 2], [2, 4, 5]], np.int64),
        peak_scores=np.array([0.5, 1.5], np.float32),
        prm=prm / prm.sum(axis=(1, 2), keepdims=True),
        class_scores=rng.standard_normal(3).astype(np.float32),
        crm=rng.standard_normal((3, 2, 2)).astype(np.float32),
    )


def test_prm_round_trip_keeps_the_stored_dtypes(tmp_path):
    record = _record(np.random.default_rng(0))
    with write_artifact(tmp_path / "p.h5", PRM, "test") as f:
        write_prm(f, "img", record).attrs["time_forward"] = 0.25
        write_prm(f, "untimed", record)
    with open_artifact(tmp_path / "p.h5", PRM) as f:
        stored = read_prm(f, "img")
        np.testing.assert_array_equal(stored.peaks, record.peaks)
        np.testing.assert_array_equal(stored.peak_scores, record.peak_scores)
        np.testing.assert_array_equal(stored.class_scores, record.class_scores)
        np.testing.assert_array_equal(stored.prm, record.prm.astype(np.float16))
        np.testing.assert_array_equal(stored.crm, record.crm.astype(np.float16))
        np.testing.assert_array_equal(stored.crm_of(2), stored.crm[2])
        assert (stored.prm.dtype, stored.crm.dtype, stored.peaks.dtype) == (np.float16, np.float16, np.int64)
        assert stored.shape == (5, 6) and stored.time_forward == 0.25
        assert read_prm(f, "untimed").time_forward is None


def test_pseudo_gt_round_trip(tmp_path):
    masks = np.zeros((3, 4, 4), bool)
    masks[0, :2], masks[1, 2:], masks[2, :, :1] = True, True, True
    pgt = PseudoGT(
        peaks=np.array([[0, 1, 1], [1, 3, 3]], np.int64),
        masks=masks,
        candidates=np.array([[0, 2], [-1, -1]], np.int64),
        candidate_scores=np.array([[0.9, 0.1], [np.nan, np.nan]], np.float32),
    )
    with write_artifact(tmp_path / "g.h5", PSEUDO_GT, "test") as f:
        group = write_pseudo_gt(f, "img", pgt)
        assert group.attrs["n_without_candidates"] == pgt.n_without_candidates == 1
    with open_artifact(tmp_path / "g.h5", PSEUDO_GT) as f:
        stored = read_pseudo_gt(f, "img")
        np.testing.assert_array_equal(stored.peaks, pgt.peaks)
        np.testing.assert_array_equal(stored.prm_index, [0, 1])
        np.testing.assert_array_equal(stored.masks, masks.astype(np.uint8))
        np.testing.assert_array_equal(stored.candidates, pgt.candidates)
        np.testing.assert_array_equal(stored.candidate_scores, pgt.candidate_scores)
        assert stored.masks.dtype == np.uint8 and stored.n_masks == 3


@pytest.mark.parametrize("opener", [lambda p: open_artifact(p, PRM), lambda p: h5py.File(p, "r")])
def test_missing_dataset_or_image_names_the_file_and_what_is_missing(tmp_path, opener):
    with write_artifact(tmp_path / "p.h5", PRM, "test") as f:
        del write_prm(f, "img", _record(np.random.default_rng(1)))["crm"]
    with opener(tmp_path / "p.h5") as f:
        stored = read_prm(f, "img")
        assert stored.peaks.shape == (2, 3)  # the other datasets still read
        with pytest.raises(ArtifactError, match=r"p\.h5: group '/img' has no 'crm'"):
            _ = stored.crm
        with pytest.raises(ArtifactError, match=r"p\.h5: the file has no 'other'"):
            read_prm(f, "other")
