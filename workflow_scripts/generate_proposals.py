"""Built-in proposals for one shard of a split: MCG-format .mat per image + timing.json."""

from iam.data.voc import read_image, read_split
from iam.proposals.generate import GeneratorConfig, generate_dir
from iam.workflow import run, shard_ids


def main(smk) -> None:
    p = smk.params
    ids = shard_ids(read_split(p.voc_root, smk.wildcards.split), int(smk.wildcards.i), p.shards)
    g = p.generator
    cfg = GeneratorConfig(tuple(g["scales"]), g["sigma"], g["min_size"], g["min_area"], g["dedup_iou"])
    generate_dir(ids, lambda image_id: read_image(p.voc_root, image_id), smk.output[0], cfg, p.max_per_image)


run(snakemake, main)  # noqa: F821
