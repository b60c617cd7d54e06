"""``report/index.html``: the tables, the verdict and the figures on one self-contained page
(figures referenced by relative path)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from iam.io.atomic import write_text


def render(
    title: str,
    notes: Sequence[str],
    tables: Mapping[str, pd.DataFrame],
    figures: Mapping[str, str],
) -> str:
    """The page as a string; ``figures`` maps captions to paths relative to the page."""
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:70em;margin:auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    parts += [f"<p>{html.escape(n)}</p>" for n in notes]
    for caption, df in tables.items():
        parts += [f"<h2>{html.escape(caption)}</h2>", df.to_html(float_format=lambda v: f"{v:.3g}", na_rep="n/a")]
    for caption, src in figures.items():
        parts += [f"<h2>{html.escape(caption)}</h2>", f"<img src='{html.escape(src)}' style='max-width:100%'>"]
    return "\n".join([*parts, "</body></html>\n"])


def write_index(
    path: str | Path,
    title: str,
    notes: Sequence[str],
    tables: Mapping[str, pd.DataFrame],
    figures: Mapping[str, str | Path],
) -> None:
    """Write index.html with figure paths made relative to its folder."""
    base = Path(path).parent
    relative = {c: Path(p).relative_to(base).as_posix() for c, p in figures.items()}
    write_text(path, render(title, notes, tables, relative))
