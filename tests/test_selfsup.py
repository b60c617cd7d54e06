"""Self-supervised pretraining (SimCLR): the loss finds twins, the augmentation keeps colour, and the
trunk loads as backbone.weights, resumes exactly and reads no annotation."""

import numpy as np
import pytest
import torch
from PIL import Image

from iam.models.backbone import PeakBackbone
from iam.training.selfsup import SelfSupConfig, augmentation, load_images, nt_xent, pretrain_selfsup, views


def test_nt_xent_is_low_when_each_view_is_nearest_its_twin():
    torch.manual_seed(0)
    base = torch.randn(6, 16)
    twins = torch.cat([base, base + 0.01 * torch.randn(6, 16)])
    swapped = torch.cat([base, base[torch.tensor([1, 2, 3, 4, 5, 0])]])
    loss, found = nt_xent(twins, 0.2)
    wrong_loss, wrong_found = nt_xent(swapped, 0.2)
    assert found == 1.0 and wrong_found == 0.0
    assert loss < 0.5 < wrong_loss
    assert torch.isfinite(loss)  # the masked diagonal (-inf) never reaches the loss


def test_views_are_seeded_crops_that_keep_hue():
    images = torch.zeros(4, 3, 48, 48, dtype=torch.uint8)
    images[:, 0] = 200  # a pure red image: brightness and contrast jitter may dim it, not turn it
    augment = augmentation(SelfSupConfig(image_size=24, jitter=0.4))
    torch.manual_seed(1)
    first = views(images, augment)
    torch.manual_seed(1)
    assert torch.equal(first, views(images, augment))
    assert first.shape == (4, 3, 24, 24) and first.dtype == torch.float32
    rgb = first * torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1) + torch.tensor([0.485, 0.456, 0.406]).view(
        1, 3, 1, 1
    )
    assert (rgb[:, 0] > rgb[:, 1] + 0.3).all() and torch.allclose(rgb[:, 1], rgb[:, 2], atol=1e-5)


def _voc_images_only(root, n=8, size=40):
    """A VOC root holding JPEGImages alone: no annotation, mask or label file."""
    rng = np.random.default_rng(0)
    (root / "JPEGImages").mkdir(parents=True)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (size, size + 8, 3), dtype=np.uint8)).save(
            root / "JPEGImages" / f"{i}.jpg"
        )
    return [str(i) for i in range(n)]


@pytest.mark.slow
def test_trunk_loads_as_backbone_weights_and_resumes_exactly(tmp_path):
    ids = _voc_images_only(tmp_path / "voc")
    images = load_images(tmp_path / "voc", ids, 32)
    assert images.shape == (8, 3, 32, 32) and images.dtype == torch.uint8
    cfg = SelfSupConfig(image_size=24, epochs=2, batch_size=4)
    device = torch.device("cpu")
    whole = pretrain_selfsup(images, cfg, seed=0, out_dir=tmp_path / "whole", device=device)
    assert [r["epoch"] for r in whole] == [1, 2] and all(np.isfinite(r["loss"]) for r in whole)
    once = pretrain_selfsup(images, SelfSupConfig(**{**cfg.__dict__, "epochs": 1}), 0, tmp_path / "cut", device)
    resumed = pretrain_selfsup(images, cfg, seed=0, out_dir=tmp_path / "cut", device=device)
    assert resumed[0] == once[0] and resumed == whole  # epoch 1 resumed, epoch 2 as if never interrupted
    state = torch.load(tmp_path / "whole" / "model.pth", weights_only=True)
    assert torch.equal(
        state["layer4.0.conv2.weight"], torch.load(tmp_path / "cut" / "model.pth")["layer4.0.conv2.weight"]
    )
    model = PeakBackbone("resnet10", 3, weights=str(tmp_path / "whole" / "model.pth"))
    assert torch.equal(model.stem[0].weight, state["conv1.weight"])
    assert not any(k.startswith(("fc.", "projection.")) for k in state)
