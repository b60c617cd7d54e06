"""PRMs of one shard of a split: peaks, Peak Response Maps, class scores and CRMs to HDF5."""

from iam.data.voc import read_split
from iam.device import dtype_name, resolve_device, resolve_dtype
from iam.models.backbone import load_backbone
from iam.prm.extract import PeakRule, extract_split
from iam.workflow import run, shard_ids


def main(smk) -> None:
    p, split = smk.params, smk.wildcards.split
    ids = shard_ids(read_split(p.voc_root, split), int(smk.wildcards.i), p.shards)
    device = resolve_device(p.device)
    backbone = load_backbone(smk.input.backbone, device, num_classes=len(p.classes))
    dtype = resolve_dtype(p.prm["dtype"], device, "prm.dtype")
    size = p.prm["input_size"] or p.input_size
    peak_rule = PeakRule.from_config(p.prm, use_labels=split == p.train_split)
    extract_split(
        backbone,
        p.voc_root,
        ids,
        list(p.classes),
        size,
        peak_rule,
        smk.output[0],
        smk.rule,
        {**p.prm, "input_size": size, "split": split, "voc_root": p.voc_root, "dtype": dtype_name(dtype)},
        dtype,
        None if p.prm["contrast"] == "none" else p.prm["contrast"],
    )


run(snakemake, main)  # noqa: F821
