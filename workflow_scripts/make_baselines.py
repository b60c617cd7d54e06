"""One Table 1 baseline on the val split: GT boxes or CAM boxes, filled as rect/ellipse/proposal."""

from iam.baselines.boxes import write_box_baseline
from iam.baselines.cam import prm_cam_boxes
from iam.data.voc import read_boxes, read_image, read_split
from iam.io.h5 import open_artifact
from iam.workflow import run


def main(smk) -> None:
    p = smk.params
    ids = read_split(p.voc_root, p.split)
    params = {"name": smk.wildcards.name, "cam_threshold": p.cam_threshold, "class_threshold": p.class_threshold}

    def gt_boxes(image_id):
        boxes, labels = read_boxes(p.voc_root, image_id, list(p.classes))
        return boxes, labels, [1.0] * len(labels), read_image(p.voc_root, image_id).shape[:2]

    def write(boxes_of):
        write_box_baseline(
            smk.output[0],
            ids,
            list(p.classes),
            boxes_of,
            p.fill,
            smk.input.proposals or None,
            rule=smk.rule,
            params=params,
        )

    if p.box_source == "gt_box":
        write(gt_boxes)
    else:
        with open_artifact(smk.input.prm, "prm") as prm:
            write(lambda image_id: prm_cam_boxes(prm, image_id, p.cam_threshold, p.class_threshold))


run(snakemake, main)  # noqa: F821
