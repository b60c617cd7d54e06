"""metrics/pseudo_gt_{source}_k{k}.json: how well the pseudo GT's candidates match the peaks' instances."""

from iam.evaluation.pseudo_gt_quality import pseudo_gt_quality
from iam.io.atomic import write_json
from iam.workflow import run


def main(smk) -> None:
    inputs, p = smk.input, smk.params
    quality = pseudo_gt_quality(inputs.prm, inputs.proposals, inputs.pseudo_gt, p.voc_root, p.classes, p.match)
    write_json(smk.output[0], quality)


run(snakemake, main)  # noqa: F821
