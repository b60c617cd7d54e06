"""ResNet classifier with class response maps and peak stimulation (paper §3.1; Zhou et al. 2018).

The trunk is a ResNet in torchvision's layout (:mod:`iam.models.resnet`) up to its last residual
stage; a 1x1 convolution turns the features into class response maps (CRMs). Peak stimulation: the
peaks of a CRM are its local maxima in a 3x3 window that are above the map's median (the global
maximum always counts, so every map has a peak); the class score is the mean of the peak values,
and gradients reach the CRM only at the peaks.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from iam.errors import InputError
from iam.models.resnet import IMAGENET, LAYOUTS, ResNet, imagenet_state_dict, resnet


class BackboneOutput(NamedTuple):
    crm: torch.Tensor  # (B, C, h, w) class response maps
    scores: torch.Tensor  # (B, C) peak-stimulated class scores (logits)
    features: dict[str, torch.Tensor]  # "image": the input; "res2", "res3", "res4": outputs of layer1..layer3


def peak_mask(crm: torch.Tensor) -> torch.Tensor:
    """Bool mask of the peaks of each (..., h, w) map: 3x3 local maxima above the median, or the maximum."""
    flat = crm.flatten(-2)
    median = flat.median(dim=-1).values[..., None, None]
    top = flat.amax(dim=-1)[..., None, None]
    local = crm == F.max_pool2d(crm.flatten(0, -3)[:, None], 3, 1, 1).reshape(crm.shape)
    return local & ((crm > median) | (crm == top))


def peak_stimulation(crm: torch.Tensor) -> torch.Tensor:
    """(B, C, h, w) -> (B, C): mean of each map's peak values; gradient flows through the peaks only."""
    mask = peak_mask(crm.detach()).to(crm.dtype)
    return (crm * mask).flatten(2).sum(2) / mask.flatten(2).sum(2)


class PeakBackbone(nn.Module):
    """ResNet trunk + 1x1 conv classifier + peak stimulation."""

    def __init__(
        self,
        arch: str,
        num_classes: int,
        dilate_layer3: bool = True,
        dilate_layer4: bool = True,
        weights: str = "none",
    ) -> None:
        super().__init__()
        if arch not in LAYOUTS:
            raise InputError("config key 'backbone.arch'", f"unknown architecture {arch!r} ({', '.join(LAYOUTS)})")
        if weights == "imagenet" and arch not in IMAGENET:
            raise InputError("config key 'backbone.weights'", f"torchvision has no ImageNet weights for {arch}")
        trunk = resnet(arch)
        if weights == "imagenet":
            trunk.load_state_dict(_without_fc(imagenet_state_dict(arch)))
        elif weights != "none":
            _load_trunk(trunk, Path(weights))
        dilate_trunk(trunk, dilate_layer3, dilate_layer4)
        self.stem = nn.Sequential(trunk.conv1, trunk.bn1, trunk.relu, trunk.maxpool)
        self.layer1, self.layer2, self.layer3, self.layer4 = trunk.layer1, trunk.layer2, trunk.layer3, trunk.layer4
        self.classifier = nn.Conv2d(trunk.channels, num_classes, 1)
        self.arch = {
            "arch": arch,
            "num_classes": num_classes,
            "dilate_layer3": dilate_layer3,
            "dilate_layer4": dilate_layer4,
        }

    def trunk_parameters(self) -> list[nn.Parameter]:
        """Parameters of the ResNet trunk (everything but the classifier)."""
        head = {id(p) for p in self.classifier.parameters()}
        return [p for p in self.parameters() if id(p) not in head]

    def features(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The input and res2-res4, what the filling module reads: without layer4 and the CRM."""
        res2 = self.layer1(self.stem(x))
        res3 = self.layer2(res2)
        return {"image": x, "res2": res2, "res3": res3, "res4": self.layer3(res3)}

    def forward(self, x: torch.Tensor) -> BackboneOutput:
        features = self.features(x)
        crm = self.classifier(self.layer4(features["res4"])).float()  # peaks in float32 under autocast too
        return BackboneOutput(crm, peak_stimulation(crm), features)


def dilate_trunk(trunk: ResNet, layer3: bool, layer4: bool) -> None:
    """Trade layer3's and/or layer4's stride for dilation, in place (weights unchanged)."""
    dilation = 1
    for layer, dilate in ((trunk.layer3, layer3), (trunk.layer4, layer4)):
        if dilate:
            _dilate(layer, dilation, dilation * 2)
            dilation *= 2


def _dilate(layer: nn.Sequential, previous: int, dilation: int) -> None:
    """Trade a residual stage's stride 2 for dilation (torchvision's scheme, also for BasicBlock).

    The strided 3x3 conv of the first block keeps the previous dilation; every later 3x3 conv
    gets ``dilation``; the downsampling 1x1 conv keeps stride 1.
    """
    for index, block in enumerate(layer):
        for conv in (m for m in block.modules() if isinstance(m, nn.Conv2d)):
            strided = conv.stride != (1, 1)
            conv.stride = (1, 1)
            if conv.kernel_size == (3, 3):
                d = previous if index == 0 and strided else dilation
                conv.dilation, conv.padding = (d, d), (d, d)


def _without_fc(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v for k, v in state.items() if not k.startswith("fc.")}


def _load_trunk(trunk: nn.Module, path: Path) -> None:
    """Initialise the trunk from a torchvision-layout state dict file (its ``fc`` weights are ignored)."""
    if not path.is_file():
        raise InputError(path, "backbone.weights: checkpoint file does not exist")
    state = _without_fc(torch.load(path, map_location="cpu", weights_only=True))
    try:
        missing, unexpected = trunk.load_state_dict(state, strict=False)
    except RuntimeError as exc:
        raise InputError(path, f"not a state dict of this ResNet: {str(exc)[:300]}") from exc
    if missing or unexpected:
        raise InputError(path, f"not a state dict of this ResNet: missing {missing[:3]}, unexpected {unexpected[:3]}")


def save_backbone(model: PeakBackbone, classes: list[str], path: Path) -> None:
    """The final model file: architecture, class names and weights (caller writes atomically)."""
    torch.save({"arch": model.arch, "classes": list(classes), "state_dict": model.state_dict()}, path)


def load_backbone(
    path: str | Path,
    device: torch.device | str = "cpu",
    arch: str | None = None,
    num_classes: int | None = None,
) -> PeakBackbone:
    """A trained backbone in eval mode; ``arch``/``num_classes``, when given, must match the file."""
    path = Path(path)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        spec, state = ckpt["arch"], ckpt["state_dict"]
    except Exception as exc:  # torch.load fails in many ways on a foreign or truncated file
        raise InputError(path, f"not a backbone model file: {exc}") from exc
    for key, want in (("arch", arch), ("num_classes", num_classes)):
        if want is not None and spec[key] != want:
            raise InputError(path, f"backbone has {key}={spec[key]!r}, expected {want!r}")
    model = PeakBackbone(**spec)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        shape = f"a {spec['arch']} with {spec['num_classes']} classes"
        raise InputError(path, f"weights do not fit {shape}: {exc}") from exc
    return model.to(device).eval()
