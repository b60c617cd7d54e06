"""The synthetic benchmark: determinism, the real VOC/SBD formats, part/body content, transfer splits."""

import colorsys
import hashlib
import json

import numpy as np
import pytest
import scipy.io
from PIL import Image

from iam.data.benchmark import generate_benchmark
from iam.data.sbd import read_sbd_instances
from iam.data.synthetic import class_colour
from iam.data.voc import (
    read_boxes,
    read_gt_instances,
    read_image,
    read_image_labels,
    read_objects,
    read_part_masks,
    read_saliency_mask,
    read_split,
)
from iam.errors import InputError
from iam.names import SYNTHETIC_SPLITS

CLASSES = ["bird", "cat", "cow"]
PARAMS = {
    "image_size": 64,
    "n_train": 12,
    "n_val": 3,
    "n_loc_test": 3,
    "n_saliency_test": 3,
    "min_instances": 1,
    "max_instances": 4,
    "jpeg_quality": 92,
}


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


def test_marker_is_written_last_and_summarises(tree):
    marker = tree / "dataset.json"
    newest = max(p.stat().st_mtime_ns for p in tree.rglob("*") if p.is_file() and p != marker)
    assert marker.stat().st_mtime_ns >= newest
    summary = json.loads(marker.read_text())
    assert summary["classes"] == CLASSES and summary["seed"] == 3 and summary["seconds"] > 0
    images = {s: summary["splits"][s]["images"] for s in SYNTHETIC_SPLITS}
    assert images == {s: PARAMS[f"n_{s}"] for s in SYNTHETIC_SPLITS}


def test_voc_formats(tree):
    voc = tree / "VOC2012"
    png = Image.open(voc / "SegmentationObject" / "train_00000.png")
    assert png.mode == "P" and png.getpalette()[:9] == [0, 0, 0, 128, 0, 0, 0, 128, 0]
    assert 255 in np.asarray(png), "void band missing on object borders"
    for split in SYNTHETIC_SPLITS:
        ids = read_split(voc, split)
        rows = (voc / "ImageSets" / "Main" / f"cat_{split}.txt").read_text().split("\n")[:-1]
        assert [r.split()[0] for r in rows] == ids
    cat = [int(r.split()[1]) for r in (voc / "ImageSets" / "Main" / "cat_train.txt").read_text().splitlines()]
    labels = [read_image_labels(voc, i, CLASSES)[1] for i in read_split(voc, "train")]
    assert cat == [1 if lab else -1 for lab in labels]


@pytest.mark.parametrize("image_id", ["train_00000", "train_00003", "val_00001", "loc_test_00000"])
def test_readers_agree_across_formats(tree, image_id):
    voc, sbd = tree / "VOC2012", tree / "SBD"
    gt = read_gt_instances(voc, image_id, CLASSES)
    inst = read_sbd_instances(sbd, image_id)
    np.testing.assert_array_equal(gt.labels, inst.labels)
    np.testing.assert_array_equal(gt.masks, inst.masks & ~gt.void)  # VOC masks lose the void band
    np.testing.assert_array_equal(np.nonzero(read_image_labels(voc, image_id, CLASSES))[0], np.unique(gt.labels))
    boxes, box_labels = read_boxes(voc, image_id, CLASSES)
    objects = read_objects(voc, image_id, CLASSES)
    for box, mask, truncated in zip(boxes, inst.masks, objects.truncated):
        ys, xs = np.nonzero(mask)
        assert box.tolist() == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        assert truncated == (xs.min() == 0 or ys.min() == 0 or xs.max() == 63 or ys.max() == 63)
    np.testing.assert_array_equal(box_labels, gt.labels)
    parts = read_part_masks(voc, image_id)
    for k, mask in enumerate(inst.masks, start=1):
        assert 0 < (parts == k).sum() < 0.5 * mask.sum(), "each instance has a part much smaller than itself"
        assert not (parts == k)[~mask].any()


def test_sbd_files_have_the_real_struct_layout(tree):
    inst = scipy.io.loadmat(tree / "SBD" / "inst" / "train_00000.mat")["GTinst"]
    assert inst.shape == (1, 1) and set(inst.dtype.names) == {"Segmentation", "Boundaries", "Categories"}
    n = inst["Categories"][0, 0].shape
    assert n[1] == 1 and inst["Boundaries"][0, 0].shape == n and inst["Segmentation"][0, 0].dtype == np.uint8
    cls = scipy.io.loadmat(tree / "SBD" / "cls" / "train_00000.mat")["GTcls"]
    assert set(cls.dtype.names) == {"Segmentation", "Boundaries", "CategoriesPresent"}
    assert cls["Boundaries"][0, 0].shape == (len(CLASSES), 1)
    header = (tree / "SBD" / "inst" / "train_00000.mat").read_bytes()[:116]
    assert header.startswith(b"MATLAB 5.0 MAT-file") and b"Created on" not in header, "no timestamp: deterministic"


def _hue_class(rgb: np.ndarray, n_classes: int) -> int:
    hues = np.array([colorsys.rgb_to_hsv(*class_colour(c, n_classes))[0] for c in range(n_classes)])
    hue = colorsys.rgb_to_hsv(*(rgb / 255.0))[0]
    return int(np.argmin(np.minimum(abs(hues - hue), 1 - abs(hues - hue))))


