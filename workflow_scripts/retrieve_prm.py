"""PRM retrieval baseline for one shard of a split."""

from iam.baselines.prm_retrieval import retrieve_split
from iam.data.voc import read_split
from iam.pseudo_gt.scoring import MatchParams
from iam.workflow import run, shard_ids


def main(smk) -> None:
    p = smk.params
    ids = shard_ids(read_split(p.voc_root, smk.wildcards.split), int(smk.wildcards.i), p.shards)
    params = dict(p.retrieval)
    retrieve_split(
        smk.input.prm,
        smk.input.proposals,
        ids,
        smk.output[0],
        list(p.classes),
        MatchParams.from_config(params),
        params["nms_iou"],
        timing_path=p.timing or None,
        rule=smk.rule,
        params=params,
    )


run(snakemake, main)  # noqa: F821
