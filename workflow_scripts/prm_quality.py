"""metrics/prm_quality_{split}.json: where peaks and PRM mass fall relative to GT instances and parts."""

from iam.evaluation.gt import instance_reader
from iam.evaluation.prm_quality import prm_quality
from iam.io.atomic import write_json
from iam.workflow import run


def main(smk) -> None:
    p = smk.params
    read_gt = instance_reader(p.gt_source, p.voc_root, p.sbd_root, p.classes)
    write_json(smk.output[0], prm_quality(smk.input.prm, p.voc_root, read_gt))


run(snakemake, main)  # noqa: F821
