"""iam show for prm artifacts: panel size (image + CRMs of peaked classes, PRM per peak) and errors."""

import json

import cv2
import numpy as np
import pytest

from iam.data.benchmark import generate_benchmark
from iam.data.voc import read_split
from iam.errors import InputError
from iam.io.h5 import write_artifact
from iam.io.prm import PRMRecord, write_prm
from iam.prm.show import render_prm

CLASSES = ["bird", "cat", "cow"]


def test_render_prm_writes_png_and_names_missing_image(tmp_path):
    generate_benchmark(
        tmp_path,
        CLASSES,
        {
            "image_size": 32,
            "n_train": 1,
            "n_val": 1,
            "n_loc_test": 1,
            "n_saliency_test": 1,
            "min_instances": 1,
            "max_instances": 1,
            "jpeg_quality": 92,
        },
        seed=0,
    )
    voc, path = tmp_path / "VOC2012", tmp_path / "val.h5"
    image_id = read_split(voc, "val")[0]
    with write_artifact(path, "prm", "test") as f:
        f.attrs["classes"] = json.dumps(CLASSES)
        peaks, prms = np.array([[1, 5, 6], [2, 9, 9], [2, 20, 20]]), np.ones((3, 32, 32)) / 1024
        write_prm(f, image_id, PRMRecord(peaks, np.zeros(3), prms, np.zeros(3), np.zeros((3, 4, 4))))
    render_prm(path, voc, image_id, tmp_path / "out.png")
    assert cv2.imread(str(tmp_path / "out.png")).shape == (64, 96, 3)  # [image, CRM 1, CRM 2] / 3 PRMs
    with pytest.raises(InputError, match="no image group 'nope'"):
        render_prm(path, voc, "nope", tmp_path / "bad.png")
