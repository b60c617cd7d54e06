"""Backbone: shapes, dilation, training determinism, resume, NaN loss (bad model files: test_bad_inputs.py)."""

import json
import re
from dataclasses import replace

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from iam.data.benchmark import generate_benchmark
from iam.data.voc import read_split
from iam.errors import TrainingError
from iam.models.backbone import PeakBackbone, load_backbone
from iam.models.resnet import LAYOUTS, resnet
from iam.training import backbone as backbone_training
from iam.training.backbone import BackboneConfig, average_precision, train_backbone
from iam.workflow import seed_everything

CLASSES = ["bird", "cat", "cow"]
PARAMS = {
    "image_size": 48,
    "n_train": 6,
    "n_val": 3,
    "n_loc_test": 1,
    "n_saliency_test": 1,
    "min_instances": 1,
    "max_instances": 2,
    "jpeg_quality": 92,
}
CFG = BackboneConfig(input_size=32, epochs=2, batch_size=4)


@pytest.fixture(scope="module")
def voc(tmp_path_factory):
    out = tmp_path_factory.mktemp("bb")
    generate_benchmark(out, CLASSES, PARAMS, seed=5)
    return out / "VOC2012"


def _train(voc, out, cfg=CFG):
    seed_everything(0)
    return train_backbone(voc, read_split(voc, "train"), read_split(voc, "val"), CLASSES, cfg, torch.device("cpu"), out)


def _weights(path):
    return load_backbone(path).state_dict()


def test_outputs_and_dilation_give_stride_8():
    out = PeakBackbone("resnet18", 5)(torch.randn(2, 3, 128, 128))
    assert out.crm.shape == (2, 5, 16, 16) and out.scores.shape == (2, 5)
    assert [out.features[k].shape[1:] for k in ("res2", "res3", "res4")] == [(64, 32, 32), (128, 16, 16), (256, 16, 16)]
    assert PeakBackbone("resnet18", 5, False, False)(torch.randn(1, 3, 128, 128)).crm.shape == (1, 5, 4, 4)


def test_resnet10_is_resnet18_with_one_block_per_stage():
    r10, r18 = PeakBackbone("resnet10", 5), PeakBackbone("resnet18", 5)
    assert [len(getattr(r10, f"layer{i}")) for i in range(1, 5)] == [1, 1, 1, 1]
    out = r10(torch.randn(1, 3, 128, 128))
    ref = r18(torch.randn(1, 3, 128, 128))
    assert out.crm.shape == ref.crm.shape
    assert {k: v.shape for k, v in out.features.items()} == {k: v.shape for k, v in ref.features.items()}
    n10, n18 = (sum(p.numel() for p in m.parameters()) for m in (r10, r18))
    assert 0.35 < n10 / n18 < 0.5


@pytest.mark.parametrize("arch", ["resnet18", "resnet50"])
def test_trunk_is_torchvision_resnet_without_its_head(arch):
    ref = getattr(torchvision.models, arch)().eval()
    ours = resnet(arch).eval()
    ref_state = {k: v for k, v in ref.state_dict().items() if not k.startswith("fc.")}
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in ref_state.items()}
    ours.load_state_dict(ref_state)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        trunk = nn.Sequential(*list(ref.children())[:-2])  # up to layer4
        torch.testing.assert_close(ours(x), trunk(x))


def test_resnet10_trunk_has_the_first_block_of_each_resnet18_stage():
    r10, r18 = resnet("resnet10"), resnet("resnet18")
    assert LAYOUTS["resnet10"][1] == [1, 1, 1, 1]
    assert set(r10.state_dict()) == {k for k in r18.state_dict() if not re.match(r"layer\d\.[1-9]", k)}


def test_dilation_matches_torchvision_for_bottlenecks():
    ours = [m for m in PeakBackbone("resnet50", 2).modules() if isinstance(m, nn.Conv2d)][:-1]
    ref = [
        m
        for m in torchvision.models.resnet50(replace_stride_with_dilation=[False, True, True]).modules()
        if isinstance(m, nn.Conv2d)
    ]
    assert [(m.stride, m.dilation, m.padding) for m in ours] == [(m.stride, m.dilation, m.padding) for m in ref]


def test_schedule_scales_both_lr_groups_and_survives_a_resume(voc, tmp_path, monkeypatch):
    seen = []  # each epoch's (classifier, trunk) lr; no real training needed
    monkeypatch.setattr(
        backbone_training,
        "train_epoch",
        lambda model, loader, opt, epoch, device, dtype: seen.append([g["lr"] for g in opt.param_groups]) or 0,
    )
    cfg = BackboneConfig(**{**CFG.__dict__, "lr": 0.02, "trunk_lr": 0.01, "schedule": "cosine"})
    _train(voc, tmp_path, cfg)
    _train(voc, tmp_path, replace(cfg, epochs=3))  # resumes after epoch 2: cosine over 3 epochs from the initial lr
    np.testing.assert_allclose(seen, [[0.02, 0.01], [0.01, 0.005], [0.005, 0.0025]])


