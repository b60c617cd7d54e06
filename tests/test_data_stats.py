"""Dataset statistics and the contact sheet."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from iam.data.benchmark import generate_benchmark
from iam.data.stats import contact_sheet, dataset_stats

CLASSES = ["bird", "cat", "cow"]
PARAMS = {
    "image_size": 64,
    "n_train": 40,
    "n_val": 1,
    "n_loc_test": 1,
    "n_saliency_test": 1,
    "min_instances": 2,
    "max_instances": 5,
    "jpeg_quality": 92,
}
FIXTURES = Path(__file__).parent / "fixtures" / "VOC2012"
VOC_CLASSES = [
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


@pytest.fixture(scope="module")
def voc(tmp_path_factory):
    out = tmp_path_factory.mktemp("syn")
    generate_benchmark(out, CLASSES, PARAMS, seed=1)
    return out / "VOC2012"


def test_synthetic_stats(voc):
    stats = dataset_stats(voc, CLASSES, "train")
    n = stats["instances"]
    assert stats["images"] == 40 and sum(stats["classes"].values()) == n
    assert sum(int(k) * v for k, v in stats["instances_per_image"].items()) == n
    assert min(int(k) for k in stats["instances_per_image"]) >= 1
    assert sum(stats["object_size_histogram"].values()) == n
    lo, mid, hi = stats["part_fraction_quartiles"]
    assert 0.05 < lo <= mid <= hi < 0.3
    assert stats["touching_same_class_pairs"] > 0 and 0 < stats["occluded_fraction"] < 1


def test_real_voc_stats_without_parts():
    stats = dataset_stats(FIXTURES, VOC_CLASSES, "val")
    assert stats["instances"] == 3 and stats["classes"]["person"] == 1
    assert stats["part_fraction_quartiles"] == [] and stats["occluded_fraction"] == pytest.approx(1 / 3)
    assert stats["object_size_histogram"]["0.10-0.20"] == 2


def test_contact_sheet(voc, tmp_path):
    out = tmp_path / "sheet.png"
    contact_sheet(voc, "train", out, CLASSES, n=8)
    sheet = np.asarray(Image.open(out))
    assert sheet.shape == (2 * 64, 6 * 64, 3)
    assert sheet[64:, 2 * 64 :].max() == 0, "unused tiles are blank"
    assert not list(tmp_path.glob(".*tmp*")), "temporary file left behind"
