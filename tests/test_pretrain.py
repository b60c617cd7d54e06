"""The embedded ImageNet stand-in: a balanced, deterministic many-class set, and a trunk trained on it
that loads as backbone.weights like a torchvision state dict."""

import json

import numpy as np
import pytest
import torch

from iam.data.pretrain_set import HUES, NAMES, class_name, generate, n_classes
from iam.data.shapes import PART_SHAPES, UNSEEN_PART_SHAPE
from iam.data.synthetic import load_textures
from iam.models.backbone import PeakBackbone
from iam.training.pretrain import PretrainConfig, pretrain


def test_classes_are_balanced_named_and_deterministic():
    textures = load_textures()
    images, labels = generate(2 * n_classes(), 32, seed=3, textures=textures)
    assert n_classes() == len(NAMES) * HUES >= 50
    assert not set(NAMES) & {*PART_SHAPES, UNSEEN_PART_SHAPE}  # disjoint from the benchmark's class cues
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


@pytest.mark.slow
def test_the_set_is_learnt_above_chance_in_a_small_budget(tmp_path):
    """The old outline x texture set stayed at chance in minutes; this one must not: the surface
    hue is learnt within a few hundred steps (chance 1/8)."""
    cfg = PretrainConfig(images=512, val_images=256, image_size=32, epochs=6, batch_size=32)
    torch.manual_seed(0)
    last = pretrain(cfg, seed=0, out_dir=tmp_path)[-1]
    assert last["val_hue_accuracy"] > 0.4  # 0.555 at this commit
    assert last["val_accuracy"] > 3 / n_classes()  # 0.07
