"""The embedded synthetic benchmark: objects whose class is told only by a small part.

Every object is a textured *body* (wobbly ellipse; its shape family and textures are shared by
all classes) with a small *discriminative part* attached at one end: the part's shape and hue
name the class. A classifier therefore fires on parts, as PRMs do on real data, and recovering
the body is what the filling module must learn. Scenes hold several instances (same-class
neighbours that touch, occlusion by later objects, sizes from ~1 % to ~45 % of the image) on
textured backgrounds, with colour, scale and rotation jitter.

Transfer splits: ``loc_test`` (one seen-class object on an unseen, lobed body shape) and
``saliency_test`` (one object of an unseen class: unseen part and body).
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, field

import cv2
import numpy as np
from skimage import data as skdata

from iam.data.shapes import PART_SHAPES, UNSEEN_PART_SHAPE, body_outline, part_outline, transform

TEXTURE_NAMES = ("brick", "grass", "gravel", "camera", "moon", "coins", "cell", "page")
PART_SIZE = 0.34  # part radius relative to the body's half-length
MIN_VISIBLE = 0.35  # an instance keeps at least this fraction of its drawn area
MIN_PART_VISIBLE = 0.3
OCCLUDED_BELOW = 0.95  # an instance showing less than this fraction of its drawn area is occluded
BODY_CONTRAST = 0.18  # texture amplitude on bodies (backgrounds: 0.12)


@dataclass
class Scene:
    """One rendered image with its instance-level ground truth."""

    image: np.ndarray  # (S, S, 3) uint8
    instances: np.ndarray  # (S, S) int32: 0 background, i = i-th entry of labels
    parts: np.ndarray  # (S, S) int32: instance index on the part pixels
    labels: list[int] = field(default_factory=list)  # class index per instance, -1 = unseen class
    occluded: list[bool] = field(default_factory=list)  # instance lost area to objects in front of it


@dataclass
class ObjectSpec:
    label: int  # class index, -1 for the unseen class
    centre: tuple[float, float]
    radius: float  # body half-length in pixels
    angle: float
    body: np.ndarray  # unit outline
    part_shape: str
    part_colour: np.ndarray  # (3,) float in [0, 1]


def load_textures() -> list[np.ndarray]:
    """Grayscale texture bank in [0, 1] from scikit-image's bundled images."""
    return [getattr(skdata, name)().astype(np.float32) / 255.0 for name in TEXTURE_NAMES]


def class_colour(label: int, n_classes: int) -> np.ndarray:
    """Saturated hue that, with the part shape, identifies a class."""
    return np.array(colorsys.hsv_to_rgb(label / n_classes, 1.0, 1.0), np.float32)


def part_shape(label: int) -> str:
    return PART_SHAPES[label % len(PART_SHAPES)]


