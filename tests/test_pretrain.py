"""The embedded ImageNet stand-in: a balanced, deterministic many-class set, and a trunk trained on it
that loads as backbone.weights like a torchvision state dict."""

import json

import numpy as np
import pytest
import torch

from iam.data.pretrain_set import SHAPES, class_name, generate, n_classes
from iam.data.synthetic import TEXTURE_NAMES, load_textures
from iam.models.backbone import PeakBackbone
from iam.training.pretrain import PretrainConfig, pretrain


def test_classes_are_balanced_named_and_deterministic():
    textures = load_textures()
    images, labels = generate(2 * n_classes(), 32, seed=3, textures=textures)
    assert n_classes() == len(SHAPES) * len(TEXTURE_NAMES) >= 50
    assert np.bincount(labels).tolist() == [2] * n_classes()
    assert images.shape == (2 * n_classes(), 32, 32, 3) and images.dtype == np.uint8
    again, _ = generate(2 * n_classes(), 32, seed=3, textures=textures)
    other, _ = generate(2 * n_classes(), 32, seed=4, textures=textures)
    assert np.array_equal(images, again) and not np.array_equal(images, other)
    assert len({class_name(c) for c in range(n_classes())}) == n_classes()


@pytest.mark.slow
def test_pretrained_trunk_loads_as_backbone_weights_and_resumes(tmp_path):
    cfg = PretrainConfig(images=64, val_images=64, image_size=32, epochs=1, batch_size=16)
    torch.manual_seed(0)
    rows = pretrain(cfg, seed=0, out_dir=tmp_path)
    assert [r["epoch"] for r in rows] == [1] and np.isfinite(rows[0]["loss"])
    assert json.loads((tmp_path / "metrics.json").read_text())[0]["epoch"] == 1
    state = torch.load(tmp_path / "model.pth", weights_only=True)
    model = PeakBackbone("resnet10", 3, weights=str(tmp_path / "model.pth"))
    assert torch.equal(model.stem[0].weight, state["conv1.weight"])
    assert torch.equal(model.layer4[0].conv2.weight, state["layer4.0.conv2.weight"])
    more = pretrain(PretrainConfig(**{**cfg.__dict__, "epochs": 2}), seed=0, out_dir=tmp_path)
    assert [r["epoch"] for r in more] == [1, 2] and more[0] == rows[0]  # epoch 1 resumed, not redone
