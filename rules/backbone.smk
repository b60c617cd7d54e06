# Backbone (paper §3.1): ResNet + 1x1 classifier + peak stimulation, trained with image labels only.
# Resumes from backbone/checkpoints/epoch*.pt after an interruption (not declared as outputs so
# Snakemake keeps them).


rule train_backbone:
    input:
        data=dataset_marker,
        train=split_file(TRAIN),
        val=split_file(VAL),
        pretrained=pretrain_output("model.pth"),
    output:
        model=f"{OUT}/backbone/model.pt",
        metrics=f"{OUT}/backbone/metrics.json",
        csv=f"{OUT}/backbone/metrics.csv",
    log:
        log_path("train_backbone"),
    benchmark:
        benchmark_path("train_backbone")
    priority: 1
    conda:
        "../envs/torch.yaml"
    threads: 2
    resources:
        gpu=torch_resources,
    params:
        backbone=config["backbone"],
        classes=CLASSES,
        seed=config["seed"],
        device=config["device"],
        voc_root=voc_root_of,
        train_split=TRAIN,
        val_split=VAL,
    script:
        "../workflow_scripts/train_backbone.py"
