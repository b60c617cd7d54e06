"""MCG/COB .mat files of one shard -> proposals HDF5 (superpixel map + CSR id lists)."""

from iam.data.voc import read_image, read_split
from iam.proposals.ingest import ingest
from iam.workflow import run, shard_ids


def main(smk) -> None:
    p = smk.params
    ids = shard_ids(read_split(p.voc_root, smk.wildcards.split), int(smk.wildcards.i), p.shards)
    ingest(
        smk.input.mat,
        ids,
        lambda image_id: read_image(p.voc_root, image_id).shape[:2],
        smk.output[0],
        p.max_per_image,
        rule=smk.rule,
        params={"max_per_image": p.max_per_image},
    )


run(snakemake, main)  # noqa: F821
