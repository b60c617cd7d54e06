"""Built-in class-agnostic segment proposals from the image alone (selective-search recipe).

For each Felzenszwalb over-segmentation (one per ``scales`` entry) regions are merged greedily,
most similar adjacent pair first, under each similarity strategy (colour + texture + size + fill,
and texture + size + fill). Every region of every hierarchy is a proposal. All proposals are
unions of the *overlay* superpixels (the intersection of all over-segmentations), which is what
MCG's ``.mat`` format stores. Objectness = how distinct a region is from the region it is merged
into (1 - similarity at that merge; the top of a hierarchy scores 0); exact and near duplicates
(IoU above ``dedup_iou``) keep only the best-scoring copy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage
from skimage.segmentation import felzenszwalb

from iam.io.atomic import write_json
from iam.proposals.mcg import SuperpixelProposals, from_lists, write_mcg

COLOUR_BINS = 25
ORIENTATIONS = 8
MAGNITUDE_BINS = 4
log = logging.getLogger(__name__)
STRATEGIES = ((1.0, 1.0, 1.0, 1.0), (0.0, 1.0, 1.0, 1.0))  # weights of colour, texture, size, fill


@dataclass(frozen=True)
class GeneratorConfig:
    """Generator settings (``proposals.generator.*`` in the config)."""

    scales: tuple[int, ...] = (50, 200, 600)
    sigma: float = 0.8
    min_size: int = 100
    min_area: int = 30
    dedup_iou: float = 0.9


def overlay(segmentations: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Intersect over-segmentations: ``(overlay map, per segmentation: base label of each overlay id)``."""
    keys = np.zeros(segmentations[0].shape, np.int64)
    for seg in segmentations:
        keys = keys * (int(seg.max()) + 1) + seg
    _, first, inverse = np.unique(keys.ravel(), return_index=True, return_inverse=True)
    return inverse.reshape(keys.shape).astype(np.int32), [seg.ravel()[first] for seg in segmentations]


