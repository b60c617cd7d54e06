"""Write the synthetic benchmark to disk as a VOC2012 tree plus SBD ``inst/``/``cls/`` files."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from iam.data.synthetic import MUTED, BodyStyle, Scene, load_textures, multi_object_scene, single_object_scene
from iam.data.voc_writer import (
    annotation_xml,
    boxes_of,
    class_map,
    with_void,
    write_jpeg,
    write_palette_png,
    write_sbd,
)
from iam.errors import InputError
from iam.io.atomic import write_json, write_text
from iam.names import SALIENCY, SYNTHETIC_SPLITS, TRANSFER_SPLITS

FOLDERS = (
    "JPEGImages",
    "Annotations",
    "SegmentationClass",
    "SegmentationObject",
    "SegmentationPart",
    "SaliencyMasks",
    "ImageSets/Segmentation",
    "ImageSets/Main",
)
UNSEEN_CLASS_NAME = "unseen"
MAX_CLASSES = 20  # beyond this the part hues of neighbouring classes become hard to tell apart


def _write_scene(voc: Path, sbd: Path, image_id: str, scene: Scene, classes: Sequence[str], quality: int) -> None:
    n = len(scene.labels)
    names = [classes[lab] if lab >= 0 else UNSEEN_CLASS_NAME for lab in scene.labels]
    write_jpeg(voc / "JPEGImages" / f"{image_id}.jpg", scene.image, quality)
    xml = annotation_xml(image_id, scene.image.shape, names, boxes_of(scene.instances, n), scene.occluded)
    (voc / "Annotations" / f"{image_id}.xml").write_text(xml)
    write_palette_png(voc / "SegmentationObject" / f"{image_id}.png", with_void(scene.instances, scene.instances))
    write_palette_png(voc / "SegmentationPart" / f"{image_id}.png", scene.parts)
    if all(lab >= 0 for lab in scene.labels):
        cls = class_map(scene.instances, scene.labels)
        write_palette_png(voc / "SegmentationClass" / f"{image_id}.png", with_void(cls, scene.instances))
        write_sbd(sbd, image_id, scene.instances, scene.labels, len(classes))
    else:
        mask = ((scene.instances > 0) * 255).astype(np.uint8)
        Image.fromarray(mask, mode="L").save(voc / "SaliencyMasks" / f"{image_id}.png")


def _scene(
    key: list[int],
    split: str,
    params: dict[str, Any],
    n_classes: int,
    textures: list[np.ndarray],
) -> Scene:
    """The scene of generator key ``(seed, split, image)``; the class-tied bodies draw from ``key + [1]``
    (``params`` without the body keys: the schema's defaults, the benchmark before they existed)."""
    rng = np.random.default_rng(key)
    style = BodyStyle(
        np.random.default_rng([*key, 1]),
        n_classes,
        params.get("body_cue", 0.0),
        tuple(params.get("body_saturation", MUTED)),
    )
    size = params["image_size"]
    if split in TRANSFER_SPLITS:
        return single_object_scene(rng, size, n_classes, textures, split == SALIENCY, style)
    return multi_object_scene(rng, size, n_classes, params["min_instances"], params["max_instances"], textures, style)


def _write_lists(voc: Path, split: str, ids: list[str], labels: list[list[int]], classes: Sequence[str]) -> None:
    write_text(voc / "ImageSets" / "Segmentation" / f"{split}.txt", "".join(f"{i}\n" for i in ids))
    write_text(voc / "ImageSets" / "Main" / f"{split}.txt", "".join(f"{i}\n" for i in ids))
    for c, name in enumerate(classes):
        rows = "".join(f"{i} {1 if c in labs else -1:2d}\n" for i, labs in zip(ids, labels))
        write_text(voc / "ImageSets" / "Main" / f"{name}_{split}.txt", rows)


def _check(classes: Sequence[str], params: dict[str, Any]) -> None:
    key = "config key 'dataset.classes'"
    if not 2 <= len(classes) <= MAX_CLASSES:
        raise InputError(key, f"the synthetic benchmark needs 2..{MAX_CLASSES} classes, got {len(classes)}")
    if UNSEEN_CLASS_NAME in classes:
        raise InputError(key, f"{UNSEEN_CLASS_NAME!r} is reserved for the saliency_test class")
    if params["min_instances"] > params["max_instances"]:
        raise InputError("config key 'synthetic.min_instances'", "exceeds synthetic.max_instances")
    low, high = params.get("body_saturation", MUTED)
    if low > high:
        raise InputError("config key 'synthetic.body_saturation'", f"needs [low, high], got [{low}, {high}]")


def generate_benchmark(out: str | Path, classes: Sequence[str], params: dict[str, Any], seed: int) -> dict[str, Any]:
    """Generate every split under ``out/VOC2012`` and ``out/SBD``; write ``out/dataset.json`` last.

    ``params`` holds the config's ``synthetic`` section. Image ``i`` of split ``s`` is drawn from
    its own generator seeded by ``(seed, s, i)``, so the output does not depend on order.
    """
    _check(classes, params)
    start = time.perf_counter()
    out = Path(out)
    voc, sbd = out / "VOC2012", out / "SBD"
    for folder in FOLDERS:
        (voc / folder).mkdir(parents=True, exist_ok=True)
    for folder in ("inst", "cls"):
        (sbd / folder).mkdir(parents=True, exist_ok=True)
    textures = load_textures()
    counts = {}
    for s, split in enumerate(SYNTHETIC_SPLITS):
        ids, labels = [], []
        for i in range(params[f"n_{split}"]):
            scene = _scene([seed, s, i], split, params, len(classes), textures)
            image_id = f"{split}_{i:05d}"
            _write_scene(voc, sbd, image_id, scene, classes, params["jpeg_quality"])
            ids.append(image_id)
            labels.append(scene.labels)
        _write_lists(voc, split, ids, labels, classes)
        counts[split] = {"images": len(ids), "instances": int(sum(len(lab) for lab in labels))}
    summary = {
        "classes": list(classes),
        "params": params,
        "seed": seed,
        "splits": counts,
        "seconds": round(time.perf_counter() - start, 2),
    }
    write_json(out / "dataset.json", summary)
    return summary