@pytest.mark.parametrize("n_classes", [2, 20])
def test_part_colour_tells_the_class_and_the_body_does_not(tmp_path, n_classes):
    classes = [f"c{i}" for i in range(n_classes)]
    params = {**PARAMS, "image_size": 96, "n_train": 10, "n_loc_test": 1, "n_saliency_test": 1}
    generate_benchmark(tmp_path, classes, params, seed=0)
    voc = tmp_path / "VOC2012"
    hits, body_hits, n = 0, 0, 0
    for image_id in read_split(voc, "train"):
        image, parts = read_image(voc, image_id), read_part_masks(voc, image_id)
        gt = read_gt_instances(voc, image_id, classes)
        for k, (mask, label) in enumerate(zip(gt.masks, gt.labels), start=1):
            part = parts == k
            if part.sum() < 4:
                continue
            n += 1
            hits += _hue_class(np.median(image[part], 0), n_classes) == label
            body_hits += _hue_class(np.median(image[mask & ~part], 0), n_classes) == label
    assert n >= 10 and hits / n > 0.9 and body_hits / n < 1 / n_classes + 0.25  # body: near chance


def test_transfer_splits(tree):
    voc = tree / "VOC2012"
    for image_id in read_split(voc, "loc_test"):
        boxes, labels = read_boxes(voc, image_id, CLASSES)
        assert boxes.shape == (1, 4) and 0 <= labels[0] < len(CLASSES)
    for image_id in read_split(voc, "saliency_test"):
        mask = read_saliency_mask(voc, image_id)
        assert 0.02 < mask.mean() < 0.6
        assert (read_part_masks(voc, image_id) > 0).any() and not (read_part_masks(voc, image_id) > 0)[~mask].any()
        assert not (voc / "SegmentationClass" / f"{image_id}.png").exists()


@pytest.mark.parametrize(
    ("classes", "change", "key"),
    [
        (["bird"], {}, "dataset.classes"),
        ([f"c{i}" for i in range(21)], {}, "dataset.classes"),
        (["bird", "unseen"], {}, "dataset.classes"),
        (CLASSES, {"min_instances": 5}, "synthetic.min_instances"),
        (CLASSES, {"body_saturation": [0.5, 0.3]}, "synthetic.body_saturation"),
    ],
)
def test_bad_generator_config_names_the_key(tmp_path, classes, change, key):
    with pytest.raises(InputError, match=f"config key '{key}'"):
        generate_benchmark(tmp_path, classes, {**PARAMS, **change}, seed=0)
    assert not (tmp_path / "dataset.json").exists() and not (tmp_path / "VOC2012").exists()


def _pixels(root, folder, image_id, suffix="png"):
    return np.asarray(Image.open(root / "VOC2012" / folder / f"{image_id}.{suffix}"))


def test_body_cue_repaints_bodies_and_keeps_the_geometry(tree, tmp_path):
    """Share 0 is the benchmark as before; share 1 tints every seen-class body towards its part's hue
    and leaves every instance, class and part mask as it was."""
    generate_benchmark(tmp_path / "zero", CLASSES, {**PARAMS, "body_cue": 0.0}, seed=3)
    assert _digest(tmp_path / "zero") == _digest(tree)
    generate_benchmark(tmp_path / "cue", CLASSES, {**PARAMS, "body_cue": 1.0}, seed=3)
    hue_error = {"before": [], "after": []}
    for image_id in read_split(tree / "VOC2012", "train"):
        for folder in ("SegmentationObject", "SegmentationClass", "SegmentationPart"):
            assert np.array_equal(_pixels(tree, folder, image_id), _pixels(tmp_path / "cue", folder, image_id))
        gt = read_gt_instances(tree / "VOC2012", image_id, CLASSES)
        parts = read_part_masks(tree / "VOC2012", image_id)
        for root, key in ((tree, "before"), (tmp_path / "cue", "after")):
            image = read_image(root / "VOC2012", image_id).astype(np.float32) / 255
            for mask, label in zip(gt.masks, gt.labels):
                body = mask & (parts == 0)
                if body.sum() < 20:
                    continue
                hue = colorsys.rgb_to_hsv(*image[body].mean(0))[0]
                error = abs(hue - label / len(CLASSES))
                hue_error[key].append(min(error, 1 - error))
    assert np.median(hue_error["after"]) < 1 / (2 * len(CLASSES)) < np.median(hue_error["before"])


def test_body_saturation_moves_only_the_bodies_colour(tree, tmp_path):
    """Vivid bodies (the diagnostic overlay) are more saturated than the default's; masks are the same."""
    generate_benchmark(tmp_path / "vivid", CLASSES, {**PARAMS, "body_saturation": [0.3, 0.5]}, seed=3)
    saturation = {"default": [], "vivid": []}
    for image_id in read_split(tree / "VOC2012", "train"):
        assert np.array_equal(
            _pixels(tree, "SegmentationObject", image_id), _pixels(tmp_path / "vivid", "SegmentationObject", image_id)
        )
        gt = read_gt_instances(tree / "VOC2012", image_id, CLASSES)
        bodies = gt.masks.any(0) & (read_part_masks(tree / "VOC2012", image_id) == 0)
        for root, key in ((tree, "default"), (tmp_path / "vivid", "vivid")):
            image = read_image(root / "VOC2012", image_id).astype(np.float32)[bodies]
            saturation[key].append(1 - image.min(-1) / np.maximum(image.max(-1), 1))
    assert np.median(np.concatenate(saturation["vivid"])) > 1.5 * np.median(np.concatenate(saturation["default"]))
