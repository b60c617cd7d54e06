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
        f"{OUT}/logs/infer_iam/{{source}}_k{{k}}_{{split}}_shard{{i}}.log",
    benchmark:
        f"{OUT}/benchmarks/infer_iam/{{source}}_k{{k}}_{{split}}_shard{{i}}.tsv"
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        gpu=torch_resources,
    params:
        k=lambda w: int(w.k),
        source=lambda w: w.source,
        inference=config["inference"],
        crf=config["crf"],
        classes=CLASSES,
        device=config["device"],
        voc_root=VOC,
        shards=len(SHARDS),
    script:
        "../workflow_scripts/infer_iam.py"


rule merge_iam:
    input:
        shards=lambda w: shards_of(
            f"{OUT}/iam/{{source}}/k{{k}}/{{split}}/shard{{i}}{{ext}}",
            source=w.source,
            k=w.k,
            split=w.split,
            ext=w.ext,
        ),
    output:
        f"{OUT}/iam/{{source}}/k{{k}}/{{split}}{{ext}}",
    log:
        f"{OUT}/logs/merge_iam/{{source}}_k{{k}}_{{split}}{{ext}}.log",
    benchmark:
        f"{OUT}/benchmarks/merge_iam/{{source}}_k{{k}}_{{split}}{{ext}}.tsv"
    wildcard_constraints:
        ext=r"\.h5|\.nocrf\.h5",
    conda:
        "../envs/core.yaml"
    threads: 1
    params:
        kind="instances",
        voc_root=VOC,
    script:
        "../workflow_scripts/merge_shards.py"
