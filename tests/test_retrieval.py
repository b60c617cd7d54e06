"""PRM retrieval baseline: background map, class-wise NMS, retrieval, artifact with timings."""

import json

import numpy as np

from iam.baselines.prm_retrieval import retrieve, retrieve_split
from iam.io.h5 import open_artifact, put, write_artifact
from iam.io.instances import read_instances
from iam.masks import mask_nms
from iam.proposals.mcg import from_lists
from iam.proposals.store import write_proposals
from iam.pseudo_gt.matching import background_map
from iam.pseudo_gt.scoring import MatchParams


def test_background_is_low_where_a_peak_class_responds():
    crm = np.zeros((3, 4, 4), np.float32)
    crm[1, 0, 0] = 2.0
    crm[2] = 5.0  # not a peak class: ignored
    bg = background_map(crm, np.array([1]), (8, 8))
    assert bg.shape == (8, 8) and bg[0, 0] < 0.1 and bg[7, 7] == 1.0


def test_nms_is_class_wise():
    m = np.zeros((3, 4, 4), bool)
    m[:, :2] = True
    keep = mask_nms(m, np.array([0, 0, 1]), np.array([0.5, 0.9, 0.1]), iou=0.5)
    np.testing.assert_array_equal(keep, [1, 2])


def _scene():
    h = w = 16
    sp = np.zeros((h, w), int)
    sp[:, 8:] = 1
    sp[8:, :8] = 2  # 0: top-left, 1: right half, 2: bottom-left
    props = from_lists(sp, [np.array([0]), np.array([1]), np.array([0, 1, 2]), np.array([0, 2])], np.ones(4))
    prm = np.zeros((2, h, w), np.float32)
    prm[0, 2:4, 2:4] = 1  # top-left
    prm[1, 4:6, 12:14] = 1  # right half
    crm = np.zeros((2, 4, 4), np.float32)
    crm[0, :2, :2] = crm[1, :, 2:] = 1
    return props, prm, crm, np.array([[0, 3, 3], [1, 5, 13]]), np.array([0.8, 0.6], np.float32)


def test_retrieve_picks_the_proposal_each_peak_sits_in():
    props, prm, crm, peaks, scores = _scene()
    inst = retrieve(
        peaks, scores, prm, crm, props.masks(), MatchParams(alpha=1.0, beta=0.5, contour_width=3), nms_iou=0.5
    )
    np.testing.assert_array_equal(inst.masks, props.masks()[[0, 1]])
    np.testing.assert_array_equal(inst.labels, [0, 1])
    np.testing.assert_allclose(inst.scores, scores)


def test_retrieve_split_records_timings(tmp_path):
    props, prm, crm, peaks, scores = _scene()
    with write_artifact(tmp_path / "prm.h5", "prm", "extract_prm") as f:
        g = f.create_group("a")
        for name, value in (("peaks", peaks), ("peak_scores", scores), ("prm", prm), ("crm", crm)):
            put(g, name, value)
    with write_artifact(tmp_path / "prop.h5", "proposals", "ingest_proposals") as f:
        write_proposals(f, "a", props)
    (tmp_path / "timing.json").write_text(json.dumps({"a": 0.25}))
    out = tmp_path / "ret.h5"
    retrieve_split(
        tmp_path / "prm.h5",
        tmp_path / "prop.h5",
        ["a"],
        out,
        ["c0", "c1"],
        MatchParams(1.0, 0.5, 3),
        0.5,
        timing_path=tmp_path / "timing.json",
    )
    with open_artifact(out, "instances") as f:
        assert len(read_instances(f, "a")) == 2
        assert f["a"].attrs["time_proposals"] == 0.25 and f["a"].attrs["time_retrieval"] > 0
