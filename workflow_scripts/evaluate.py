"""metrics/{method}.json (mAP^r in VOC and COCO mode, ABO; deterministic) and timing/{method}.json
(seconds per image from the instance file's time_* attrs) of one method's instance set."""

from iam.data.voc import read_split
from iam.evaluation.gt import instance_reader
from iam.evaluation.instance_metrics import evaluate_instances
from iam.io.atomic import write_json
from iam.workflow import run


def main(smk) -> None:
    p = smk.params
    read_gt = instance_reader(p.gt_source, p.voc_root, p.sbd_root, p.classes)
    metrics = evaluate_instances(smk.input.pred, read_split(p.voc_root, p.split), read_gt, p.classes, p.iou_thresholds)
    timing = metrics.pop("seconds_per_image")
    header = {"method": smk.wildcards.method, "split": p.split}
    write_json(smk.output.metrics, {**header, **metrics})
    write_json(smk.output.timing, {**header, "seconds_per_image": timing})


run(snakemake, main)  # noqa: F821
