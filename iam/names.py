"""Names the workflow and the package share: the synthetic benchmark's splits and the evaluated
methods (``metrics/{method}.json``). Pure Python: the Snakemake driver imports it."""

from __future__ import annotations

import re

# The backbone.weights values that name a trunk a workflow rule pretrains (pretrain_backbone,
# pretrain_selfsup); each is also that rule's config section and its folder under results/<run>/.
PRETRAINED_TRUNKS = ("pretrain", "selfsup")

LOCALIZATION, SALIENCY = "loc_test", "saliency_test"  # the transfer splits (Tables 3-4)
TRANSFER_SPLITS = (LOCALIZATION, SALIENCY)
SYNTHETIC_SPLITS = ("train", "val", *TRANSFER_SPLITS)

# How an IAM-S{k} method turns IAMs into masks, and the suffix of its artifact iam/.../{split}{suffix}.h5:
# ConvCRF (the paper's), the plain IAM cut, or each IAM snapped to the proposal it fits best.
IAM_VARIANTS = {"crf": "", "nocrf": ".nocrf", "snap": ".snap"}
# The ``inference`` keys of the snapped variant (its rule reruns on a change of these only).
SNAP_KEYS = ("snap_threshold", "nms_iou", "prm_competition", "duplicate_cosine", "kept_score")
_IAM_METHOD = re.compile(r"iam_s(\d+)(?:_(nocrf|snap))?")


def iam_method(k: int, variant: str = "crf") -> str:
    """The method name of IAM-S{k}: ``iam_s{k}`` (CRF), ``iam_s{k}_nocrf`` or ``iam_s{k}_snap``."""
    if variant not in IAM_VARIANTS:
        raise ValueError(f"unknown IAM variant {variant!r}; one of {sorted(IAM_VARIANTS)}")
    return f"iam_s{k}" if variant == "crf" else f"iam_s{k}_{variant}"


def parse_method(name: str) -> tuple[int, str] | None:
    """``(k, variant)`` of an IAM-S{k} method name (:func:`iam_method`); None for any other method."""
    match = _IAM_METHOD.fullmatch(name)
    return (int(match[1]), match[2] or "crf") if match else None


# Self-training (our extension, opt-in): the proposal-source name of a second filler's targets, the
# first filler's training IAMs snapped to proposals (pseudo_gt/selftrain/k{k}.h5, filler/selftrain/k{k}/).
SELF_TRAINED_SOURCE = "selftrain"
# A diagnostic that reads GT (Table 1): the IAM-S{k} filler fed the val PRMs cut to their own GT
# instance (prm_oracle/{split}.h5 -> iam/prm_oracle/k{k}/{split}.h5).
PRM_ORACLE = "prm_oracle"


def derived_method(k: int, source: str) -> str:
    """The method name of IAM-S{k} from ``source``'s filler or PRMs (CRF masks, as ``iam_s{k}``)."""
    return f"iam_s{k}_{source}"


def parse_derived(name: str, source: str) -> int | None:
    """k of a :func:`derived_method` name of ``source``; None for any other method."""
    match = re.fullmatch(rf"iam_s(\d+)_{source}", name)
    return int(match[1]) if match else None


def self_trained_method(k: int) -> str:
    """The method name of the self-trained IAM-S{k}."""
    return derived_method(k, SELF_TRAINED_SOURCE)


def parse_self_trained(name: str) -> int | None:
    """k of a :func:`self_trained_method` name; None for any other method."""
    return parse_derived(name, SELF_TRAINED_SOURCE)
