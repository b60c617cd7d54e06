"""VOC2012 / SBD readers on tiny fixtures in the real files' layout (tests/fixtures); their bad inputs
are cases of tests/test_bad_inputs.py."""

from pathlib import Path

import numpy as np
import pytest

from iam.data.sbd import read_sbd_instances
from iam.data.voc import (
    read_boxes,
    read_gt_instances,
    read_image,
    read_image_labels,
    read_objects,
    read_split,
)

FIXTURES = Path(__file__).parent / "fixtures"
VOC, SBD = FIXTURES / "VOC2012", FIXTURES / "SBD"
CLASSES = [
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
]
# Object rectangles drawn in the fixture masks, 0-based inclusive (x1, y1, x2, y2).
RECTS = {"2007_000032": [(4, 3, 23, 14), (30, 10, 43, 29)], "2008_000002": [(8, 6, 39, 27)]}


def _rect_mask(rect, shrink=0):
    x1, y1, x2, y2 = rect
    mask = np.zeros((32, 48), bool)
    mask[y1 + shrink : y2 + 1 - shrink, x1 + shrink : x2 + 1 - shrink] = True
    return mask


def test_split_and_image():
    assert read_split(VOC, "val") == ["2007_000032", "2008_000002"]
    image = read_image(VOC, "2007_000032")
    assert image.shape == (32, 48, 3) and image.dtype == np.uint8


def test_split_file_from_a_windows_editor(tmp_path):
    """A byte-order mark, CRLF line ends, ImageSets/Main-style flags and blank lines are not part of the ids."""
    (tmp_path / "ImageSets" / "Segmentation").mkdir(parents=True)
    text = "2007_000032  1\r\n\r\n2008_000002 -1\r\n"
    (tmp_path / "ImageSets" / "Segmentation" / "val.txt").write_bytes(text.encode("utf-8-sig"))
    assert read_split(tmp_path, "val") == ["2007_000032", "2008_000002"]


def test_image_labels_count_difficult_objects():
    np.testing.assert_array_equal(np.nonzero(read_image_labels(VOC, "2007_000032", CLASSES))[0], [0, 14])
    labels = read_image_labels(VOC, "2008_000002", CLASSES)
    assert labels.dtype == np.float32 and labels.sum() == 1 and labels[19] == 1


def test_objects_boxes_and_flags():
    objs = read_objects(VOC, "2007_000032", CLASSES)
    np.testing.assert_array_equal(objs.boxes, [[4, 3, 24, 15], [30, 10, 44, 30]])  # part boxes ignored
    assert objs.difficult.tolist() == [False, True] and objs.truncated.tolist() == [False, True]
    assert objs.occluded.tolist() == [False, False]  # field absent in VOC2007-era files
    boxes, labels = read_boxes(VOC, "2008_000002", CLASSES)  # VOC2008+ tag order (alphabetical)
    np.testing.assert_array_equal(boxes, [[8, 6, 40, 28]])
    assert labels.tolist() == [19] and read_objects(VOC, "2008_000002", CLASSES).occluded.tolist() == [True]


@pytest.mark.parametrize("image_id", list(RECTS))
def test_voc_and_sbd_instances(image_id):
    gt = read_gt_instances(VOC, image_id, CLASSES)
    sbd = read_sbd_instances(SBD, image_id)
    want = [0, 14] if image_id == "2007_000032" else [19]
    assert gt.labels.tolist() == want and sbd.labels.tolist() == want
    for k, rect in enumerate(RECTS[image_id]):
        np.testing.assert_array_equal(sbd.masks[k], _rect_mask(rect))
        np.testing.assert_array_equal(gt.masks[k], _rect_mask(rect, shrink=1))  # inner border is void
        assert gt.void[_rect_mask(rect) & ~_rect_mask(rect, shrink=1)].all()
    assert not sbd.void.any() and gt.void.sum() < gt.void.size / 2
