"""Proposal-stage costs on drawn 128 px scenes (1 thread): generator s/image and recall, .mat ingestion
throughput, HDF5 storage (superpixel map + CSR vs pycocotools RLE: bytes and decode time),
pseudo-GT and retrieval s/image. Writes benchmarks/results/proposals.json.

Usage: OMP_NUM_THREADS=1 python benchmarks/proposals.py [n_images]
"""

from __future__ import annotations

import datetime
import io
import platform
import sys
import tempfile
import time
from pathlib import Path

import cv2
import h5py
import numpy as np
import skimage.data
import torch
from pycocotools import mask as rle
from skimage.draw import disk, ellipse

from iam.baselines.prm_retrieval import retrieve
from iam.evaluation.proposal_recall import recall_metrics
from iam.io.atomic import write_json
from iam.masks import iou_matrix
from iam.proposals.generate import GeneratorConfig, generate, generate_dir
from iam.proposals.ingest import ingest
from iam.proposals.store import write_proposals
from iam.pseudo_gt.build import image_pseudo_gt
from iam.pseudo_gt.scoring import MatchParams

RESULTS = Path(__file__).resolve().parent / "results" / "proposals.json"

# Drawn scenes follow the synthetic benchmark's recipe (textured bodies, small coloured part, textured
# background); they stand in for iam/data/synthetic.py, which is written in parallel.
TEXTURES = ("brick", "grass", "gravel")


def _texture(rng: np.random.Generator, size: int) -> np.ndarray:
    tex = getattr(skimage.data, TEXTURES[rng.integers(len(TEXTURES))])()
    y, x = rng.integers(0, tex.shape[0] - 2 * size, 2)
    return tex[y : y + 2 * size : 2, x : x + 2 * size : 2].astype(np.float32) / 255


