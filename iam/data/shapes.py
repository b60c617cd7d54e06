"""Polygon outlines for the synthetic benchmark: shared body shapes and class-specific parts."""

from __future__ import annotations

import numpy as np

PART_SHAPES = ("circle", "square", "triangle", "star", "diamond", "hexagon", "pentagon", "crescent")
UNSEEN_PART_SHAPE = "cross"


def polar(radii: np.ndarray) -> np.ndarray:
    theta = np.linspace(0, 2 * np.pi, len(radii), endpoint=False)
    return np.stack([np.cos(theta) * radii, np.sin(theta) * radii], 1)


def _regular(n: int, points: int = 64) -> np.ndarray:
    theta = np.linspace(0, 2 * np.pi, points, endpoint=False)
    sector = 2 * np.pi / n
    r = np.cos(np.pi / n) / np.cos((theta % sector) - sector / 2)
    return polar(r)


def part_outline(shape: str) -> np.ndarray:
    """Unit-size outline (k, 2) of a discriminative part, centred at the origin."""
    if shape == "circle":
        return polar(np.ones(48))
    if shape == "square":
        return _regular(4) * 0.9
    if shape == "diamond":
        return _regular(4)[:, ::-1] * np.array([0.7, 1.1])
    if shape in ("triangle", "pentagon", "hexagon"):
        return _regular({"triangle": 3, "pentagon": 5, "hexagon": 6}[shape])
    if shape == "star":
        return polar(np.tile([1.0, 0.45], 5))
    if shape == "crescent":
        t = np.linspace(-0.8 * np.pi, 0.8 * np.pi, 24)
        outer = np.stack([np.cos(t), np.sin(t)], 1)
        inner = np.stack([0.45 + 0.6 * np.cos(t[::-1]), 0.6 * np.sin(t[::-1])], 1)
        return np.concatenate([outer, inner])
    if shape == "cross":
        a, b = 1.0, 0.35
        return np.array(
            [[-b, -a], [b, -a], [b, -b], [a, -b], [a, b], [b, b], [b, a], [-b, a], [-b, b], [-a, b], [-a, -b], [-b, -b]]
        )
    raise ValueError(f"unknown part shape {shape!r}")


def body_outline(rng: np.random.Generator, unseen: bool = False, points: int = 72) -> np.ndarray:
    """Unit-radius body outline: a wobbly ellipse (seen), or a notched, angular blob (unseen)."""
    theta = np.linspace(0, 2 * np.pi, points, endpoint=False)
    if unseen:
        lobes = int(rng.integers(3, 6))
        r = 0.75 + 0.25 * np.sign(np.cos(lobes * theta + rng.uniform(0, np.pi)))
    else:
        r = np.ones(points)
        for harmonic in (2, 3):
            r += rng.uniform(0, 0.12) * np.cos(harmonic * theta + rng.uniform(0, 2 * np.pi))
    pts = polar(r)
    return pts * np.array([1.0, rng.uniform(0.55, 0.85)])


def transform(points: np.ndarray, scale: float, angle: float, centre: tuple[float, float]) -> np.ndarray:
    """Scale, rotate by ``angle`` radians and translate an outline (x, y order)."""
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    return points * scale @ rot.T + np.asarray(centre)
