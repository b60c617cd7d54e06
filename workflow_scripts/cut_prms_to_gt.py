"""prm_oracle/{split}.h5: the split's PRMs cut to their own GT instances (the PRM oracle row; reads GT)."""

from iam.data.voc import read_split
from iam.evaluation.gt import instance_reader
from iam.evaluation.prm_oracle import write_cut_prms
from iam.workflow import run


def main(smk) -> None:
    p = smk.params
    read_gt = instance_reader(p.gt_source, p.voc_root, p.sbd_root, p.classes)
    write_cut_prms(
        smk.input.prm,
        read_split(p.voc_root, p.split),
        read_gt,
        smk.output[0],
        smk.rule,
        {"gt_source": p.gt_source, "split": p.split},
    )


run(snakemake, main)  # noqa: F821
