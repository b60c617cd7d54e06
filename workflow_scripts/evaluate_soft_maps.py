"""metrics/soft_maps.csv: best IoU over thresholds and object size of every val PRM and IAM (Fig. 7-8)."""

from iam.data.voc import read_split
from iam.evaluation.gt import instance_reader
from iam.evaluation.soft_maps import soft_map_table
from iam.io.atomic import atomic_path
from iam.workflow import run


def main(smk) -> None:
    p = smk.params
    read_gt = instance_reader(p.gt_source, p.voc_root, p.sbd_root, p.classes)
    table = soft_map_table(smk.input.prm, smk.input.iam, read_split(p.voc_root, p.split), read_gt, p.classes)
    with atomic_path(smk.output[0]) as tmp:
        table.to_csv(tmp, index=False)


run(snakemake, main)  # noqa: F821