def test_average_precision():
    assert average_precision(np.array([0.9, 0.8, 0.1]), np.array([1, 0, 1])) == pytest.approx((1 + 2 / 3) / 2)


@pytest.mark.slow
def test_training_is_deterministic_and_resume_equals_uninterrupted(voc, tmp_path, monkeypatch):
    rows = _train(voc, tmp_path / "a")
    assert [r["epoch"] for r in rows] == [1, 2] and all(np.isfinite(r["loss"]) for r in rows)
    assert json.loads((tmp_path / "a" / "metrics.json").read_text()) == rows
    assert (tmp_path / "a" / "metrics.csv").read_text().splitlines()[0] == "epoch,loss,val_map,lr"

    real_epoch, epochs_run = backbone_training.train_epoch, []

    def killed_in_epoch_2(model, loader, optimizer, epoch, device, dtype):
        if epoch == 1:
            raise KeyboardInterrupt
        return real_epoch(model, loader, optimizer, epoch, device, dtype)

    def recorded(model, loader, optimizer, epoch, device, dtype):
        epochs_run.append(epoch)
        return real_epoch(model, loader, optimizer, epoch, device, dtype)

    monkeypatch.setattr(backbone_training, "train_epoch", killed_in_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        _train(voc, tmp_path / "b")
    assert not (tmp_path / "b" / "model.pt").exists()
    monkeypatch.setattr(backbone_training, "train_epoch", recorded)
    _train(voc, tmp_path / "b")  # reseeds like a fresh process; must resume from checkpoints/epoch0001.pt
    assert epochs_run == [1], "the rerun did not resume after the epoch-1 checkpoint"
    a, b = _weights(tmp_path / "a" / "model.pt"), _weights(tmp_path / "b" / "model.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads((tmp_path / "b" / "metrics.json").read_text()) == rows


@pytest.mark.slow
def test_nan_loss_names_epoch_and_batch_and_keeps_last_checkpoint(voc, tmp_path, monkeypatch):
    _train(voc, tmp_path, BackboneConfig(**{**CFG.__dict__, "epochs": 1}))
    monkeypatch.setattr(nn.MultiLabelSoftMarginLoss, "forward", lambda self, x, y: (x * float("nan")).sum())
    with pytest.raises(TrainingError, match="epoch 2, batch 0: loss is nan"):
        _train(voc, tmp_path)
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["epoch0001.pt"]


def test_weights_from_a_torchvision_state_dict(tmp_path):
    ref = torchvision.models.resnet18()
    torch.save(ref.state_dict(), tmp_path / "r18.pth")
    model = PeakBackbone("resnet18", 4, weights=str(tmp_path / "r18.pth"))
    assert torch.equal(model.layer4[1].conv2.weight, ref.layer4[1].conv2.weight)
    assert torch.equal(model.stem[0].weight, ref.conv1.weight)


@pytest.mark.slow
def test_checkpoints_of_another_configuration_are_not_resumed(voc, tmp_path):
    _train(voc, tmp_path, BackboneConfig(**{**CFG.__dict__, "epochs": 1}))
    first = _weights(tmp_path / "model.pt")
    _train(voc, tmp_path, BackboneConfig(**{**CFG.__dict__, "epochs": 1, "lr": 0.05}))
    second = _weights(tmp_path / "model.pt")  # a resume would have reloaded the first run's weights
    assert not torch.equal(first["classifier.weight"], second["classifier.weight"])


def test_bfloat16_training_runs_convolutions_in_bfloat16_and_keeps_float32_weights(voc, tmp_path, monkeypatch):
    """backbone.dtype bfloat16: autocast puts the trunk's convolutions in bfloat16; the CRM (peaks, scores),
    the loss and the weights stay float32, and the run differs from a float32 run of the same seed."""
    conv_dtypes, outputs = set(), []
    real_forward = PeakBackbone.forward

    def forward(self, x):
        out = real_forward(self, x)
        outputs.append(out)
        return out

    monkeypatch.setattr(PeakBackbone, "forward", forward)
    hook = torch.nn.modules.module.register_module_forward_hook(
        lambda m, i, o: conv_dtypes.add(o.dtype) if isinstance(m, nn.Conv2d) else None
    )
    try:
        _train(voc, tmp_path / "bf16", replace(CFG, epochs=1, dtype="bfloat16"))
    finally:
        hook.remove()
    assert conv_dtypes == {torch.bfloat16}
    assert {o.crm.dtype for o in outputs} == {o.scores.dtype for o in outputs} == {torch.float32}
    bf16 = _weights(tmp_path / "bf16" / "model.pt")
    assert {v.dtype for v in bf16.values() if v.is_floating_point()} == {torch.float32}
    _train(voc, tmp_path / "fp32", replace(CFG, epochs=1, dtype="float32"))
    fp32 = _weights(tmp_path / "fp32" / "model.pt")
    assert not torch.equal(bf16["classifier.weight"], fp32["classifier.weight"])
