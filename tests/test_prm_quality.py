"""GT diagnostics of peaks and PRMs: hand-made cases and a round trip through a prm artifact."""

import json

import numpy as np
import pytest

from iam.data.benchmark import generate_benchmark
from iam.data.voc import GTInstances, read_gt_instances, read_part_masks, read_split
from iam.evaluation.gt import instance_reader
from iam.evaluation.prm_quality import body_sides, peak_hits, prm_masses, prm_quality
from iam.io.h5 import put, write_artifact

CLASSES = ["bird", "cat"]


def _gt() -> GTInstances:
    masks = np.zeros((2, 6, 6), bool)
    masks[0, :3, :3] = True  # class 0
    masks[1, 3:, 3:] = True  # class 1
    return GTInstances(masks, np.array([0, 1]), np.zeros((6, 6), bool))


def test_peak_hits_need_the_peaks_class():
    peaks = np.array([[0, 1, 1], [1, 1, 1], [1, 4, 4], [0, 5, 0]])
    assert peak_hits(peaks, _gt()).tolist() == [[True, False], [False, False], [False, True], [False, False]]


def test_masses_split_part_body_outside_and_skip_absent_classes():
    parts = np.zeros((6, 6), np.uint8)
    parts[0, 0] = 1  # one part pixel of the 9-pixel class-0 instance
    prm = np.zeros((3, 6, 6), np.float32)
    prm[0, 0, 0], prm[0, 1, 1], prm[0, 5, 5] = 2.0, 1.0, 1.0  # part 1/2, body 1/4, outside 1/4
    prm[1, 4, 4] = 1.0
    peaks = np.array([[0, 0, 0], [1, 4, 4], [2, 0, 0]])  # class 2 is not in the image
    rows = prm_masses(peaks, prm, _gt(), parts)
    np.testing.assert_allclose(rows, [[0.5, 0.25, 0.25, 1 / 9], [0.0, 1.0, 0.0, 0.0]])


@pytest.fixture(scope="module")
def voc(tmp_path_factory):
    out = tmp_path_factory.mktemp("quality")
    params = {
        "image_size": 40,
        "n_train": 1,
        "n_val": 3,
        "n_loc_test": 1,
        "n_saliency_test": 1,
        "min_instances": 1,
        "max_instances": 2,
        "jpeg_quality": 92,
    }
    generate_benchmark(out, CLASSES, params, seed=2)
    return out / "VOC2012"


def test_prms_on_parts_score_full_part_mass(voc, tmp_path):
    path, ids = tmp_path / "val.h5", read_split(voc, "val")
    with write_artifact(path, "prm", "test") as f:
        f.attrs["classes"] = json.dumps(CLASSES)
        for image_id in ids:
            gt, parts = read_gt_instances(voc, image_id, CLASSES), read_part_masks(voc, image_id)
            part = gt.masks[0] & (parts > 0) & (parts != 255)
            y, x = np.argwhere(part)[0]
            g = f.create_group(image_id)
            put(g, "peaks", np.array([[gt.labels[0], y, x]]))
            put(g, "prm", (part / part.sum())[None], half=True)
    q = prm_quality(path, voc, instance_reader("voc", voc, None, CLASSES))
    assert q["n_images"] == 3 and q["n_peaks"] == 3 and q["peak_precision"] == 1.0
    assert q["mass_part"] == pytest.approx(1.0, abs=1e-3) and q["mass_outside"] == pytest.approx(0.0, abs=1e-3)
    assert 0 < q["part_area_fraction"] < 1
    assert q["instance_recall"] == pytest.approx(3 / q["n_instances"])


def test_prm_maxima_and_on_object_mass_score_the_maps_not_the_stored_peaks(voc, tmp_path):
    """Stored peaks off the object, PRMs peaked on the part: the maxima count as hits, the peaks do not."""
    path, ids = tmp_path / "val.h5", read_split(voc, "val")
    with write_artifact(path, "prm", "test") as f:
        for image_id in ids:
            gt, parts = read_gt_instances(voc, image_id, CLASSES), read_part_masks(voc, image_id)
            part = gt.masks[0] & (parts > 0) & (parts != 255)
            prm = part / part.sum() * 0.8 + (~gt.masks.any(0)) / (~gt.masks.any(0)).sum() * 0.2
            outside = np.argwhere(~gt.masks.any(0))[0]
            g = f.create_group(image_id)
            put(g, "peaks", np.array([[gt.labels[0], *outside]]))
            put(g, "prm", prm[None].astype(np.float32))
    q = prm_quality(path, voc, instance_reader("voc", voc, None, CLASSES))
    assert q["peak_precision"] == 0.0 and q["prm_max_precision"] == 1.0
    assert q["on_object"] == 1.0 and q["on_object_own_mass"] == pytest.approx(0.8, abs=1e-3)


def _disc(shape: tuple[int, int], y: int, x: int, radius: float) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return ((yy - y) ** 2 + (xx - x) ** 2 <= radius**2).astype(np.float32)


def test_body_side_tells_a_lean_towards_the_body_from_a_symmetric_halo(voc):
    """A PRM spread evenly over its instance leans towards the body (mass on the body's side of the
    peak above 0.5, cosine near 1); a disc centred on the peak leans nowhere (0.5 up to the pixels
    on the dividing line, cosine 0); a peak off its instance is not counted."""
    image_id = read_split(voc, "val")[0]
    gt, parts = read_gt_instances(voc, image_id, CLASSES), read_part_masks(voc, image_id)
    inst = gt.masks[0]
    y, x = np.argwhere(inst & (parts > 0) & (parts != 255))[0]
    peaks = np.array([[gt.labels[0], y, x]] * 2 + [[gt.labels[0], *np.argwhere(~gt.masks.any(0))[0]]])
    own = inst / inst.sum()
    disc = _disc(inst.shape, y, x, 6)
    sides = body_sides(peaks, np.stack([own, disc, own]).astype(np.float32), gt)
    assert sides.shape == (2, 2)
    assert sides[0, 0] > 0.75 and sides[0, 1] > 0.99
    assert sides[1, 0] == pytest.approx(0.5, abs=0.1) and abs(sides[1, 1]) < 0.05
