"""ResNet trunks (He et al. 2016, torchvision's v1.5: a Bottleneck strides in its 3x3 conv) without
the pooling and fully connected head.

Module names and parameter shapes are torchvision's, so its ImageNet state dicts load unchanged
(:func:`imagenet_state_dict`). Written here rather than imported: ``import torchvision`` loads all of
its models and ``torch._dynamo`` and costs ~1.6 CPU-s in every process (3.5 CPU-s with torch vs 1.9
for torch alone on the 2-core VM, ``benchmarks/results/imports.json``), which every torch job of the
DAG paid; torchvision is imported only to fetch ImageNet weights.
"""

from __future__ import annotations

from torch import Tensor, nn


def conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride, padding=1, bias=False)


def conv1x1(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 1, stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convs and an identity (or 1x1 projection) shortcut."""

    expansion = 1

    def __init__(self, cin: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1, self.bn1 = conv3x3(cin, planes, stride), nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2, self.bn2 = conv3x3(planes, planes), nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (strided), 1x1 expand by 4, and the shortcut."""

    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1, self.bn1 = conv1x1(cin, planes), nn.BatchNorm2d(planes)
        self.conv2, self.bn2 = conv3x3(planes, planes, stride), nn.BatchNorm2d(planes)
        self.conv3, self.bn3 = conv1x1(planes, planes * 4), nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn3(self.conv3(self.relu(self.bn2(self.conv2(out)))))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    """Stem (7x7/2 conv, BN, ReLU, 3x3/2 max pool) and four residual stages of 64..512 planes."""

    def __init__(self, block: type[BasicBlock | Bottleneck], layers: list[int]) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, padding=3, bias=False)
        self.bn1, self.relu = nn.BatchNorm2d(64), nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, padding=1)
        cin, stages = 64, []
        for index, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers)):
            stages.append(_stage(block, cin, planes, blocks, stride=1 if index == 0 else 2))
            cin = planes * block.expansion
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.channels = cin
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


def _stage(block: type[BasicBlock | Bottleneck], cin: int, planes: int, blocks: int, stride: int) -> nn.Sequential:
    out = planes * block.expansion
    downsample = None
    if stride != 1 or cin != out:
        downsample = nn.Sequential(conv1x1(cin, out, stride), nn.BatchNorm2d(out))
    return nn.Sequential(block(cin, planes, stride, downsample), *(block(out, planes) for _ in range(blocks - 1)))


LAYOUTS: dict[str, tuple[type[BasicBlock | Bottleneck], list[int]]] = {
    "resnet10": (BasicBlock, [1, 1, 1, 1]),  # no ImageNet weights published (timm's resnet10t has a deep stem)
    "resnet18": (BasicBlock, [2, 2, 2, 2]),
    "resnet34": (BasicBlock, [3, 4, 6, 3]),
    "resnet50": (Bottleneck, [3, 4, 6, 3]),
}
IMAGENET = {"resnet18": "ResNet18_Weights", "resnet34": "ResNet34_Weights", "resnet50": "ResNet50_Weights"}


def resnet(arch: str) -> ResNet:
    """A randomly initialised trunk of ``arch`` (a key of :data:`LAYOUTS`)."""
    return ResNet(*LAYOUTS[arch])


def imagenet_state_dict(arch: str) -> dict[str, Tensor]:
    """torchvision's ImageNet weights of ``arch`` (downloaded to torch's cache when missing)."""
    import torchvision  # only here: see the module docstring

    return getattr(torchvision.models, IMAGENET[arch]).DEFAULT.get_state_dict(progress=False)
