# Segment proposals (paper §3.2): built-in generator -> MCG-format .mat -> HDF5, or MCG/COB .mat -> HDF5.


if SOURCE == "generated":

    rule generate_proposals:
        input:
            data=dataset_marker,
            split=lambda w: split_file(w.split),
        output:
            directory(f"{OUT}/proposals/generated/mat/{{split}}/shard{{i}}"),
        log:
            log_path("generate_proposals", "{split}_shard{i}"),
        benchmark:
            benchmark_path("generate_proposals", "{split}_shard{i}")
        priority: train_split_first
        conda:
            "../envs/core.yaml"
        threads: 1
        params:
            voc_root=VOC,
            shards=len(SHARDS),
            max_per_image=config["proposals"]["max_per_image"],
            generator=config["proposals"]["generator"],
        script:
            "../workflow_scripts/generate_proposals.py"


rule ingest_proposals:
    input:
        mat=mcg_dir,
        data=dataset_marker,
        split=lambda w: split_file(w.split),
    output:
        f"{OUT}/proposals/{{source}}/{{split}}/shard{{i}}.h5",
    log:
        log_path("ingest_proposals", "{source}_{split}_shard{i}"),
    benchmark:
        benchmark_path("ingest_proposals", "{source}_{split}_shard{i}")
    priority: train_split_first
    conda:
        "../envs/core.yaml"
    threads: 1
    params:
        voc_root=VOC,
        shards=len(SHARDS),
        max_per_image=config["proposals"]["max_per_image"],
    script:
        "../workflow_scripts/ingest_proposals.py"


rule evaluate_proposals:
    input:
        proposals=f"{OUT}/proposals/{SOURCE}/{{split}}.h5",
        data=dataset_marker,
        split=lambda w: split_file(w.split),
    output:
        f"{OUT}/metrics/proposals_{{split}}.json",
    log:
        log_path("evaluate_proposals", "{split}"),
    benchmark:
        benchmark_path("evaluate_proposals", "{split}")
    conda:
        "../envs/core.yaml"
    threads: 1
    params:
        voc_root=VOC,
        sbd_root=SBD,
        gt_source=config["dataset"]["gt_source"],
        classes=CLASSES,
    script:
        "../workflow_scripts/evaluate_proposals.py"
