"""The embedded stand-in for ImageNet: a generated many-class set with image-level labels only.

The paper's backbone starts from ImageNet weights, whose features already separate objects from
background and know their outlines before any VOC label is seen. This set teaches the same to a
trunk trained here: each image holds one textured object on a textured background, and its class
is decided by *whole-object* properties only, the outline family (8) times the surface texture
(8): 64 classes. Outlines and textures are jittered per instance, colours are random, so the only
way to name the class is to find the object's extent and read its shape and texture.

It is disjoint from the benchmark: no coloured discriminative part (the benchmark's class cue),
outline families of its own, its own random streams (seeded by ``(seed, 7919, i)``), no masks or
boxes kept.
"""

from __future__ import annotations

import numpy as np

from iam.data.shapes import polar, transform
from iam.data.synthetic import TEXTURE_NAMES, fill_polygon, jitter_colours, muted_colour, texture_patch, textured

SHAPES = ("ellipse", "rounded_box", "diamond", "trefoil", "flower", "egg", "bean", "boomerang")
STREAM = 7919  # keeps this set's random streams apart from the benchmark's (seed, split, i)


def n_classes() -> int:
    return len(SHAPES) * len(TEXTURE_NAMES)


def class_name(label: int) -> str:
    return f"{SHAPES[label // len(TEXTURE_NAMES)]}-{TEXTURE_NAMES[label % len(TEXTURE_NAMES)]}"


def _superellipse(theta: np.ndarray, power: float) -> np.ndarray:
    c, s = np.abs(np.cos(theta)), np.abs(np.sin(theta))
    return (c**power + s**power) ** (-1 / power)


def outline(shape: str, rng: np.random.Generator, points: int = 72) -> np.ndarray:
    """Unit-size outline (points, 2) of an outline family, with per-instance jitter."""
    theta = np.linspace(0, 2 * np.pi, points, endpoint=False)
    wobble = rng.uniform(0.9, 1.1)
    if shape == "ellipse":
        r, aspect = np.ones(points), rng.uniform(0.4, 0.55)
    elif shape == "rounded_box":
        r, aspect = _superellipse(theta, rng.uniform(4, 6)) / 1.2, rng.uniform(0.6, 0.9)
    elif shape == "diamond":
        r, aspect = _superellipse(theta, 1.0), rng.uniform(0.6, 0.9)
    elif shape == "trefoil":
        r, aspect = 0.7 + 0.3 * wobble * np.cos(3 * theta), 1.0
    elif shape == "flower":
        r, aspect = 0.75 + 0.2 * wobble * np.cos(6 * theta), 1.0
    elif shape == "egg":
        r, aspect = 0.8 + 0.25 * wobble * np.cos(theta), 0.8
    elif shape == "bean":
        r, aspect = 1 - 0.45 * wobble * np.exp(-((np.angle(np.exp(1j * (theta - np.pi / 2)))) ** 2) / 0.3), 0.7
    elif shape == "boomerang":
        r, aspect = 0.35 + 0.65 * np.abs(np.cos(theta)) ** 0.5 * (np.cos(theta) > 0) + 0.3 * (np.sin(theta) > 0.3), 1.0
    else:
        raise ValueError(f"unknown outline family {shape!r}")
    return polar(np.clip(r, 0.15, None)) * np.array([1.0, aspect])


def scene(rng: np.random.Generator, size: int, label: int, textures: list[np.ndarray]) -> np.ndarray:
    """One (size, size, 3) uint8 image of class ``label``: an object of 5-50 % of the image."""
    shape, texture = SHAPES[label // len(TEXTURE_NAMES)], label % len(TEXTURE_NAMES)
    image = textured(rng, textures, size, contrast=0.12)
    frac = np.exp(rng.uniform(np.log(0.05), np.log(0.5)))
    radius = size * np.sqrt(frac / np.pi)
    margin = 0.5 * radius
    centre = (rng.uniform(margin, size - margin), rng.uniform(margin, size - margin))
    body = fill_polygon(transform(outline(shape, rng), radius, rng.uniform(0, 2 * np.pi), centre), size)
    surface = np.clip(muted_colour(rng) + 0.25 * texture_patch(rng, [textures[texture]], size)[..., None], 0, 1)
    image[body] = surface[body]
    return jitter_colours(rng, image)


def generate(n_images: int, size: int, seed: int, textures: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(images (n, size, size, 3) uint8, labels (n,) int64)``, classes balanced (image i has
    class i mod C), image i drawn from its own generator so the set does not depend on order."""
    labels = np.arange(n_images, dtype=np.int64) % n_classes()
    images = np.stack(
        [scene(np.random.default_rng([seed, STREAM, i]), size, int(lab), textures) for i, lab in enumerate(labels)]
    )
    return images, labels
