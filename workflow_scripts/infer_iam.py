"""IAM instances (with and without ConvCRF) for one shard of a split (params ``split``, ``shard``, ``shards``)."""

from iam.data.voc import read_split
from iam.device import resolve_device
from iam.inference import InferenceParams, infer_split
from iam.training.filler import load_feature_backbone, load_filler
from iam.workflow import run, shard_ids


def main(smk) -> None:
    p = smk.params
    device = resolve_device(p.device)
    filler, input_size = load_filler(smk.input.filler, device)
    ids = shard_ids(read_split(p.voc_root, p.split), p.shard, p.shards)
    provenance = {"k": p.k, "source": p.source, "inference": dict(p.inference), "crf": dict(p.crf)}
    infer_split(
        load_feature_backbone(smk.input.filler, smk.input.backbone, device),
        filler,
        input_size,
        smk.input.prm,
        p.voc_root,
        ids,
        smk.output.crf,
        smk.output.nocrf,
        list(p.classes),
        InferenceParams.from_config(p.inference, p.crf),
        device,
        rule=smk.rule,
        provenance=provenance,
    )


run(snakemake, main)  # noqa: F821
