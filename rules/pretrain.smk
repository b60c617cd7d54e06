# The embedded stand-in for ImageNet weights (backbone.weights: pretrain): a trunk trained on a
# generated 64-class set whose classes are told by whole-object outline and surface hue, image
# labels only, disjoint from the benchmark. Real-data runs set backbone.weights to imagenet or a .pth path.


rule pretrain_backbone:
    output:
        model=f"{OUT}/pretrain/model.pth",
        metrics=f"{OUT}/pretrain/metrics.json",
        csv=f"{OUT}/pretrain/metrics.csv",
    log:
        log_path("pretrain_backbone"),
    benchmark:
        benchmark_path("pretrain_backbone")
    priority: 2
    conda:
        "../envs/torch.yaml"
    threads: 2
    resources:
        gpu=torch_resources,
    params:
        pretrain=config["pretrain"],
        trunk=TRUNK,
        seed=config["seed"],
        device=config["device"],
    script:
        "../workflow_scripts/pretrain_backbone.py"


# backbone.weights: selfsup. The trunk learns from the benchmark's own training images with SimCLR's
# contrastive loss, before any label is read (iam.training.selfsup; README method notes).


rule pretrain_selfsup:
    input:
        data=dataset_marker,
        train=split_file(TRAIN),
    output:
        model=f"{OUT}/selfsup/model.pth",
        metrics=f"{OUT}/selfsup/metrics.json",
        csv=f"{OUT}/selfsup/metrics.csv",
    log:
        log_path("pretrain_selfsup"),
    benchmark:
        benchmark_path("pretrain_selfsup")
    priority: 2
    conda:
        "../envs/torch.yaml"
    threads: 2
    resources:
        gpu=torch_resources,
    params:
        selfsup=config["selfsup"],
        trunk=TRUNK,
        input_size=config["backbone"]["input_size"],
        dtype=config["backbone"]["dtype"],
        seed=config["seed"],
        device=config["device"],
        voc_root=voc_root_of,
        train_split=TRAIN,
    script:
        "../workflow_scripts/pretrain_selfsup.py"
