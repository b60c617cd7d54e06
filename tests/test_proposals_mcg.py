"""MCG/COB .mat ingestion (v5 and v7.3, exact release layouts), malformed files, HDF5 storage."""

import h5py
import numpy as np
import pytest
import scipy.io

from iam.errors import InputError
from iam.io.h5 import open_artifact
from iam.proposals.ingest import ingest
from iam.proposals.mcg import from_lists, read_mcg, write_mcg
from iam.proposals.store import iter_masks, read_proposals

# 3x4 image, 3 superpixels (MATLAB 1-based ids); proposals listed in file order with their scores
SUPERPIXELS = np.array([[1, 1, 2, 2], [1, 3, 3, 2], [3, 3, 3, 2]], dtype=np.uint16)
LABELS = [[1, 2], [3], [2, 3], [1, 2, 3]]
SCORES = [0.5, 0.9, 0.1, 0.7]


def _expected_masks(order):
    return np.stack([np.isin(SUPERPIXELS, LABELS[j]) for j in order])


def _cells(labels):
    cells = np.empty((len(labels), 1), dtype=object)
    for j, lab in enumerate(labels):
        cells[j, 0] = np.array(lab, dtype=np.double)[None, :]
    return cells


def _mcg_fields(labels=LABELS, scores=SCORES, superpixels=SUPERPIXELS):
    return {
        "superpixels": superpixels,
        "labels": _cells(labels),
        "scores": np.array(scores)[:, None],
        "bboxes": np.ones((len(labels), 4)),
    }


def write_v5(path, cob=False, **kw):
    fields = _mcg_fields(**kw)
    mat = {"proposals": fields, "ucm2": np.zeros((7, 9)), "times": np.zeros(1)} if cob else fields
    scipy.io.savemat(path, mat)


def _matlab_array(group, name, array, cls):
    ds = group.create_dataset(name, data=np.asarray(array).T)  # MATLAB is column-major
    ds.attrs["MATLAB_class"] = np.bytes_(cls)


def write_v73(path, cob=False, labels=LABELS, scores=SCORES, superpixels=SUPERPIXELS):
    """HDF5 as MATLAB's `save -v7.3` writes it: transposed arrays, cells as refs into #refs#."""
    with h5py.File(path, "w", userblock_size=512) as f:
        root = f.create_group("proposals") if cob else f
        if cob:
            root.attrs["MATLAB_class"] = np.bytes_("struct")
        _matlab_array(root, "superpixels", superpixels, "uint16")
        _matlab_array(root, "scores", np.array(scores)[:, None], "double")
        refs_group = f.create_group("#refs#")
        refs = [
            refs_group.create_dataset(f"r{j}", data=np.array(lab, np.double)[None, :].T).ref
            for j, lab in enumerate(labels)
        ]
        cells = root.create_dataset("labels", data=np.array(refs, dtype=h5py.ref_dtype)[None, :])
        cells.attrs["MATLAB_class"] = np.bytes_("cell")
    with open(path, "r+b") as fh:
        fh.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(116, b" "))


@pytest.mark.parametrize("writer", [write_v5, write_v73], ids=["v5", "v7.3"])
@pytest.mark.parametrize("cob", [False, True], ids=["mcg", "cob"])
def test_release_layouts_read_back_to_the_right_masks(tmp_path, writer, cob):
    path = tmp_path / "2008_000001.mat"
    writer(path, cob=cob)
    props = read_mcg(path, image_shape=(3, 4))
    order = [1, 3, 0, 2]  # by descending score
    np.testing.assert_array_equal(props.masks(), _expected_masks(order))
    np.testing.assert_allclose(props.scores, np.array(SCORES)[order])


def test_max_per_image_keeps_the_best(tmp_path):
    path = tmp_path / "a.mat"
    write_v5(path)
    props = read_mcg(path, max_per_image=2)
    np.testing.assert_array_equal(props.masks(), _expected_masks([1, 3]))


@pytest.mark.parametrize(
    ("kwargs", "shape", "problem"),
    [
        ({"labels": [[1], [4]], "scores": [1, 2]}, None, "outside 1..3"),
        ({"labels": [], "scores": []}, None, "zero proposals"),
        ({}, (5, 4), r"image is \(5, 4\)"),
    ],
)
def test_malformed_files_name_the_file_and_problem(tmp_path, kwargs, shape, problem):
    path = tmp_path / "bad.mat"
    write_v5(path, **kwargs)
    with pytest.raises(InputError, match=problem) as err:
        read_mcg(path, image_shape=shape)
    assert str(path) in str(err.value)


def test_missing_labels_is_an_input_error(tmp_path):
    path = tmp_path / "nolabels.mat"
    scipy.io.savemat(path, {"superpixels": SUPERPIXELS, "scores": np.ones((2, 1))})
    with pytest.raises(InputError, match=r"missing field.*labels") as err:
        read_mcg(path)
    assert "nolabels.mat" in str(err.value)


def test_missing_labels_v73(tmp_path):
    path = tmp_path / "nolabels73.mat"
    write_v73(path)
    with h5py.File(path, "r+") as f:
        del f["labels"]
    with pytest.raises(InputError, match="labels"):
        read_mcg(path)


def test_write_mcg_round_trips(tmp_path):
    props = from_lists(np.array([[0, 1], [2, 2]]), [np.array([0, 2]), np.array([1])], np.array([0.3, 0.2]))
    write_mcg(tmp_path / "x.mat", props)
    back = read_mcg(tmp_path / "x.mat")
    np.testing.assert_array_equal(back.masks(), props.masks())
    assert scipy.io.loadmat(tmp_path / "x.mat")["superpixels"].min() == 1  # MATLAB 1-based on disk


def test_ingest_stores_masks_that_decode_in_chunks(tmp_path):
    for image_id in ("a", "b"):
        write_v5(tmp_path / f"{image_id}.mat")
    out = tmp_path / "proposals.h5"
    ingest(tmp_path, ["a", "b"], lambda _: (3, 4), out, max_per_image=3, params={"max_per_image": 3})
    with open_artifact(out, "proposals") as f:
        masks, scores = read_proposals(f, "b")
        np.testing.assert_array_equal(masks, _expected_masks([1, 3, 0]))
        chunks = list(iter_masks(f, "b", chunk=2))
    assert [start for start, _ in chunks] == [0, 2]
    np.testing.assert_array_equal(np.concatenate([c for _, c in chunks]), masks)


def test_ingest_names_a_missing_file(tmp_path):
    with pytest.raises(InputError, match="missing.mat"):
        ingest(tmp_path, ["missing"], lambda _: (3, 4), tmp_path / "o.h5", max_per_image=3)
    assert not (tmp_path / "o.h5").exists()


def test_render_proposals_writes_a_grid_png(tmp_path):
    import cv2

    from iam.proposals.show import render_proposals

    write_v5(tmp_path / "a.mat")
    ingest(tmp_path, ["a"], lambda _: (3, 4), tmp_path / "p.h5", max_per_image=4)
    render_proposals(tmp_path / "p.h5", "a", tmp_path / "a.png", top=3)
    png = cv2.imread(str(tmp_path / "a.png"))
    assert png.shape == (3, 4 * 4, 3)  # one row of 4 tiles (3 proposals + 1 blank)
    assert (png[:, 12:] == 0).all() and (png[:, :12] != 128).any()
