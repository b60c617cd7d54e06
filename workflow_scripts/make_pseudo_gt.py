"""Pseudo GT for one shard of the training split and one k."""

from iam.data.voc import read_split
from iam.pseudo_gt.build import build
from iam.pseudo_gt.scoring import MatchParams
from iam.workflow import run, shard_ids


def main(smk) -> None:
    p = smk.params
    ids = shard_ids(read_split(p.voc_root, p.train_split), int(smk.wildcards.i), p.shards)
    params = dict(p.match)
    build(
        smk.input.prm,
        smk.input.proposals,
        ids,
        smk.output[0],
        params["k"],
        MatchParams.from_config(params),
        params["min_overlap"],
        source=smk.wildcards.source,
        rule=smk.rule,
        params=params,
    )


run(snakemake, main)  # noqa: F821
