"""ceiling/targets.h5: each training peak's own GT instance as its filler target (the ceiling row; reads GT)."""

from iam.data.voc import read_split
from iam.evaluation.ceiling import write_gt_targets
from iam.evaluation.gt import instance_reader
from iam.workflow import run


def main(smk) -> None:
    p = smk.params
    read_gt = instance_reader(p.gt_source, p.voc_root, p.sbd_root, p.classes)
    write_gt_targets(
        smk.input.prm,
        read_split(p.voc_root, p.split),
        read_gt,
        smk.output[0],
        smk.rule,
        {"gt_source": p.gt_source, "split": p.split},
    )


run(snakemake, main)  # noqa: F821
