# Pseudo GT (paper §3.2): match training PRMs to proposals, keep each peak's top-k, overlap filter.
# beta > 0 adds the PRM paper's background penalty (see iam/pseudo_gt/matching.py).


rule make_pseudo_gt:
    input:
        prm=f"{OUT}/prm/{TRAIN}.h5",
        proposals=lambda w: f"{OUT}/proposals/{w.source}/{TRAIN}.h5",
        split=split_file(TRAIN),
    output:
        f"{OUT}/pseudo_gt/{{source}}/k{{k}}/shard{{i}}.h5",
    log:
        log_path("make_pseudo_gt", "{source}_k{k}_shard{i}"),
    benchmark:
        benchmark_path("make_pseudo_gt", "{source}_k{k}_shard{i}")
    wildcard_constraints:
        source="generated|mcg",
    priority: 1  # on the critical path: training PRMs -> pseudo GT -> filler
    conda:
        "../envs/core.yaml"
    threads: 1
    params:
        match=lambda w: {**config["pseudo_gt"], "k": int(w.k)},
        train_split=TRAIN,
        voc_root=voc_root_of,
        shards=len(SHARDS),
    script:
        "../workflow_scripts/make_pseudo_gt.py"
