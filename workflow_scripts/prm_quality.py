"""metrics/prm_quality_{split}.json: where peaks and PRM mass fall relative to GT instances and parts."""

from iam.evaluation.prm_quality import prm_quality
from iam.io.atomic import write_json
from iam.workflow import run


def main(smk) -> None:
    write_json(smk.output[0], prm_quality(smk.input.prm, smk.params.voc_root, smk.params.classes))


run(snakemake, main)  # noqa: F821
