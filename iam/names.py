"""Names the workflow and the package share: the synthetic benchmark's splits and the evaluated
methods (``metrics/{method}.json``). Pure Python: the Snakemake driver imports it."""

from __future__ import annotations

import re

LOCALIZATION, SALIENCY = "loc_test", "saliency_test"  # the transfer splits (Tables 3-4)
TRANSFER_SPLITS = (LOCALIZATION, SALIENCY)
SYNTHETIC_SPLITS = ("train", "val", *TRANSFER_SPLITS)

_IAM_METHOD = re.compile(r"iam_s(\d+)(_nocrf)?")


def iam_method(k: int, crf: bool = True) -> str:
    """The method name of IAM-S{k}: ``iam_s{k}``, or ``iam_s{k}_nocrf`` without the CRF."""
    return f"iam_s{k}" if crf else f"iam_s{k}_nocrf"


def parse_method(name: str) -> tuple[int, bool] | None:
    """``(k, crf)`` of an IAM-S{k} method name (:func:`iam_method`); None for any other method."""
    match = _IAM_METHOD.fullmatch(name)
    return (int(match[1]), match[2] is None) if match else None
