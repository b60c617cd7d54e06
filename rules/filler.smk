# Filler training (paper §3.2-3.3): the instance extent filling module, one model per k (IAM-S{k}).
# Resumes from the newest filler/{source}/k{k}/checkpoints/epochNNNN.pt after an interruption (not declared as an
# output so Snakemake keeps it); on a GPU, run with --resources gpu=1 (SLURM: gpu -> gres).


rule train_filler:
    input:
        data=dataset_marker,
        backbone=f"{OUT}/backbone/model.pt",
        prm=f"{OUT}/prm/{TRAIN}.h5",
        pseudo_gt=pseudo_gt_of,
        split=split_file(TRAIN),
    output:
        model=f"{OUT}/filler/{{source}}/k{{k}}/model.pt",
        metrics=f"{OUT}/filler/{{source}}/k{{k}}/metrics.csv",
    log:
        log_path("train_filler", "{source}_k{k}"),
    benchmark:
        benchmark_path("train_filler", "{source}_k{k}")
    priority: filler_priority  # the longest jobs after the backbone: before evaluation-split work
    conda:
        "../envs/torch.yaml"
    threads: 1  # one model per k: on 2 cores two train side by side
    resources:
        gpu=torch_resources,
    params:
        k=lambda w: int(w.k),
        source=lambda w: w.source,
        filler=config["filler"],
        competition=FILLER_COMPETITION,
        input_size=config["backbone"]["input_size"],
        seed=config["seed"],
        device=config["device"],
        voc_root=voc_root_of,
        train_split=TRAIN,
    script:
        "../workflow_scripts/train_filler.py"
