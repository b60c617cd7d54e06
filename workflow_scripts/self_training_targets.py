"""Self-training targets for one shard of the training split: the first filler's IAMs snapped to proposals."""

from iam.data.voc import read_split
from iam.device import resolve_device
from iam.proposal_snap import SnapParams
from iam.self_training import build_targets
from iam.training.filler import load_feature_backbone, load_filler
from iam.workflow import run, shard_ids


def main(smk) -> None:
    p = smk.params
    device = resolve_device(p.device)
    filler, input_size = load_filler(smk.input.filler, device)
    ids = shard_ids(read_split(p.voc_root, p.train_split), int(smk.wildcards.i), p.shards)
    paths = {"prm": smk.input.prm, "proposals": smk.input.proposals, "voc_root": p.voc_root, "out": smk.output[0]}
    build_targets(
        load_feature_backbone(smk.input.filler, smk.input.backbone, device),
        filler,
        input_size,
        paths,
        ids,
        p.k,
        SnapParams.from_config(p.inference),
        device,
        provenance={"k": p.k, "source": p.source, **p.inference},
    )


run(snakemake, main)  # noqa: F821
