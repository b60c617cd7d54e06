"""Layering: data flows down the pipeline, so no module of iam/ imports a later stage.

``STAGES`` is the one place the order is written down. A module belongs to the stage of its
top-level name under ``iam`` (``iam.evaluation.coco`` -> ``evaluation``, ``iam.masks`` -> ``masks``)
and may import its own stage and earlier ones. Every import counts, function-level ones included.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "iam"

# Pipeline order, earliest first; the names of one stage may import each other.
STAGES: tuple[tuple[str, ...], ...] = (
    ("iam", "errors", "allocator", "device", "names"),  # package root, process-wide helpers, method and split names
    ("io",),  # artifact files
    ("masks", "contour_edges", "mask_stability", "visualise"),  # mask IoU/NMS, edges, stability; drawing
    ("data",),  # datasets, image and response-map transforms
    ("config",),  # the run config (checks the VOC split lists)
    ("models",),  # networks and the window op they share with ConvCRF
    ("crf",),
    ("prm",),
    ("proposals",),
    ("pseudo_gt",),
    ("training",),
    ("inference", "proposal_snap", "self_training"),  # IAMs -> masks; snapped to proposals; as targets
    ("baselines",),
    ("evaluation",),
    ("report",),
    ("cli", "show", "workflow"),  # entry points
)
RANK = {name: rank for rank, names in enumerate(STAGES) for name in names}


def stage(module: str) -> str:
    """The stage of a dotted ``iam`` module: its first name below ``iam`` (``iam`` for the root)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def is_module(module: str) -> bool:
    path = PACKAGE.parent.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def package_modules() -> dict[str, Path]:
    """Dotted name -> file of every module under iam/."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def from_base(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module a ``from ... import`` reads from (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    parts = module.split(".")[: len(module.split(".")) + int(is_package) - node.level]
    return ".".join(parts + ([node.module] if node.module else []))


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every ``iam`` module imported anywhere in ``source``; ``from iam.x import y`` names ``iam.x.y``
    when that is a module, else ``iam.x``."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = from_base(node, module, is_package)
            found.update(f"{base}.{a.name}" if is_module(f"{base}.{a.name}") else base for a in node.names)
    return {m for m in found if m == "iam" or m.startswith("iam.")}


def later_imports(module: str, source: str, is_package: bool = False) -> list[tuple[str, str]]:
    """``(module, imported)`` pairs where ``module`` imports a later stage than its own."""
    rank = RANK[stage(module)]
    return sorted((module, m) for m in imported_modules(source, module, is_package) if RANK[stage(m)] > rank)


def test_every_module_has_a_stage():
    unplaced = sorted({stage(m) for m in package_modules()} - RANK.keys())
    assert not unplaced, f"add these iam/ names to STAGES in {Path(__file__).name}: {unplaced}"


def test_no_module_imports_a_later_stage():
    offending = [
        pair
        for module, path in package_modules().items()
        for pair in later_imports(module, path.read_text(), path.name == "__init__.py")
    ]
    listing = "\n".join(f"  {module} imports {imported}" for module, imported in offending)
    assert not offending, f"imports of a later stage (order: STAGES in {Path(__file__).name}):\n{listing}"


def test_function_level_and_relative_imports_are_checked():
    source = "def f():\n    import iam.evaluation.coco\n    from .report import export\n"
    assert later_imports("iam.inference", source) == [
        ("iam.inference", "iam.evaluation.coco"),
        ("iam.inference", "iam.report.export"),
    ]
    assert later_imports("iam.evaluation.coco", "from iam import masks, __version__\n") == []
