# Peak Response Maps (paper §3.1, Eq. 1): class peaks + probabilistic peak backpropagation, per shard.


rule extract_prm:
    input:
        data=dataset_marker,
        backbone=f"{OUT}/backbone/model.pt",
        split=lambda w: split_file(w.split),
    output:
        f"{OUT}/prm/{{split}}/shard{{i}}.h5",
    log:
        log_path("extract_prm", "{split}_shard{i}"),
    benchmark:
        benchmark_path("extract_prm", "{split}_shard{i}")
    priority: train_split_first
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        gpu=torch_resources,
    params:
        prm=lambda w: prm_params(w.split),
        input_size=config["backbone"]["input_size"],
        classes=CLASSES,
        train_split=TRAIN,
        device=config["device"],
        voc_root=VOC,
        shards=len(SHARDS),
    script:
        "../workflow_scripts/extract_prm.py"
