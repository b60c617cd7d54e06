"""Image-label datasets for classification training (images + image-level labels only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from iam.data.transforms import hflip, normalise, resize
from iam.data.voc import read_image, read_image_labels


class ImageLabelDataset(Dataset):
    """Images of ``ids`` resized once to ``size`` and held in memory (uint8), with multi-hot labels.

    ``flip`` mirrors each sample with probability 1/2, drawn from torch's global RNG (so a run's
    augmentation is fixed by the seed and restored with the RNG state on resume).
    """

    def __init__(self, voc_root: str | Path, ids: list[str], classes: list[str], size: int, flip: bool = False) -> None:
        self.ids = list(ids)
        self.images = np.stack([resize(read_image(voc_root, i), size) for i in self.ids])
        self.labels = torch.from_numpy(np.stack([read_image_labels(voc_root, i, classes) for i in self.ids]))
        self.flip = flip

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = normalise(self.images[index])
        if self.flip and torch.rand(()) < 0.5:
            x = hflip(x)
        return x, self.labels[index]
