"""Errors raised on bad input: each names the offending file (or config key) and the problem."""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """A file or value given to the pipeline is unusable."""

    def __init__(self, source: str | Path, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{source}: {problem}")


class ArtifactError(InputError):
    """An HDF5 artifact is missing, truncated, or was produced for another configuration."""


class TrainingError(RuntimeError):
    """Training cannot continue (NaN/inf loss, incompatible checkpoint)."""
