"""metrics/prm_quality_{split}.json: where peaks and PRM mass fall relative to GT instances and parts,
and the CAM pseudo-mask mIoU."""

from iam.evaluation.cam_miou import cam_miou
from iam.evaluation.gt import instance_reader
from iam.evaluation.prm_quality import prm_quality
from iam.io.atomic import write_json
from iam.workflow import run


def main(smk) -> None:
    p = smk.params
    read_gt = instance_reader(p.gt_source, p.voc_root, p.sbd_root, p.classes)
    quality = prm_quality(smk.input.prm, p.voc_root, read_gt)
    write_json(smk.output[0], {**quality, **cam_miou(smk.input.prm, read_gt, len(p.classes))})


run(snakemake, main)  # noqa: F821
