# Self-training (our extension, opt-in self_training.enabled): the k filler's training IAMs snapped to
# proposals become the targets of a second filler, filler/selftrain/k{k} (method iam_s{k}_selftrain).


rule self_training_targets:
    input:
        data=dataset_marker,
        backbone=f"{OUT}/backbone/model.pt",
        filler=f"{OUT}/filler/{SOURCE}/k{{k}}/model.pt",
        prm=f"{OUT}/prm/{TRAIN}.h5",
        proposals=f"{OUT}/proposals/{SOURCE}/{TRAIN}.h5",
        split=split_file(TRAIN),
    output:
        f"{OUT}/pseudo_gt/{SELF_TRAINED_SOURCE}/k{{k}}/shard{{i}}.h5",
    log:
        log_path("self_training_targets", "k{k}_shard{i}"),
    benchmark:
        benchmark_path("self_training_targets", "k{k}_shard{i}")
    priority: 2  # on the critical path: first filler -> targets -> second filler
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        gpu=torch_resources,
    params:
        k=lambda w: int(w.k),
        source=SOURCE,
        inference={
            **SNAP_INFERENCE,
            "snap_threshold": config["self_training"]["snap_threshold"],
        },
        device=config["device"],
        train_split=TRAIN,
        voc_root=voc_root_of,
        shards=len(SHARDS),
    script:
        "../workflow_scripts/self_training_targets.py"
