"""Proposal recall at IoU 0.5/0.7 for 100/500 proposals and ABO against GT instances (evaluation only)."""

from iam.data.voc import read_split
from iam.evaluation.gt import instance_reader
from iam.evaluation.proposal_recall import evaluate_proposals
from iam.io.atomic import write_json
from iam.workflow import run


def main(smk) -> None:
    p = smk.params
    read_gt = instance_reader(p.gt_source, p.voc_root, p.sbd_root, p.classes)
    ids = read_split(p.voc_root, smk.wildcards.split)
    write_json(smk.output[0], evaluate_proposals(smk.input.proposals, ids, read_gt))


run(snakemake, main)  # noqa: F821
