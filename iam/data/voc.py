"""Readers for a PASCAL VOC2012 tree (and the synthetic benchmark, which is written in that format).

Only :func:`read_split`, :func:`read_image` and :func:`read_image_labels` may be used upstream of
evaluation; the others read ground truth (masks, boxes) and belong to evaluation and statistics.

Boxes are returned as 0-based pixel edges ``[x1, y1, x2, y2)`` (VOC's 1-based inclusive
``xmin..xmax`` becomes ``xmin - 1 .. xmax``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from iam.errors import InputError

VOID = 255


@dataclass
class GTInstances:
    """Ground-truth instances of one image."""

    masks: np.ndarray  # (n, H, W) bool
    labels: np.ndarray  # (n,) int64, 0-based class index
    void: np.ndarray  # (H, W) bool, pixels excluded from evaluation


def read_split(voc_root: str | Path, split: str) -> list[str]:
    """Image ids listed in ``ImageSets/Segmentation/<split>.txt`` (first word of each non-blank line).

    An id listed twice, an id that is not a plain file name, or bytes that are not UTF-8 are
    errors naming the file and line.
    """
    path = Path(voc_root) / "ImageSets" / "Segmentation" / f"{split}.txt"
    if not path.is_file():
        raise InputError(path, f"split file for split {split!r} does not exist")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()  # a Windows editor's BOM is not part of an id
    except UnicodeDecodeError as exc:
        raise InputError(path, f"split file is not UTF-8 text (byte {exc.start})") from exc
    first_line: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        if line.strip():
            _check_split_line(path, number, line.split()[0], first_line)
    if not first_line:
        raise InputError(path, "split file lists no images")
    return list(first_line)


def _check_split_line(path: Path, number: int, image_id: str, first_line: dict[str, int]) -> None:
    """Record ``image_id`` of line ``number`` in ``first_line``, rejecting duplicates and odd names."""
    if image_id in first_line:
        raise InputError(path, f"line {number}: image id {image_id!r} duplicates line {first_line[image_id]}")
    if image_id in (".", "..") or "/" in image_id or "\\" in image_id:
        raise InputError(path, f"line {number}: image id {image_id!r} is not a plain file name")
    first_line[image_id] = number


def read_image(voc_root: str | Path, image_id: str) -> np.ndarray:
    """``JPEGImages/<id>.jpg`` as (H, W, 3) uint8 RGB; corrupt or truncated files are an error."""
    path = Path(voc_root) / "JPEGImages" / f"{image_id}.jpg"
    if not path.is_file():
        raise InputError(path, f"image {image_id!r} is listed but its file is missing")
    try:
        with Image.open(path) as im:
            im.load()
            return np.asarray(im.convert("RGB"))
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(path, f"cannot decode image (corrupt or truncated JPEG): {exc}") from exc


def _objects(voc_root: str | Path, image_id: str, classes: list[str]) -> tuple[Path, list[ET.Element]]:
    path = Path(voc_root) / "Annotations" / f"{image_id}.xml"
    if not path.is_file():
        raise InputError(path, f"annotation of image {image_id!r} is missing")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise InputError(path, f"malformed XML: {exc}") from exc
    objects = root.findall("object")
    if not objects:
        raise InputError(path, "annotation has no <object>: the image has no label")
    for obj in objects:
        name = (obj.findtext("name") or "").strip()
        if name not in classes:
            raise InputError(path, f"unknown class name {name!r} (known: {', '.join(classes)})")
    return path, objects


def read_image_labels(voc_root: str | Path, image_id: str, classes: list[str]) -> np.ndarray:
    """Image-level multi-hot labels (C,) from the object names only; difficult objects count."""
    _, objects = _objects(voc_root, image_id, classes)
    labels = np.zeros(len(classes), np.float32)
    for obj in objects:
        labels[classes.index(obj.findtext("name", "").strip())] = 1.0
    return labels


@dataclass
class VOCObjects:
    """The objects of one annotation file, in file order. Evaluation and statistics only."""

    labels: np.ndarray  # (n,) int64, 0-based class index
    boxes: np.ndarray  # (n, 4) float32, 0-based [x1, y1, x2, y2)
    difficult: np.ndarray  # (n,) bool
    truncated: np.ndarray  # (n,) bool
    occluded: np.ndarray  # (n,) bool (absent in VOC2007-era files: False)


def _flag(obj: ET.Element, name: str) -> bool:
    return (obj.findtext(name) or "0").strip() == "1"


def _box(path: Path, obj: ET.Element) -> list[float]:
    box = obj.find("bndbox")
    if box is None:
        raise InputError(path, f"object {obj.findtext('name')!r} has no <bndbox>")
    try:
        x1, y1, x2, y2 = (float(box.findtext(k, "")) for k in ("xmin", "ymin", "xmax", "ymax"))
    except ValueError as exc:
        raise InputError(path, f"object {obj.findtext('name')!r} has a malformed <bndbox>") from exc
    return [x1 - 1, y1 - 1, x2, y2]


def read_objects(voc_root: str | Path, image_id: str, classes: list[str]) -> VOCObjects:
    """Labels, boxes and the difficult/truncated/occluded flags of every annotated object."""
    path, objects = _objects(voc_root, image_id, classes)
    return VOCObjects(
        np.asarray([classes.index(obj.findtext("name", "").strip()) for obj in objects], np.int64),
        np.asarray([_box(path, obj) for obj in objects], np.float32).reshape(-1, 4),
        *(np.asarray([_flag(obj, f) for obj in objects], bool) for f in ("difficult", "truncated", "occluded")),
    )


def read_boxes(voc_root: str | Path, image_id: str, classes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """GT boxes (n, 4) as 0-based ``[x1, y1, x2, y2)`` and their labels (n,). Evaluation only."""
    objects = read_objects(voc_root, image_id, classes)
    return objects.boxes, objects.labels


def read_label_png(path: Path) -> np.ndarray:
    """A palette (index) PNG as its (H, W) uint8 index array."""
    if not path.is_file():
        raise InputError(path, "annotation PNG is missing")
    try:
        with Image.open(path) as im:
            if im.mode not in ("P", "L"):
                raise InputError(path, f"expected a palette PNG, got mode {im.mode}")
            return np.asarray(im)
    except OSError as exc:
        raise InputError(path, f"cannot decode PNG: {exc}") from exc


def _image_size(voc_root: str | Path, image_id: str) -> tuple[int, int]:
    path = Path(voc_root) / "JPEGImages" / f"{image_id}.jpg"
    try:
        with Image.open(path) as im:
            return im.height, im.width
    except OSError as exc:
        raise InputError(path, f"cannot read image size: {exc}") from exc


def _checked_png(voc_root: str | Path, folder: str, image_id: str) -> np.ndarray:
    path = Path(voc_root) / folder / f"{image_id}.png"
    arr = read_label_png(path)
    size = _image_size(voc_root, image_id)
    if arr.shape != size:
        raise InputError(path, f"size {arr.shape} differs from the image's {size}")
    return arr


def read_gt_instances(voc_root: str | Path, image_id: str, classes: list[str]) -> GTInstances:
    """Instances from ``SegmentationObject`` + ``SegmentationClass`` PNGs. Evaluation only."""
    obj = _checked_png(voc_root, "SegmentationObject", image_id)
    cls = _checked_png(voc_root, "SegmentationClass", image_id)
    ids = [i for i in np.unique(obj) if i not in (0, VOID)]
    masks = np.stack([obj == i for i in ids]) if ids else np.zeros((0, *obj.shape), bool)
    labels = []
    for mask in masks:
        values = cls[mask]
        values = values[(values != 0) & (values != VOID)]
        if values.size == 0 or values.max() > len(classes):
            path = Path(voc_root) / "SegmentationClass" / f"{image_id}.png"
            raise InputError(path, "instance without a valid class label in SegmentationClass")
        labels.append(int(np.bincount(values).argmax()) - 1)
    return GTInstances(masks, np.asarray(labels, np.int64), obj == VOID)


def read_saliency_mask(voc_root: str | Path, image_id: str) -> np.ndarray:
    """Binary salient-object mask ``SaliencyMasks/<id>.png`` (synthetic saliency_test). Evaluation only."""
    return _checked_png(voc_root, "SaliencyMasks", image_id) > 127


def read_part_masks(voc_root: str | Path, image_id: str) -> np.ndarray:
    """``SegmentationPart/<id>.png``: instance index on each discriminative-part pixel (synthetic only)."""
    return _checked_png(voc_root, "SegmentationPart", image_id)
