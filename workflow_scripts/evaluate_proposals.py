"""Proposal recall at IoU 0.5/0.7 for 100/500 proposals and ABO against GT instances (evaluation only)."""

from iam.data.voc import read_gt_instances, read_split
from iam.evaluation.proposal_recall import evaluate_proposals
from iam.io.atomic import write_json
from iam.workflow import run


def main(smk) -> None:
    p = smk.params

    def read_gt(image_id: str):
        gt = read_gt_instances(p.voc_root, image_id, list(p.classes))
        return gt.masks, gt.void

    ids = read_split(p.voc_root, smk.wildcards.split)
    write_json(smk.output[0], evaluate_proposals(smk.input.proposals, ids, read_gt))


run(snakemake, main)  # noqa: F821
