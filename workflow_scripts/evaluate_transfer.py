"""metrics/transfer_{split}.json: localization errors (loc_test) or saliency F_beta (saliency_test)."""

from iam.data.voc import read_split
from iam.evaluation.gt import box_reader, saliency_reader
from iam.evaluation.transfer import evaluate_localization, evaluate_saliency
from iam.io.atomic import write_json
from iam.names import LOCALIZATION
from iam.workflow import run


def main(smk) -> None:
    p, split = smk.params, smk.wildcards.split
    ids = read_split(p.voc_root, split)
    if split == LOCALIZATION:
        result = evaluate_localization(smk.input.prm, smk.input.iam, ids, box_reader(p.voc_root, p.classes))
    else:
        result = evaluate_saliency(smk.input.prm, smk.input.iam, ids, saliency_reader(p.voc_root))
    write_json(smk.output[0], {"split": split, "k": p.k, **result})


run(snakemake, main)  # noqa: F821
