# Shard merges: a per-image stage writes {stem}/shard{i}{ext} per shard; one rule per stage, all from
# this template, merges them into {stem}{ext} in split order (workflow_scripts/merge_shards.py).
import re
from typing import NamedTuple


class Merge(NamedTuple):
    kind: str  # the artifact kind (iam.io.h5) the shards hold
    stem: str  # the merged file under OUT, without its extension
    job: str  # the job's log and benchmark name
    ext: str = ".h5"
    constraints: dict = {}


MERGES = {
    "merge_prm": Merge("prm", "prm/{split}", "{split}"),
    "merge_proposals": Merge(
        "proposals", "proposals/{source}/{split}", "{source}_{split}"
    ),
    "merge_pseudo_gt": Merge(
        "pseudo_gt",
        "pseudo_gt/{source}/k{k}",
        "{source}_k{k}",
        constraints={"source": f"generated|mcg|{SELF_TRAINED_SOURCE}"},
    ),
    "merge_retrieval": Merge("instances", "baselines/prm_retrieval/{split}", "{split}"),
    "merge_iam": Merge(
        "instances",
        "iam/{source}/k{k}/{split}",
        "{source}_k{k}_{split}{ext}",
        ext="{ext}",
        constraints={
            "ext": "|".join(
                re.escape(f"{suffix}.h5") for suffix in IAM_VARIANTS.values()
            )
        },
    ),
}


for name, merge in MERGES.items():

    rule:
        name:
            name
        input:
            shards=shards_of(f"{OUT}/{merge.stem}/shard{{i}}{merge.ext}"),
        output:
            f"{OUT}/{merge.stem}{merge.ext}",
        log:
            log_path(name, merge.job),
        benchmark:
            benchmark_path(name, merge.job)
        wildcard_constraints:
            **merge.constraints,
        priority: train_split_first  # a priority does not pass to a job's inputs: merges need their own
        conda:
            "../envs/core.yaml"
        threads: 1
        params:
            kind=merge.kind,
            voc_root=VOC,
            split=split_of,
        script:
            "../workflow_scripts/merge_shards.py"
