"""Synthetic benchmark generation and the VOC/SBD readers, including bad input."""

import hashlib
import shutil

import numpy as np
import pytest
import scipy.io
from PIL import Image

from iam.data.benchmark import generate_benchmark
from iam.data.sbd import read_sbd_instances
from iam.data.stats import dataset_stats
from iam.data.voc import (
    read_boxes, read_gt_instances, read_image, read_image_labels, read_part_masks, read_saliency_mask, read_split,
)
from iam.errors import InputError

CLASSES = ["bird", "cat", "cow"]
PARAMS = {"image_size": 64, "n_train": 6, "n_val": 3, "n_loc_test": 2, "n_saliency_test": 2,
          "min_instances": 1, "max_instances": 4, "jpeg_quality": 92}


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    out = tmp_path_factory.mktemp("syn")
    generate_benchmark(out, CLASSES, PARAMS, seed=3)
    return out


def _digest(root):
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != "dataset.json"):
        h.update(path.relative_to(root).as_posix().encode() + path.read_bytes())
    return h.hexdigest()


def test_generation_is_deterministic_and_seeded(tree, tmp_path):
    generate_benchmark(tmp_path / "a", CLASSES, PARAMS, seed=3)
    generate_benchmark(tmp_path / "b", CLASSES, PARAMS, seed=4)
    assert _digest(tmp_path / "a") == _digest(tree)
    assert _digest(tmp_path / "b") != _digest(tree)


def test_splits_and_formats(tree):
    voc = tree / "VOC2012"
    assert len(read_split(voc, "train")) == 6 and len(read_split(voc, "saliency_test")) == 2
    png = Image.open(voc / "SegmentationObject" / "train_00000.png")
    assert png.mode == "P" and png.getpalette()[:6] == [0, 0, 0, 128, 0, 0]
    assert 255 in np.asarray(png), "void band missing on object borders"
    assert (voc / "ImageSets" / "Main" / "cat_train.txt").is_file()


@pytest.mark.parametrize("image_id", ["train_00000", "train_00003", "val_00001"])
def test_readers_agree_across_formats(tree, image_id):
    voc, sbd = tree / "VOC2012", tree / "SBD"
    gt = read_gt_instances(voc, image_id, CLASSES)
    inst = read_sbd_instances(sbd, image_id)
    np.testing.assert_array_equal(gt.labels, inst.labels)
    # VOC masks lose the void band; inside the valid region they equal SBD's.
    np.testing.assert_array_equal(gt.masks, inst.masks & ~gt.void)
    labels = read_image_labels(voc, image_id, CLASSES)
    np.testing.assert_array_equal(np.nonzero(labels)[0], np.unique(gt.labels))
    boxes, box_labels = read_boxes(voc, image_id, CLASSES)
    for box, mask in zip(boxes, inst.masks):
        ys, xs = np.nonzero(mask)
        assert box.tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
    np.testing.assert_array_equal(box_labels, gt.labels)
    parts = read_part_masks(voc, image_id)
    for k, mask in enumerate(inst.masks, start=1):
        assert 0 < (parts == k).sum() < mask.sum(), "each instance has a part smaller than itself"


def test_sbd_files_have_the_real_struct_layout(tree):
    mat = scipy.io.loadmat(tree / "SBD" / "inst" / "train_00000.mat")
    assert set(mat["GTinst"].dtype.names) == {"Segmentation", "Boundaries", "Categories"}
    cls = scipy.io.loadmat(tree / "SBD" / "cls" / "train_00000.mat")
    assert set(cls["GTcls"].dtype.names) == {"Segmentation", "Boundaries", "CategoriesPresent"}


def test_transfer_splits(tree):
    voc = tree / "VOC2012"
    for image_id in read_split(voc, "saliency_test"):
        mask = read_saliency_mask(voc, image_id)
        assert 0 < mask.mean() < 0.6
    for image_id in read_split(voc, "loc_test"):
        boxes, labels = read_boxes(voc, image_id, CLASSES)
        assert boxes.shape == (1, 4)


def test_dataset_stats(tree):
    stats = dataset_stats(tree / "VOC2012", CLASSES, "train")
    assert stats["images"] == 6
    assert sum(stats["object_size_histogram"].values()) == stats["instances"]
    assert 0.02 < stats["median_part_body_ratio"] < 0.5


# ---- bad input: each names the file and the problem, and damages nothing ----

@pytest.fixture()
def copy(tree, tmp_path):
    shutil.copytree(tree / "VOC2012", tmp_path / "VOC2012")
    shutil.copytree(tree / "SBD", tmp_path / "SBD")
    return tmp_path


def test_corrupt_jpeg(copy):
    path = copy / "VOC2012" / "JPEGImages" / "train_00000.jpg"
    path.write_bytes(b"not a jpeg at all")
    with pytest.raises(InputError, match=r"train_00000\.jpg: cannot decode image"):
        read_image(copy / "VOC2012", "train_00000")


def test_truncated_jpeg(copy):
    path = copy / "VOC2012" / "JPEGImages" / "train_00001.jpg"
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(InputError, match=r"train_00001\.jpg: cannot decode image \(corrupt or truncated"):
        read_image(copy / "VOC2012", "train_00001")


def test_listed_image_missing(copy):
    (copy / "VOC2012" / "JPEGImages" / "train_00002.jpg").unlink()
    with pytest.raises(InputError, match="train_00002.jpg: image 'train_00002' is listed but its file is missing"):
        read_image(copy / "VOC2012", "train_00002")


def test_empty_split(copy):
    (copy / "VOC2012" / "ImageSets" / "Segmentation" / "train.txt").write_text("\n")
    with pytest.raises(InputError, match=r"train\.txt: split file lists no images"):
        read_split(copy / "VOC2012", "train")


def test_xml_without_objects(copy):
    path = copy / "VOC2012" / "Annotations" / "train_00000.xml"
    path.write_text("<annotation><filename>train_00000.jpg</filename></annotation>")
    with pytest.raises(InputError, match="train_00000.xml: annotation has no <object>"):
        read_image_labels(copy / "VOC2012", "train_00000", CLASSES)


def test_unknown_class(copy):
    path = copy / "VOC2012" / "Annotations" / "train_00000.xml"
    path.write_text(path.read_text().replace("<name>", "<name>zebra", 1))
    with pytest.raises(InputError, match="train_00000.xml: unknown class name 'zebra"):
        read_image_labels(copy / "VOC2012", "train_00000", CLASSES)


def test_png_size_mismatch(copy):
    path = copy / "VOC2012" / "SegmentationObject" / "train_00000.png"
    im = Image.open(path)
    im.resize((32, 32), Image.NEAREST).save(path)
    with pytest.raises(InputError, match=r"train_00000\.png: size \(32, 32\) differs from the image's \(64, 64\)"):
        read_gt_instances(copy / "VOC2012", "train_00000", CLASSES)


def test_sbd_mat_without_gtinst(copy):
    path = copy / "SBD" / "inst" / "train_00000.mat"
    scipy.io.savemat(path, {"something": np.zeros(3)})
    with pytest.raises(InputError, match="train_00000.mat: missing struct 'GTinst'"):
        read_sbd_instances(copy / "SBD", "train_00000")
