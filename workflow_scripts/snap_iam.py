"""IAM instances snapped to proposals for one shard of a split."""

from iam.data.voc import read_split
from iam.device import resolve_device
from iam.proposal_snap import SnapParams, snap_split
from iam.training.filler import load_feature_backbone, load_filler
from iam.workflow import run, shard_ids


def main(smk) -> None:
    p = smk.params
    device = resolve_device(p.device)
    filler, input_size = load_filler(smk.input.filler, device)
    ids = shard_ids(read_split(p.voc_root, smk.wildcards.split), int(smk.wildcards.i), p.shards)
    paths = {
        "prm": smk.input.prm,
        "proposals": smk.input.proposals,
        "voc_root": p.voc_root,
        "timing": p.timing,
        "out": smk.output[0],
    }
    snap_split(
        load_feature_backbone(smk.input.filler, smk.input.backbone, device),
        filler,
        input_size,
        paths,
        ids,
        list(p.classes),
        SnapParams.from_config(p.inference),
        device,
        rule=smk.rule,
        provenance={"k": p.k, "source": p.source, "inference": dict(p.inference)},
    )


run(snakemake, main)  # noqa: F821
