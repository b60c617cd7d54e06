"""The matching score's settings in one place, shared by the pseudo GT, the PRM-retrieval baseline
and the diagnostics: :class:`MatchParams` and :func:`score_proposals`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from iam.data.maps import Competition
from iam.pseudo_gt.matching import background_map, border_connectivity, matching_scores


@dataclass(frozen=True)
class MatchParams:
    """f = alpha * sum(M*S) + sum(M*contour(S)) - beta * sum(B*S) / sum(B) - size_prior * |S| / |image|
    - border_prior * boundary connectivity of S (config sections ``pseudo_gt`` and ``retrieval``), the
    PRMs M first cut by their :class:`iam.data.maps.Competition` (ours; none by default)."""

    alpha: float = 1.0
    beta: float = 1.0
    contour_width: int = 3
    size_prior: float = 0.0
    border_prior: float = 0.0
    competition: Competition = Competition()

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> MatchParams:
        """The matching keys of a config section (others, such as ``k``, are ignored)."""
        plain = {f.name: section[f.name] for f in fields(cls) if f.name in section}
        return cls(**plain, competition=Competition.from_config(section))


def score_proposals(
    peaks: np.ndarray,
    prms: np.ndarray,
    crm: np.ndarray,
    proposals: np.ndarray,
    params: MatchParams,
) -> tuple[np.ndarray, np.ndarray]:
    """``(f (m, n), overlap (m, n))`` of an image's m peaks against its n proposals."""
    background = background_map(crm, peaks[:, 0], proposals.shape[1:]) if params.beta else None
    prms = params.competition.cut(prms, peaks[:, 0])
    score, overlap = matching_scores(prms, proposals, params.alpha, params.contour_width, params.beta, background)
    if params.size_prior:
        share = proposals.reshape(len(proposals), -1).mean(1, dtype=np.float64)
        score = score - (params.size_prior * share).astype(score.dtype)[None, :]
    if params.border_prior:
        score = score - (params.border_prior * border_connectivity(proposals)).astype(score.dtype)[None, :]
    return score, overlap
