"""The one place where every HDF5 artifact's per-image datasets are documented.

``iam inspect`` annotates datasets from here, the README table is generated from here
(``scripts/generated_docs.py``), and a test checks that every dataset the tiny pipeline writes
is listed.
"""

from __future__ import annotations

LAYOUTS: dict[str, dict[str, str]] = {
    "prm": {
        "peaks": "(n, 3) int64: class index, y, x of each class peak, in original-image pixels (found on the CRM "
        "upsampled to the network input, then scaled)",
        "peak_scores": "(n,) float32: value of the upsampled CRM at the peak",
        "prm": "(n, H, W) float16: Peak Response Map of each peak (Eq. 1, channel mean), original image size, "
        "normalised to sum 1 before the float16 rounding",
        "class_scores": "(C,) float32: peak-stimulated class scores (logits)",
        "crm": "(C, h, w) float16: class response maps on the network grid (the CAMs)",
    },
    "proposals": {
        "superpixels": "(H, W) int32: 0-based superpixel map",
        "sp_ids": "(nnz,) int32: superpixel ids of all proposals, concatenated (CSR values)",
        "sp_ptr": "(n + 1,) int64: proposal j unions sp_ids[sp_ptr[j]:sp_ptr[j+1]]",
        "scores": "(n,) float32: objectness, best first",
    },
    "pseudo_gt": {
        "peaks": "(n, 3) int64: class, y, x of each training peak (copied from the PRM file)",
        "prm_index": "(n,) int64: row of the peak in the image's `prm` dataset of prm/<train>.h5",
        "masks": "(m, H, W) uint8: the union of all candidate proposals of this image",
        "candidates": "(n, k) int64: indices into masks of each peak's top-k proposals, best first (-1 = none)",
        "candidate_scores": "(n, k) float32: matching score f of each candidate (source selftrain: the IoU of "
        "the IAM cut with it; NaN = none)",
    },
    "instances": {
        "masks": "(n, H, W) uint8 0/1: binary instance masks, original image size",
        "labels": "(n,) int64: class index into the file's `classes` attr",
        "scores": "(n,) float32: confidence used to rank predictions",
        "soft": "optional (n, H, W) float16: soft maps the masks were cut from (IAMs, PRMs)",
    },
}


FILE_ATTRS: dict[str, str] = {
    "schema_version, kind, rule, config_hash, params, code_version": "provenance of every artifact (iam.io.h5)",
    "classes": "JSON list of class names the labels index into (prm, instances)",
    "input_size": "network input side in pixels (prm)",
    "height, width": "per image group: original image size (prm, proposals, pseudo_gt, instances)",
    "k, source": "the candidates per peak and the proposal source the pseudo GT was built with (pseudo_gt)",
    "n_without_candidates": "per image group: peaks without any candidate (pseudo_gt)",
    "time_forward (prm)": "per image group: seconds of backbone forward + peak backpropagation",
    "time_prm, time_fill, time_crf, time_proposals, time_retrieval": "per image group: seconds spent "
    "(instances): forward + peak backprop (copied from the PRM artifact), filling, CRF, proposal generation, retrieval",
}


def describe_dataset(kind: str, name: str) -> str:
    """The documented meaning of dataset ``name`` in an artifact of ``kind`` ('' if undocumented)."""
    return LAYOUTS.get(kind, {}).get(name, "")


def markdown_table() -> str:
    """All layouts as a Markdown table (pasted into the README)."""
    rows = ["| kind | dataset | meaning |", "| --- | --- | --- |"]
    for kind, datasets in LAYOUTS.items():
        rows += [f"| {kind} | `{name}` | {doc} |" for name, doc in datasets.items()]
    rows += [f"| (attrs) | `{names}` | {doc} |" for names, doc in FILE_ATTRS.items()]
    return "\n".join(rows)
