"""Ingest a directory of MCG-format ``.mat`` files (``{image_id}.mat``) into a proposals artifact."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from iam.io.h5 import write_artifact
from iam.proposals.mcg import read_mcg
from iam.proposals.store import KIND, write_proposals

log = logging.getLogger(__name__)


def ingest(
    mat_dir: str | Path,
    image_ids: list[str],
    image_shape: Callable[[str], tuple[int, int]],
    out: str | Path,
    max_per_image: int,
    rule: str = "ingest_proposals",
    params: Mapping[str, Any] | None = None,
) -> None:
    """Read ``{mat_dir}/{id}.mat`` for each id, check it against ``image_shape(id)``, keep the
    ``max_per_image`` best, and write ``out`` (kind ``proposals``)."""
    mat_dir = Path(mat_dir)
    counts = []
    with write_artifact(out, KIND, rule, params) as f:
        for image_id in image_ids:
            props = read_mcg(mat_dir / f"{image_id}.mat", image_shape(image_id), max_per_image)
            write_proposals(f, image_id, props)
            counts.append(len(props))
    if counts:
        log.info("ingested %d images, %.1f proposals/image", len(counts), sum(counts) / len(counts))
