"""VOC2012 / SBD readers on tiny fixtures in the real files' layout (tests/fixtures), and bad input."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from PIL import Image

from iam.data.sbd import read_sbd_instances
from iam.data.voc import (
    read_boxes, read_gt_instances, read_image, read_image_labels, read_objects, read_split,
)
from iam.errors import InputError

FIXTURES = Path(__file__).parent / "fixtures"
VOC, SBD = FIXTURES / "VOC2012", FIXTURES / "SBD"
CLASSES = ["aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "diningtable",
           "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor"]
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


# ---- bad input: each error names the file and the problem ----


@pytest.fixture()
def tree(tmp_path):
    shutil.copytree(FIXTURES, tmp_path, dirs_exist_ok=True)
    return tmp_path / "VOC2012", tmp_path / "SBD"


def test_corrupt_jpeg(tree):
    voc, _ = tree
    (voc / "JPEGImages" / "2007_000032.jpg").write_bytes(b"GIF89a not a jpeg")
    with pytest.raises(InputError, match=r"2007_000032\.jpg: cannot decode image"):
        read_image(voc, "2007_000032")


def test_truncated_jpeg(tree):
    voc, _ = tree
    path = voc / "JPEGImages" / "2008_000002.jpg"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(InputError, match=r"2008_000002\.jpg: cannot decode image \(corrupt or truncated"):
        read_image(voc, "2008_000002")


def test_listed_id_without_image(tree):
    voc, _ = tree
    split = voc / "ImageSets" / "Segmentation" / "val.txt"
    split.write_text(split.read_text() + "2009_000001\n")
    assert read_split(voc, "val")[-1] == "2009_000001"
    with pytest.raises(InputError, match=r"2009_000001\.jpg: image '2009_000001' is listed but its file is missing"):
        read_image(voc, "2009_000001")


def test_empty_split_file(tree):
    voc, _ = tree
    (voc / "ImageSets" / "Segmentation" / "val.txt").write_text("\n \n")
    with pytest.raises(InputError, match=r"val\.txt: split file lists no images"):
        read_split(voc, "val")


def test_xml_without_objects(tree):
    voc, _ = tree
    path = voc / "Annotations" / "2008_000002.xml"
    text = path.read_text()
    path.write_text(text[: text.index("<object>")] + text[text.index("</object>") + 9 :])
    with pytest.raises(InputError, match=r"2008_000002\.xml: annotation has no <object>"):
        read_image_labels(voc, "2008_000002", CLASSES)


def test_unknown_class_name(tree):
    voc, _ = tree
    path = voc / "Annotations" / "2008_000002.xml"
    path.write_text(path.read_text().replace("tvmonitor", "television"))
    with pytest.raises(InputError, match=r"2008_000002\.xml: unknown class name 'television'"):
        read_image_labels(voc, "2008_000002", CLASSES)


def test_palette_png_of_other_shape(tree):
    voc, _ = tree
    path = voc / "SegmentationObject" / "2007_000032.png"
    Image.open(path).transpose(Image.Transpose.TRANSPOSE).save(path)
    with pytest.raises(InputError, match=r"2007_000032\.png: size \(48, 32\) differs from the image's \(32, 48\)"):
        read_gt_instances(voc, "2007_000032", CLASSES)


def test_rgb_png_is_not_a_label_map(tree):
    voc, _ = tree
    path = voc / "SegmentationClass" / "2008_000002.png"
    Image.open(path).convert("RGB").save(path)
    with pytest.raises(InputError, match=r"2008_000002\.png: expected a palette PNG, got mode RGB"):
        read_gt_instances(voc, "2008_000002", CLASSES)


def test_sbd_mat_without_gtinst(tree):
    _, sbd = tree
    path = sbd / "inst" / "2008_000002.mat"
    scipy.io.savemat(path, {"GTcls": {"Segmentation": np.zeros((32, 48), np.uint8)}})
    with pytest.raises(InputError, match=r"2008_000002\.mat: missing struct 'GTinst'"):
        read_sbd_instances(sbd, "2008_000002")
