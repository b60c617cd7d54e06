"""Render any artifact's content for one image to PNG (``iam show``), dispatching on its kind."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from iam.data.voc import read_image
from iam.errors import InputError
from iam.io.h5 import artifact_params, open_artifact
from iam.io.instances import KIND as INSTANCES
from iam.io.instances import read_instances, read_soft_maps
from iam.prm.show import render_prm
from iam.proposals.show import render_proposals
from iam.visualise import heat, overlay_grid, write_png


def artifact_voc_root(path: str | Path) -> str | None:
    """The VOC root recorded in an artifact's producing params, else the run's generated
    ``results/<run>/data/VOC2012`` found above the artifact (None when neither exists)."""
    with open_artifact(path) as f:
        recorded = artifact_params(f).get("voc_root")
    if recorded:
        return recorded
    found = [p / "data" / "VOC2012" for p in Path(path).resolve().parents if (p / "data" / "VOC2012").is_dir()]
    return str(found[0]) if found else None


def render_instances(path: str | Path, image_id: str, out_png: str | Path, image: np.ndarray, top: int = 8) -> None:
    """The ``top`` best instances over the image, one per column, their soft maps below when stored."""
    with open_artifact(path, INSTANCES) as f:
        inst = read_instances(f, image_id)
        maps = read_soft_maps(f, image_id)
    soft = None if maps is None else maps[0].astype(np.float32)
    order = np.argsort(-inst.scores)[:top]
    if not len(order):
        write_png(out_png, image)
        return
    rows = [overlay_grid(inst.masks[order], image, columns=len(order))]
    if soft is not None:
        rows.append(np.concatenate([heat(soft[k]) for k in order], axis=1))
    write_png(out_png, np.concatenate(rows, axis=0))


def show(path: str | Path, image_id: str, out_png: str | Path, voc_root: str | None = None, top: int = 16) -> None:
    """Render ``image_id`` of the artifact at ``path`` according to its kind."""
    voc_root = voc_root or artifact_voc_root(path)
    if voc_root is None:
        raise InputError(path, "artifact records no voc_root; pass --voc-root")
    image = read_image(voc_root, image_id)
    with open_artifact(path) as f:
        kind = str(f.attrs.get("kind"))
        if image_id not in f:
            raise InputError(path, f"no image group {image_id!r}")
    if kind == "proposals":
        render_proposals(path, image_id, out_png, top=top, image=image)
    elif kind == INSTANCES:
        render_instances(path, image_id, out_png, image)
    elif kind == "prm":
        render_prm(path, voc_root, image_id, out_png)
    else:
        raise InputError(path, f"no renderer for artifact kind {kind!r}")
