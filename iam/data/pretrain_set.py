"""The embedded stand-in for ImageNet: a generated many-class set with image-level labels only.

The paper's backbone starts from ImageNet weights, whose features already separate objects from
background and know their outlines before any VOC label is seen. This set teaches the same to a
trunk trained here: each image holds one textured object on a textured background, and its class
is decided by *whole-object* properties only, the outline family (8) times the hue of the body's
surface (8): 64 classes. Size, rotation, aspect, saturation, brightness and textures are jittered
per instance, so naming the class means finding the object's extent (where its colour holds) and
reading its outline.

It is disjoint from the benchmark: no discriminative part (the benchmark's class cue), outline
families of its own (none is a benchmark part or body shape), its own random streams (seeded by
``(seed, 7919, i)``), no masks or boxes kept. An earlier version told classes by outline and a
natural texture crop; a from-scratch ResNet-10 stayed at chance on it in the CPU budget (README,
method notes), while hue is learnt in a few epochs and the outline follows.
"""

from __future__ import annotations

import colorsys
from typing import TypeVar

import numpy as np

from iam.data.shapes import polar, transform
from iam.data.synthetic import fill_polygon, jitter_colours, texture_patch, textured

HUES = 8
Label = TypeVar("Label", int, np.ndarray)  # one class index, or an array of them
STREAM = 7919  # keeps this set's random streams apart from the benchmark's (seed, split, i)
_RING = np.linspace(0, 2 * np.pi, 72, endpoint=False)
_HEART_Y = (13 * np.cos(_RING) - 5 * np.cos(2 * _RING) - 2 * np.cos(3 * _RING) - np.cos(4 * _RING)) / 16
_HEART = np.stack([np.sin(_RING) ** 3, -_HEART_Y], 1)
OUTLINES: dict[str, np.ndarray] = {
    "bar": np.array([[-1, -0.27], [1, -0.27], [1, 0.27], [-1, 0.27]]),
    "ell": np.array([[-1, -1], [0.1, -1], [0.1, 0.3], [1, 0.3], [1, 1], [-1, 1]]),
    "tee": np.array([[-1, -1], [1, -1], [1, -0.45], [0.3, -0.45], [0.3, 1], [-0.3, 1], [-0.3, -0.45], [-1, -0.45]]),
    "arrow": np.array([[-1, -0.25], [0.2, -0.25], [0.2, -0.7], [1, 0], [0.2, 0.7], [0.2, 0.25], [-1, 0.25]]),
    "heart": _HEART,
    "bowtie": np.array([[-1, -0.9], [0, -0.2], [1, -0.9], [1, 0.9], [0, 0.2], [-1, 0.9]]),
    "dumbbell": polar(0.55 + 0.45 * np.abs(np.cos(_RING)) ** 3) * np.array([1.0, 0.8]),
    "ushape": np.array([[-1, -1], [-0.4, -1], [-0.4, 0.4], [0.4, 0.4], [0.4, -1], [1, -1], [1, 1], [-1, 1]]),
}
NAMES = tuple(OUTLINES)


def n_classes() -> int:
    return len(NAMES) * HUES


def outline_of(label: Label) -> Label:
    """The outline family index of class ``label`` (elementwise for an array)."""
    return label // HUES


def hue_of(label: Label) -> Label:
    """The hue bin of class ``label`` (elementwise for an array)."""
    return label % HUES


def class_name(label: int) -> str:
    return f"{NAMES[outline_of(label)]}-hue{hue_of(label)}"


def scene(rng: np.random.Generator, size: int, label: int, textures: list[np.ndarray]) -> np.ndarray:
    """One (size, size, 3) uint8 image of class ``label``: an object of about 8-45 % of the image."""
    image = textured(rng, textures, size, contrast=0.12)
    radius = 1.1 * size * np.sqrt(np.exp(rng.uniform(np.log(0.08), np.log(0.45))) / np.pi)
    margin = 0.7 * radius
    centre = (rng.uniform(margin, size - margin), rng.uniform(margin, size - margin))
    shape = OUTLINES[NAMES[outline_of(label)]] * np.array([rng.uniform(0.8, 1.0), 1.0])
    body = fill_polygon(transform(shape, radius, rng.uniform(0, 2 * np.pi), centre), size)
    hue = (hue_of(label) + rng.uniform(-0.3, 0.3)) / HUES % 1
    colour = np.array(colorsys.hsv_to_rgb(hue, rng.uniform(0.35, 0.7), rng.uniform(0.45, 0.9)), np.float32)
    surface = np.clip(colour + 0.18 * texture_patch(rng, textures, size)[..., None], 0, 1)
    image[body] = surface[body]
    return jitter_colours(rng, image)


def generate(
    n_images: int, size: int, seed: int | list[int], textures: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """``(images (n, size, size, 3) uint8, labels (n,) int64)``, classes balanced (image i has
    class i mod C), image i drawn from its own generator ``(*seed, 7919, i)`` so the set does not
    depend on order."""
    labels = np.arange(n_images, dtype=np.int64) % n_classes()
    key = list(np.atleast_1d(seed))
    images = np.stack(
        [scene(np.random.default_rng([*key, STREAM, i]), size, int(lab), textures) for i, lab in enumerate(labels)]
    )
    return images, labels
