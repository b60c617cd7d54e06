# IAM inference (paper §3.3): PRMs -> filling module -> IAMs -> ConvCRF -> instances, no proposals.
# One forward pass writes both the CRF result and the no-CRF ablation.


rule infer_iam:
    input:
        data=dataset_marker,
        backbone=f"{OUT}/backbone/model.pt",
        filler=f"{OUT}/filler/{{source}}/k{{k}}/model.pt",
        prm=f"{OUT}/prm/{{split}}.h5",
        split=lambda w: split_file(w.split),
    output:
        crf=f"{OUT}/iam/{{source}}/k{{k}}/{{split}}/shard{{i}}.h5",
        nocrf=f"{OUT}/iam/{{source}}/k{{k}}/{{split}}/shard{{i}}.nocrf.h5",
    log:
        log_path("infer_iam", "{source}_k{k}_{split}_shard{i}"),
    benchmark:
        benchmark_path("infer_iam", "{source}_k{k}_{split}_shard{i}")
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        gpu=torch_resources,
    params:
        k=lambda w: int(w.k),
        source=lambda w: w.source,
        split=lambda w: w.split,
        shard=lambda w: int(w.i),
        inference=IAM_INFERENCE,
        crf=config["crf"],
        classes=CLASSES,
        device=config["device"],
        voc_root=VOC,
        shards=len(SHARDS),
    script:
        "../workflow_scripts/infer_iam.py"


# Our extension (method iam_s{k}_snap): each IAM snapped to the proposal it fits best, no CRF.
rule snap_iam:
    input:
        data=dataset_marker,
        backbone=f"{OUT}/backbone/model.pt",
        filler=f"{OUT}/filler/{{source}}/k{{k}}/model.pt",
        prm=f"{OUT}/prm/{{split}}.h5",
        proposals=f"{OUT}/proposals/{{source}}/{{split}}.h5",
        split=lambda w: split_file(w.split),
        proposal_timing=generator_dir,
    output:
        f"{OUT}/iam/{{source}}/k{{k}}/{{split}}/shard{{i}}.snap.h5",
    log:
        log_path("snap_iam", "{source}_k{k}_{split}_shard{i}"),
    benchmark:
        benchmark_path("snap_iam", "{source}_k{k}_{split}_shard{i}")
    wildcard_constraints:
        source="generated|mcg",
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        gpu=torch_resources,
    params:
        k=lambda w: int(w.k),
        source=lambda w: w.source,
        inference=SNAP_INFERENCE,
        classes=CLASSES,
        device=config["device"],
        voc_root=VOC,
        shards=len(SHARDS),
        timing=generator_timing,
    script:
        "../workflow_scripts/snap_iam.py"
