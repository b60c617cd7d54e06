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
        trunk={
            k: config["backbone"][k]
            for k in ("arch", "dilate_layer3", "dilate_layer4")
        },
        seed=config["seed"],
        device=config["device"],
    script:
        "../workflow_scripts/pretrain_backbone.py"
