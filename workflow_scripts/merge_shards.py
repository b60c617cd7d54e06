"""Merge a stage's per-shard HDF5 files into the split file, in split order."""

from iam.data.voc import read_split
from iam.io.h5 import merge_shards
from iam.workflow import run


def main(smk) -> None:
    split = smk.params.get("split", None) or smk.wildcards.split
    order = read_split(smk.params.voc_root, split)
    merge_shards(smk.input.shards, smk.output[0], kind=smk.params.kind, order=order)


run(snakemake, main)  # noqa: F821
