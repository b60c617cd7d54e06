"""Writers for the real VOC2012 and SBD file formats (used by the synthetic benchmark and fixtures)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from xml.etree import ElementTree as ET

import cv2
import numpy as np
import scipy.io
import scipy.sparse
from PIL import Image

from iam.data.voc import VOID


def voc_palette() -> list[int]:
    """The 256-colour VOC palette (bit-interleaved label colours; 255 = void is (224, 224, 192))."""
    palette = []
    for i in range(256):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        palette += [r, g, b]
    return palette


PALETTE = voc_palette()


def void_band(instances: np.ndarray) -> np.ndarray:
    """Pixels on a boundary between different instance ids (VOC's 'difficult border' band)."""
    kernel = np.ones((3, 3), np.uint8)
    ids = instances.astype(np.uint8)
    return cv2.dilate(ids, kernel) != cv2.erode(ids, kernel)


def write_palette_png(path: Path, index: np.ndarray) -> None:
    im = Image.fromarray(index.astype(np.uint8), mode="P")
    im.putpalette(PALETTE)
    im.save(path)


def write_jpeg(path: Path, image: np.ndarray, quality: int) -> None:
    Image.fromarray(image).save(path, quality=quality)


def boxes_of(instances: np.ndarray, n: int) -> list[tuple[int, int, int, int]]:
    """VOC 1-based inclusive (xmin, ymin, xmax, ymax) of instance ids 1..n."""
    out = []
    for k in range(1, n + 1):
        ys, xs = np.nonzero(instances == k)
        out.append((int(xs.min()) + 1, int(ys.min()) + 1, int(xs.max()) + 1, int(ys.max()) + 1))
    return out


def annotation_xml(
    image_id: str, shape: tuple[int, ...], names: list[str], boxes: Sequence[tuple[int, ...]], occluded: list[bool]
) -> str:
    """A VOC2012 annotation: filename, size, objects with name, pose, truncated, occluded, difficult, bndbox.

    An object is truncated when its box touches the image border.
    """
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = "VOC2012"
    ET.SubElement(root, "filename").text = f"{image_id}.jpg"
    size = ET.SubElement(root, "size")
    for key, value in zip(("width", "height", "depth"), (shape[1], shape[0], 3)):
        ET.SubElement(size, key).text = str(value)
    ET.SubElement(root, "segmented").text = "1"
    for name, box, occ in zip(names, boxes, occluded):
        obj = ET.SubElement(root, "object")
        truncated = min(box[:2]) == 1 or box[2] == shape[1] or box[3] == shape[0]
        ET.SubElement(obj, "name").text = name
        ET.SubElement(obj, "pose").text = "Unspecified"
        ET.SubElement(obj, "truncated").text = str(int(truncated))
        ET.SubElement(obj, "occluded").text = str(int(occ))
        ET.SubElement(obj, "difficult").text = "0"
        bnd = ET.SubElement(obj, "bndbox")
        for key, value in zip(("xmin", "ymin", "xmax", "ymax"), box):
            ET.SubElement(bnd, key).text = str(value)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode")


def _boundary(mask: np.ndarray) -> scipy.sparse.csc_matrix:
    """Inner boundary pixels of a mask, as SBD stores them (a sparse logical matrix)."""
    inner = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    return scipy.sparse.csc_matrix(mask & ~inner)


# MAT v5 files start with 116 bytes of text; scipy writes the current time there, MATLAB its platform and date.
MAT_HEADER = b"MATLAB 5.0 MAT-file, Platform: GLNXA64, Created by: iam synthetic benchmark".ljust(116)


def _savemat(path: Path, name: str, struct: dict[str, np.ndarray]) -> None:
    """A compressed MAT v5 file holding one 1x1 struct, byte-identical for identical content."""
    buf = io.BytesIO()
    scipy.io.savemat(buf, {name: struct}, do_compression=True)
    data = bytearray(buf.getvalue())
    data[:116] = MAT_HEADER
    path.write_bytes(bytes(data))


def write_sbd(sbd_root: Path, image_id: str, instances: np.ndarray, labels: list[int], n_classes: int) -> None:
    """SBD ``inst/<id>.mat`` (GTinst) and ``cls/<id>.mat`` (GTcls) with the real files' struct layout."""
    n = len(labels)
    cats = np.asarray([lab + 1 for lab in labels], np.uint8).reshape(-1, 1)
    bounds = np.empty((n, 1), object)
    for k in range(n):
        bounds[k, 0] = _boundary(instances == k + 1)
    gtinst = {"Segmentation": instances.astype(np.uint8), "Categories": cats, "Boundaries": bounds}
    cls = class_map(instances, labels)
    cls_bounds = np.empty((n_classes, 1), object)
    for c in range(n_classes):
        cls_bounds[c, 0] = _boundary(cls == c + 1)
    present = np.unique(cats).astype(np.uint8).reshape(-1, 1)
    gtcls = {"Segmentation": cls, "Boundaries": cls_bounds, "CategoriesPresent": present}
    _savemat(sbd_root / "inst" / f"{image_id}.mat", "GTinst", gtinst)
    _savemat(sbd_root / "cls" / f"{image_id}.mat", "GTcls", gtcls)


def class_map(instances: np.ndarray, labels: list[int]) -> np.ndarray:
    """Per-pixel class index (class + 1; 0 = background), as SegmentationClass and SBD ``cls/`` store it."""
    out = np.zeros_like(instances, np.uint8)
    for k, lab in enumerate(labels, start=1):
        out[instances == k] = lab + 1
    return out


def with_void(index: np.ndarray, instances: np.ndarray) -> np.ndarray:
    """``index`` as uint8 with VOC's void value on the borders between instances (and background)."""
    out = index.astype(np.uint8).copy()
    out[void_band(instances)] = VOID
    return out
