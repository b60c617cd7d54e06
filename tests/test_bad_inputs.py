"""The bad-input catalogue (issue 10): each case fails with a message naming the file (or config
key) and the problem, and leaves what was already written intact.

Cases whose fixture is a whole generated tree (corrupt/truncated JPEG, missing image, empty split,
XML without objects, unknown class, PNG size mismatch, SBD without GTinst) live beside their reader
in tests/test_data_readers.py; NaN losses in tests/test_backbone.py and tests/test_filler_training.py.
This file gathers the remaining cases on small hand-made inputs.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
import torch
import yaml

from iam.config import validate_config
from iam.device import resolve_device
from iam.errors import ArtifactError, InputError
from iam.io.atomic import atomic_path, write_json
from iam.io.h5 import open_artifact, put, write_artifact
from iam.models.backbone import PeakBackbone, load_backbone, save_backbone
from iam.proposals.mcg import read_mcg
from iam.data.sbd import read_sbd_instances


def _mcg(path, superpixels, labels, scores, drop=()):
    cells = np.empty((len(labels), 1), object)
    for j, lab in enumerate(labels):
        cells[j, 0] = np.asarray(lab, np.float64).reshape(-1, 1)
    fields = {"superpixels": np.asarray(superpixels, np.uint16), "labels": cells,
              "scores": np.asarray(scores, np.float64).reshape(-1, 1)}
    scipy.io.savemat(path, {k: v for k, v in fields.items() if k not in drop})
    return path


SP = np.array([[1, 1, 2], [3, 3, 2]])


@pytest.mark.parametrize(
    ("case", "labels", "scores", "drop", "shape", "message"),
    [
        ("missing_labels", [[1]], [0.5], ("labels",), None, r"missing field\(s\) \['labels'\]"),
        ("ids_out_of_range", [[1, 7]], [0.5], (), None, r"superpixel ids outside 1\.\.3"),
        ("zero_proposals", [], [], (), None, "holds zero proposals"),
        ("size_mismatch", [[1]], [0.5], (), (4, 4), r"superpixel map is \(2, 3\), image is \(4, 4\)"),
    ],
)
def test_malformed_mcg_file(tmp_path, case, labels, scores, drop, shape, message):
    path = _mcg(tmp_path / f"{case}.mat", SP, labels, scores, drop)
    with pytest.raises(InputError, match=rf"{case}\.mat: .*{message}"):
        read_mcg(path, image_shape=shape)


def test_sbd_file_missing_a_field(tmp_path):
    (tmp_path / "inst").mkdir()
    scipy.io.savemat(tmp_path / "inst" / "x.mat", {"GTinst": {"Segmentation": np.zeros((2, 2), np.uint8)}})
    with pytest.raises(InputError, match=r"x\.mat: GTinst lacks field 'Categories'"):
        read_sbd_instances(tmp_path, "x")


def test_truncated_artifact(tmp_path):
    path = tmp_path / "prm.h5"
    with write_artifact(path, "prm", "extract_prm", {}) as f:
        put(f.create_group("a"), "prm", np.ones((3, 8, 8), np.float32))
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ArtifactError, match=r"prm\.h5: not a readable HDF5 file \(truncated or foreign\?\)"):
        open_artifact(path, "prm")


def test_artifact_of_another_configuration(tmp_path):
    path = tmp_path / "k1.h5"
    with write_artifact(path, "pseudo_gt", "make_pseudo_gt", {"k": 1, "source": "generated"}):
        pass
    with pytest.raises(ArtifactError, match=r"k1\.h5: was produced with k=1, this step expects 5"):
        open_artifact(path, "pseudo_gt", {"k": 5, "source": "generated"})
    with pytest.raises(ArtifactError, match=r"k1\.h5: was produced with source='generated', this step expects 'mcg'"):
        open_artifact(path, "pseudo_gt", {"k": 1, "source": "mcg"})


@pytest.mark.parametrize(("arch", "classes", "problem"), [("resnet34", 3, "arch"), ("resnet18", 5, "class")])
def test_checkpoint_of_another_architecture_or_class_count(tmp_path, arch, classes, problem):
    path = tmp_path / "model.pt"
    save_backbone(PeakBackbone("resnet18", 3, True, True, "none"), ["a", "b", "c"], path)
    with pytest.raises(InputError, match=rf"model\.pt: .*{problem}"):
        load_backbone(path, "cpu", arch=arch, num_classes=classes)


def test_config_with_wrong_type_and_out_of_range_value():
    config = yaml.safe_load(open("config/tiny.yaml"))
    config["filler"]["epochs"] = "4"
    config["crf"]["filter_size"] = 1
    with pytest.raises(InputError) as err:
        validate_config(config, source="config/tiny.yaml")
    text = str(err.value)
    assert text.startswith("config/tiny.yaml: invalid configuration")
    assert "key 'filler.epochs': '4' is not of type 'integer'" in text
    assert "key 'crf.filter_size': 1 is less than the minimum of 3" in text


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_requested_without_gpu():
    with pytest.raises(InputError, match="config key 'device': cuda requested but no CUDA device is available"):
        resolve_device("cuda")


def test_disk_full_while_writing_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "metrics.json"
    write_json(target, {"previous": True})

    def full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        with atomic_path(target) as tmp:
            tmp.write_text('{"half": ')
            monkeypatch.setattr(type(tmp), "write_text", full)
            tmp.write_text("rest")
    assert target.read_text() == '{\n  "previous": true\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]