def draw_scene(rng: np.random.Generator, size: int = 128, max_objects: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """An RGB uint8 image and its (n, size, size) bool instance masks (later objects occlude)."""
    image = _texture(rng, size)[..., None] * rng.uniform(0.4, 1.0, 3)
    masks = []
    for _ in range(rng.integers(1, max_objects + 1)):
        cy, cx = rng.integers(size // 6, size - size // 6, 2)
        ry, rx = rng.integers(size // 12, size // 4, 2)
        body = np.zeros((size, size), bool)
        body[ellipse(cy, cx, ry, rx, shape=body.shape, rotation=rng.uniform(0, np.pi))] = True
        part = np.zeros_like(body)
        part[disk((cy - ry * 0.8, cx), max(2, min(ry, rx) // 3), shape=body.shape)] = True
        image[body] = (_texture(rng, size)[..., None] * rng.uniform(0.3, 1.0, 3))[body]
        image[part] = rng.uniform(0, 1, 3)
        mask = body | part
        masks = [m & ~mask for m in masks] + [mask]
    masks = np.array([m for m in masks if m.sum() > 20])
    return (np.clip(image, 0, 1) * 255).astype(np.uint8), masks


def _timed(fn, repeat: int = 1) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def _h5_bytes(write) -> int:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        write(f)
    return len(buf.getvalue())


def storage(props_list) -> dict[str, float]:
    """Bytes per image and decode seconds per image of the two layouts."""

    def write_csr(f):
        for i, p in enumerate(props_list):
            write_proposals(f, str(i), p)

    encoded = [rle.encode(np.asfortranarray(p.masks().transpose(1, 2, 0).astype(np.uint8))) for p in props_list]

    def write_rle(f):
        for i, codes in enumerate(encoded):
            g = f.create_group(str(i))
            g.create_dataset("counts", data=np.array([c["counts"] for c in codes], dtype=h5py.string_dtype()))

    n = len(props_list)
    return {
        "csr_bytes_per_image": _h5_bytes(write_csr) / n,
        "rle_bytes_per_image": _h5_bytes(write_rle) / n,
        "csr_decode_s_per_image": _timed(lambda: [p.masks() for p in props_list]) / n,
        "rle_decode_s_per_image": _timed(lambda: [rle.decode(c) for c in encoded]) / n,
    }


def voc_scale_pseudo_gt(
    rng: np.random.Generator, size: int = 448, n_props: int = 500, n_peaks: int = 5, repeats: int = 3
) -> dict:
    """Pseudo-GT matching of one image at VOC scale: ``n_peaks`` PRMs x ``n_props`` proposals of
    size x size (random ellipses), all scores as one matrix product; seconds per image."""
    masks = np.zeros((n_props, size, size), np.uint8)
    for m in masks:
        centre = tuple(int(v) for v in rng.integers(0, size, 2))
        axes = tuple(int(v) for v in rng.integers(8, size // 2, 2))
        cv2.ellipse(m, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    prms = rng.random((n_peaks, size, size), dtype=np.float32) ** 8
    peaks = np.zeros((n_peaks, 3), np.int64)
    crm = rng.random((1, size // 8, size // 8)).astype(np.float32)
    seconds = [
        _timed(lambda: image_pseudo_gt(peaks, prms, crm, masks.astype(bool), 5, MatchParams(1.0, 1.0, 3), 0.2))
        for _ in range(repeats)
    ]
    return {"size": size, "proposals": n_props, "peaks": n_peaks, "s_per_image": float(np.median(seconds))}


def main(n_images: int = 40) -> dict:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    scenes = [draw_scene(rng) for _ in range(n_images)]
    cfg, limit = GeneratorConfig(), 100
    generate(scenes[0][0], cfg, limit)  # warm-up
    with tempfile.TemporaryDirectory() as tmp:
        timing = generate_dir([str(i) for i in range(n_images)], lambda i: scenes[int(i)][0], tmp, cfg, limit)
        ingest_s = _timed(lambda: ingest(tmp, list(timing), lambda _: (128, 128), Path(tmp) / "p.h5", limit))
    props = [generate(img, cfg, limit) for img, _ in scenes]
    masks = [p.masks() for p in props]
    ious = [iou_matrix(gt, m) for (_, gt), m in zip(scenes, masks)]
    prms = [_fake_prms(gt, rng) for _, gt in scenes]
    peaks = [np.array([[0, *np.argwhere(p == p.max())[0]] for p in prm]) for prm in prms]
    crm = np.ones((1, 16, 16), np.float32)
    pgt_s = _timed(
        lambda: [
            image_pseudo_gt(pk, pr, crm, m, 5, MatchParams(1.0, 1.0, 3), 0.2) for pk, pr, m in zip(peaks, prms, masks)
        ]
    )
    pgts = [image_pseudo_gt(pk, pr, crm, m, 5, MatchParams(1.0, 1.0, 3), 0.2) for pk, pr, m in zip(peaks, prms, masks)]
    with_candidate = np.concatenate([(p.candidates >= 0).any(1) for p in pgts])
    ret_s = _timed(
        lambda: [
            retrieve(pk, np.ones(len(pk)), pr, crm, m, MatchParams(1.0, 0.5, 3), 0.5)
            for pk, pr, m in zip(peaks, prms, masks)
        ]
    )
    result = {
        "machine": f"{platform.node()} {platform.processor() or platform.machine()}, 1 thread",
        "date": datetime.date.today().isoformat(),
        "images": n_images,
        "image_size": 128,
        "max_per_image": limit,
        "generator_s_per_image": float(np.mean(list(timing.values()))),
        "generator_recall": recall_metrics(ious),
        "ingest_images_per_s": n_images / ingest_s,
        "pseudo_gt_s_per_image": pgt_s / n_images,
        "pseudo_gt_voc_scale": voc_scale_pseudo_gt(rng),
        "retrieval_s_per_image": ret_s / n_images,
        "blob_prm_peaks_with_candidate_k5": float(with_candidate.mean()),
        "storage": storage(props),
    }
    write_json(RESULTS, result)
    return result


def _fake_prms(gt: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A part-like PRM per instance: a Gaussian blob at a random pixel of it (stands in for extract_prm)."""
    yy, xx = np.mgrid[: gt.shape[1], : gt.shape[2]]
    out = []
    for mask in gt:
        y, x = np.argwhere(mask)[rng.integers(mask.sum())]
        out.append(np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / 18.0))
    return np.array(out, np.float32)


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else 40))
