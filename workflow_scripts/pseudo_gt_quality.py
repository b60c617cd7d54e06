"""metrics/pseudo_gt_{source}_k{k}.json: how well the pseudo GT's candidates match the peaks' instances."""

from iam.evaluation.gt import instance_reader
from iam.evaluation.pseudo_gt_quality import pseudo_gt_quality
from iam.io.atomic import write_json
from iam.workflow import run


def main(smk) -> None:
    inputs, p = smk.input, smk.params
    read_gt = instance_reader(p.gt_source, p.voc_root, p.sbd_root, p.classes)
    quality = pseudo_gt_quality(inputs.prm, inputs.proposals, inputs.pseudo_gt, read_gt, p.match)
    write_json(smk.output[0], quality)


run(snakemake, main)  # noqa: F821
