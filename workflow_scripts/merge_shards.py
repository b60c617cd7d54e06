"""Merge a stage's per-shard HDF5 files into the split file, in split order."""

from iam.data.voc import read_split
from iam.io.h5 import merge_shards
from iam.workflow import run


def main(smk) -> None:
    p = smk.params
    merge_shards(smk.input.shards, smk.output[0], kind=p.kind, order=read_split(p.voc_root, p.split))


run(snakemake, main)  # noqa: F821
