"""Dataset statistics (per split) and a contact sheet of the training split."""

from iam.data.stats import contact_sheet, dataset_stats
from iam.io.atomic import write_json
from iam.workflow import run


def main(smk) -> None:
    p = smk.params
    write_json(smk.output.stats, {s: dataset_stats(p.voc_root, p.classes, s) for s in p.splits})
    contact_sheet(p.voc_root, p.splits[0], smk.output.sheet, p.classes)


run(snakemake, main)  # noqa: F821