def texture_patch(
    rng: np.random.Generator, textures: list[np.ndarray], size: int, index: int | None = None
) -> np.ndarray:
    """A random crop of texture ``index`` (a random one when None), resized and standardised."""
    tex = textures[rng.integers(len(textures)) if index is None else index]
    crop = int(rng.integers(size, max(size + 1, min(tex.shape) // 2)))
    y, x = rng.integers(0, tex.shape[0] - crop + 1), rng.integers(0, tex.shape[1] - crop + 1)
    patch = cv2.resize(tex[y : y + crop, x : x + crop], (size, size), interpolation=cv2.INTER_AREA)
    return (patch - patch.mean()) / (patch.std() + 1e-6)


MUTED = (0.05, 0.25)  # saturation range of backgrounds and, by default, bodies


def muted_colour(
    rng: np.random.Generator, hue: float | None = None, saturation: tuple[float, float] = MUTED
) -> np.ndarray:
    """A dull RGB colour of a random hue (or of ``hue``)."""
    hue = rng.uniform() if hue is None else hue
    return np.array(colorsys.hsv_to_rgb(hue, rng.uniform(*saturation), rng.uniform(0.3, 0.8)), np.float32)


def textured(
    rng: np.random.Generator,
    textures: list[np.ndarray],
    size: int,
    contrast: float,
    saturation: tuple[float, float] = MUTED,
) -> np.ndarray:
    colour = muted_colour(rng, saturation=saturation)
    return np.clip(colour + contrast * texture_patch(rng, textures, size)[..., None], 0, 1)


@dataclass(frozen=True)
class BodyStyle:
    """How bodies are painted (``synthetic.body_cue``, ``synthetic.body_saturation``).

    Every body draws a colour of random hue with saturation in ``saturation`` and a random texture
    from the scene's generator. With probability ``cue`` a seen-class body is then repainted from
    ``rng`` with its class's texture and a hue from its class's 1/n of the hue circle, at the same
    saturation, value and contrast: over classes drawn uniformly (and as many classes as textures)
    a body's appearance keeps its distribution, only its dependence on the class is new, and the
    scene's geometry and every other pixel stay those of ``cue`` 0. The defaults (cue 0, MUTED)
    paint the benchmark as before 2026-12-05.
    """

    rng: np.random.Generator
    n_classes: int
    cue: float = 0.0
    saturation: tuple[float, float] = MUTED

    def surface(self, scene_rng: np.random.Generator, textures: list[np.ndarray], size: int, label: int) -> np.ndarray:
        """The (size, size, 3) surface of a body of class ``label``."""
        surface = textured(scene_rng, textures, size, BODY_CONTRAST, self.saturation)
        if label < 0 or self.cue <= 0 or self.rng.uniform() >= self.cue:
            return surface
        hue = ((label + self.rng.uniform(-0.5, 0.5)) / self.n_classes) % 1.0
        patch = texture_patch(self.rng, textures, size, label % len(textures))
        return np.clip(muted_colour(self.rng, hue, self.saturation) + BODY_CONTRAST * patch[..., None], 0, 1)


def fill_polygon(poly: np.ndarray, size: int) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [np.round(poly * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    return mask.astype(bool)


def render(
    rng: np.random.Generator,
    size: int,
    objects: list[ObjectSpec],
    textures: list[np.ndarray],
    style: BodyStyle,
) -> Scene:
    """Paint objects back to front; keep instances that stay visible and recognisable."""
    image = textured(rng, textures, size, contrast=0.12)
    inst = np.zeros((size, size), np.int32)
    part = np.zeros((size, size), np.int32)
    drawn = []
    for k, obj in enumerate(objects, start=1):
        body = fill_polygon(transform(obj.body, obj.radius, obj.angle, obj.centre), size)
        tip = transform(np.array([[0.92, 0.0]]), obj.radius, obj.angle, obj.centre)[0]
        part_poly = transform(part_outline(obj.part_shape), PART_SIZE * obj.radius, obj.angle, tip)
        part_mask = fill_polygon(part_poly, size)
        full = body | part_mask
        image[body] = style.surface(rng, textures, size, obj.label)[body]
        shade = 1 + 0.04 * texture_patch(rng, textures, size)[..., None]
        image[part_mask] = np.clip(obj.part_colour * shade, 0, 1)[part_mask]
        inst[full] = k
        part[full] = 0
        part[part_mask] = k
        drawn.append((full.sum(), part_mask.sum()))
    scene = Scene(image, np.zeros_like(inst), np.zeros_like(part))
    for k, (obj, (area, part_area)) in enumerate(zip(objects, drawn), start=1):
        visible, part_visible = (inst == k).sum(), (part == k).sum()
        if area and visible >= MIN_VISIBLE * area and part_visible >= MIN_PART_VISIBLE * max(part_area, 1):
            scene.labels.append(obj.label)
            scene.occluded.append(bool(visible < OCCLUDED_BELOW * area))
            scene.instances[inst == k] = len(scene.labels)
            scene.parts[part == k] = len(scene.labels)
    scene.image = jitter_colours(rng, image)
    return scene


def jitter_colours(rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
    gain = rng.uniform(0.85, 1.15, size=3).astype(np.float32)
    out = (image - 0.5) * rng.uniform(0.85, 1.15) + 0.5 + rng.uniform(-0.06, 0.06)
    return (np.clip(out * gain, 0, 1) * 255).round().astype(np.uint8)


def _radius(rng: np.random.Generator, size: int, low: float, high: float) -> float:
    """Body half-length for an area fraction drawn log-uniformly from [low, high]."""
    frac = np.exp(rng.uniform(np.log(low), np.log(high)))
    return float(size * np.sqrt(frac / (0.7 * np.pi)))


def _spec(
    rng: np.random.Generator,
    size: int,
    label: int,
    n_classes: int,
    radius: float,
    unseen_body: bool = False,
    unseen_part: bool = False,
) -> ObjectSpec:
    margin = 0.6 * radius
    centre = (rng.uniform(margin, size - margin), rng.uniform(margin, size - margin))
    colour = (
        np.array(colorsys.hsv_to_rgb(rng.uniform(), 0.2, 1.0), np.float32)
        if unseen_part
        else class_colour(label, n_classes)
    )
    return ObjectSpec(
        label,
        centre,
        radius,
        rng.uniform(0, 2 * np.pi),
        body_outline(rng, unseen_body),
        UNSEEN_PART_SHAPE if unseen_part else part_shape(label),
        colour,
    )


def _neighbour(rng: np.random.Generator, obj: ObjectSpec) -> ObjectSpec:
    """A same-class instance placed beside ``obj`` so that their bodies touch."""
    normal = obj.angle + np.pi / 2
    gap = 1.35 * obj.radius * rng.uniform(0.9, 1.1)
    centre = (obj.centre[0] + gap * np.cos(normal), obj.centre[1] + gap * np.sin(normal))
    return ObjectSpec(
        obj.label,
        centre,
        obj.radius,
        obj.angle + rng.uniform(-0.3, 0.3),
        body_outline(rng),
        obj.part_shape,
        obj.part_colour,
    )


def multi_object_scene(
    rng: np.random.Generator,
    size: int,
    n_classes: int,
    n_min: int,
    n_max: int,
    textures: list[np.ndarray],
    style: BodyStyle,
) -> Scene:
    """A train/val scene: 1-5 instances, touching same-class pairs, occlusion, 1-45 % sizes."""
    for _ in range(20):
        n = int(rng.integers(n_min, n_max + 1))
        high = 0.5 if n == 1 else 0.35 / np.sqrt(n)
        objects: list[ObjectSpec] = []
        while len(objects) < n:
            obj = _spec(rng, size, int(rng.integers(n_classes)), n_classes, _radius(rng, size, 0.01, high))
            objects.append(obj)
            if len(objects) < n and rng.uniform() < 0.35:
                objects.append(_neighbour(rng, obj))
        scene = render(rng, size, objects, textures, style)
        if len(scene.labels) >= n_min:
            return scene
    raise RuntimeError("could not place a visible object after 20 attempts")


def single_object_scene(
    rng: np.random.Generator,
    size: int,
    n_classes: int,
    textures: list[np.ndarray],
    unseen_class: bool,
    style: BodyStyle,
) -> Scene:
    """A transfer scene: one object on an unseen body (loc_test) or of an unseen class (saliency_test)."""
    for _ in range(20):
        label = -1 if unseen_class else int(rng.integers(n_classes))
        radius = _radius(rng, size, 0.06, 0.4)
        obj = _spec(rng, size, label, n_classes, radius, unseen_body=True, unseen_part=unseen_class)
        scene = render(rng, size, [obj], textures, style)
        if scene.labels:
            return scene
    raise RuntimeError("could not place a visible object after 20 attempts")
