# PRM retrieval baseline (Zhou et al. 2018; paper Tables 1-2): one proposal per val peak.


rule retrieve_prm:
    input:
        prm=f"{OUT}/prm/{{split}}.h5",
        proposals=f"{OUT}/proposals/{SOURCE}/{{split}}.h5",
        split=lambda w: split_file(w.split),
        proposal_timing=generator_dir,
    output:
        f"{OUT}/baselines/prm_retrieval/{{split}}/shard{{i}}.h5",
    log:
        log_path("retrieve_prm", "{split}_shard{i}"),
    benchmark:
        benchmark_path("retrieve_prm", "{split}_shard{i}")
    conda:
        "../envs/core.yaml"
    threads: 1
    params:
        retrieval=config["retrieval"],
        classes=CLASSES,
        voc_root=VOC,
        shards=len(SHARDS),
        timing=generator_timing,
    script:
        "../workflow_scripts/retrieve_prm.py"