def pixel_codes(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel: colour bin per channel (H*W, 3) and one texture bin (H*W,) (orientation x magnitude)."""
    colour = (image.reshape(-1, 3).astype(np.int64) * COLOUR_BINS) // 256
    grey = image.astype(np.float32).mean(2)
    gy, gx = np.gradient(grey)
    magnitude = np.hypot(gx, gy).ravel()
    orientation = ((np.arctan2(gy, gx).ravel() + np.pi) / (2 * np.pi) * ORIENTATIONS).astype(np.int64) % ORIENTATIONS
    edges = np.quantile(magnitude, np.linspace(0, 1, MAGNITUDE_BINS + 1)[1:-1])
    return colour, orientation * MAGNITUDE_BINS + np.searchsorted(edges, magnitude)


def region_histograms(
    labels: np.ndarray, n: int, colour: np.ndarray, texture: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """L1-normalised colour (n, 3*COLOUR_BINS) and texture (n, ORIENTATIONS*MAGNITUDE_BINS) histograms."""
    flat = labels.ravel()
    per_channel = [np.bincount(flat * COLOUR_BINS + colour[:, c], minlength=n * COLOUR_BINS) for c in range(3)]
    col = np.concatenate([h.reshape(n, COLOUR_BINS) for h in per_channel], axis=1).astype(np.float32)
    bins = ORIENTATIONS * MAGNITUDE_BINS
    tex = np.bincount(flat * bins + texture, minlength=n * bins).reshape(n, bins).astype(np.float32)
    return col / col.sum(1, keepdims=True), tex / tex.sum(1, keepdims=True)


def adjacency(labels: np.ndarray, n: int) -> np.ndarray:
    """(n, n) bool: regions sharing a 4-connected edge."""
    adj = np.zeros((n, n), bool)
    for a, b in ((labels[:, :-1], labels[:, 1:]), (labels[:-1], labels[1:])):
        diff = a != b
        adj[a[diff], b[diff]] = True
    return adj | adj.T


class Hierarchy:
    """Greedy selective-search merging of one over-segmentation under one similarity strategy."""

    def __init__(self, labels: np.ndarray, colour: np.ndarray, texture: np.ndarray, weights: tuple[float, ...]) -> None:
        n = int(labels.max()) + 1
        total = 2 * n - 1
        self.weights, self.image_size = weights, labels.size
        self.colour = np.zeros((total, 3 * COLOUR_BINS), np.float32)
        self.texture = np.zeros((total, ORIENTATIONS * MAGNITUDE_BINS), np.float32)
        self.colour[:n], self.texture[:n] = region_histograms(labels, n, colour, texture)
        self.size = np.zeros(total)
        self.size[:n] = np.bincount(labels.ravel(), minlength=n)
        self.box = np.zeros((total, 4))  # y0, x0, y1, x1 (inclusive)
        self.box[:n] = _boxes(labels, n)
        self.member = np.zeros((total, n), bool)
        self.member[np.arange(n), np.arange(n)] = True
        self.sim = np.full((total, total), -np.inf)
        adj = adjacency(labels, n)
        rows, cols = np.nonzero(np.triu(adj))
        self.sim[rows, cols] = self.sim[cols, rows] = self._similarity(rows, cols)
        self.merged_at = np.zeros(total)  # similarity at which each region joined its parent
        self.count = n

    def _similarity(self, a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
        wc, wt, ws, wf = self.weights
        colour = np.minimum(self.colour[a], self.colour[b]).sum(-1)
        texture = np.minimum(self.texture[a], self.texture[b]).sum(-1)
        size = 1 - (self.size[a] + self.size[b]) / self.image_size
        lo = np.minimum(self.box[a, :2], self.box[b, :2])
        hi = np.maximum(self.box[a, 2:], self.box[b, 2:])
        box_area = np.prod(hi - lo + 1, axis=-1)
        fill = 1 - (box_area - self.size[a] - self.size[b]) / self.image_size
        return (wc * colour + wt * texture + ws * size + wf * fill) / sum(self.weights)

    def run(self) -> tuple[np.ndarray, np.ndarray]:
        """Merge to the top; return ``(membership over base regions (r, n), objectness (r,))``."""
        while True:
            flat = int(np.argmax(self.sim[: self.count, : self.count]))
            i, j = divmod(flat, self.count)
            if not np.isfinite(self.sim[i, j]):
                break
            self._merge(i, j)
        return self.member[: self.count], 1 - self.merged_at[: self.count]

    def _merge(self, i: int, j: int) -> None:
        t = self.count
        self.count += 1
        self.merged_at[[i, j]] = self.sim[i, j]
        si, sj = self.size[i], self.size[j]
        self.size[t] = si + sj
        self.colour[t] = (si * self.colour[i] + sj * self.colour[j]) / (si + sj)
        self.texture[t] = (si * self.texture[i] + sj * self.texture[j]) / (si + sj)
        self.box[t, :2] = np.minimum(self.box[i, :2], self.box[j, :2])
        self.box[t, 2:] = np.maximum(self.box[i, 2:], self.box[j, 2:])
        self.member[t] = self.member[i] | self.member[j]
        neighbours = np.nonzero(np.isfinite(self.sim[i, :t]) | np.isfinite(self.sim[j, :t]))[0]
        neighbours = neighbours[(neighbours != i) & (neighbours != j)]
        self.sim[[i, j], :] = -np.inf
        self.sim[:, [i, j]] = -np.inf
        if len(neighbours):
            self.sim[t, neighbours] = self.sim[neighbours, t] = self._similarity(neighbours, t)
        self.merged_at[t] = 1.0  # the top of a hierarchy (no parent) scores 0


def _boxes(labels: np.ndarray, n: int) -> np.ndarray:
    """(n, 4) inclusive boxes (y0, x0, y1, x1) of each region."""
    slices = ndimage.find_objects(labels + 1, max_label=n)
    return np.array([[sy.start, sx.start, sy.stop - 1, sx.stop - 1] for sy, sx in slices], float)


def generate(image: np.ndarray, cfg: GeneratorConfig, max_proposals: int) -> SuperpixelProposals:
    """Proposals for one RGB uint8 image, best first, at most ``max_proposals``."""
    segs = [felzenszwalb(image, scale=s, sigma=cfg.sigma, min_size=cfg.min_size) for s in cfg.scales]
    sp, base_of = overlay(segs)
    colour, texture = pixel_codes(image)
    members, scores = [], []
    for seg, base in zip(segs, base_of):
        for weights in STRATEGIES:
            member, score = Hierarchy(seg, colour, texture, weights).run()
            members.append(member[:, base])
            scores.append(score)
    member, score = np.concatenate(members), np.concatenate(scores)
    area = np.bincount(sp.ravel(), minlength=member.shape[1]).astype(np.float32)
    keep = _deduplicate(member, score, area, cfg, max_proposals)
    return from_lists(sp, [np.nonzero(member[j])[0] for j in keep], score[keep])


def _deduplicate(
    member: np.ndarray, score: np.ndarray, area: np.ndarray, cfg: GeneratorConfig, limit: int
) -> np.ndarray:
    """Indices of the best proposals: large enough, not the whole image, no IoU above ``dedup_iou``."""
    size = member @ area
    ok = np.nonzero((size >= cfg.min_area) & (size < area.sum()))[0]
    _, unique = np.unique(np.packbits(member[ok], axis=1), axis=0, return_index=True)
    pool = ok[unique]
    pool = pool[np.argsort(-score[pool], kind="stable")][: 4 * limit]
    m = member[pool].astype(np.float32)
    inter = (m * area) @ m.T
    iou = inter / (size[pool][:, None] + size[pool][None, :] - inter)
    kept: list[int] = []
    for r in range(len(pool)):
        if not kept or iou[r, kept].max() <= cfg.dedup_iou:
            kept.append(r)
            if len(kept) == limit:
                break
    return pool[kept]


def generate_dir(
    image_ids: list[str],
    read_image: Callable[[str], np.ndarray],
    out_dir: str | Path,
    cfg: GeneratorConfig,
    max_proposals: int,
) -> dict[str, float]:
    """Write ``{out_dir}/{id}.mat`` (MCG format) per image and ``timing.json`` (seconds per image)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    timing = {}
    for image_id in image_ids:
        image = read_image(image_id)
        start = time.perf_counter()
        props = generate(image, cfg, max_proposals)
        timing[image_id] = time.perf_counter() - start
        write_mcg(out_dir / f"{image_id}.mat", props)
    write_json(out_dir / "timing.json", timing)
    if timing:
        log.info("%d images, %.3f s/image", len(timing), sum(timing.values()) / len(timing))
    return timing
