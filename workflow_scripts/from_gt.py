"""What the GT-reading diagnostics make from a split's PRMs and its GT: the ceiling's training targets
(rule make_ceiling_targets: each training peak's own GT instance) and the PRM oracle's PRMs (rule
cut_prms_to_gt: each val PRM cut to its own GT instance)."""

from iam.data.voc import read_split
from iam.evaluation.ceiling import write_gt_targets
from iam.evaluation.gt import instance_reader
from iam.evaluation.prm_oracle import write_cut_prms
from iam.workflow import run

WRITERS = {"make_ceiling_targets": write_gt_targets, "cut_prms_to_gt": write_cut_prms}


def main(smk) -> None:
    p = smk.params
    read_gt = instance_reader(p.gt_source, p.voc_root, p.sbd_root, p.classes)
    WRITERS[smk.rule](
        smk.input.prm,
        read_split(p.voc_root, p.split),
        read_gt,
        smk.output[0],
        smk.rule,
        {"gt_source": p.gt_source, "split": p.split},
    )


run(snakemake, main)  # noqa: F821
