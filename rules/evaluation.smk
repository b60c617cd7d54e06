# Evaluation (paper §4): Table 1 baselines, mAP^r / ABO / COCO cross-check per method,
# soft-map quality (Fig. 7-8), transfer experiments (Tables 3-4), per-stage diagnostics and the
# ceiling's GT targets. GT is read by these rules, evaluate_proposals, dataset_stats and report only.
from iam.names import TRANSFER_SPLITS


rule make_baselines:
    input:
        data=dataset_marker,
        split=split_file(VAL),
        prm=lambda w: f"{OUT}/prm/{VAL}.h5" if w.name.startswith("cam") else [],
        proposals=lambda w: (
            f"{OUT}/proposals/{SOURCE}/{VAL}.h5" if w.name.endswith("proposal") else []
        ),
    output:
        f"{OUT}/baselines/{{name}}/{VAL}.h5",
    log:
        log_path("make_baselines", "{name}"),
    benchmark:
        benchmark_path("make_baselines", "{name}")
    wildcard_constraints:
        name="|".join(BOX_BASELINES),
    conda:
        "../envs/core.yaml"
    threads: 1
    params:
        voc_root=voc_root_of,
        split=VAL,
        classes=CLASSES,
        box_source=lambda w: w.name.rsplit("_", 1)[0],
        fill=lambda w: w.name.rsplit("_", 1)[1],
        cam_threshold=config["evaluation"]["cam_threshold"],
        class_threshold=config["evaluation"]["cam_class_threshold"],
    script:
        "../workflow_scripts/make_baselines.py"


rule evaluate:
    input:
        pred=method_instances,
        data=dataset_marker,
        split=split_file(VAL),
    output:
        metrics=f"{OUT}/metrics/{{method}}.json",
        timing=f"{OUT}/timing/{{method}}.json",
    log:
        log_path("evaluate", "{method}"),
    benchmark:
        benchmark_path("evaluate", "{method}")
    wildcard_constraints:
        method="|".join(METHODS),
    conda:
        "../envs/core.yaml"
    threads: 1
    params:
        voc_root=voc_root_of,
        sbd_root=SBD,
        gt_source=config["dataset"]["gt_source"],
        split=VAL,
        classes=CLASSES,
        iou_thresholds=config["evaluation"]["iou_thresholds"],
    script:
        "../workflow_scripts/evaluate.py"


rule evaluate_soft_maps:
    input:
        prm=f"{OUT}/prm/{VAL}.h5",
        iam=f"{OUT}/iam/{SOURCE}/k{TRANSFER_K}/{VAL}.nocrf.h5",
        data=dataset_marker,
        split=split_file(VAL),
    output:
        f"{OUT}/metrics/soft_maps.csv",
    log:
        log_path("evaluate_soft_maps", VAL),
    benchmark:
        benchmark_path("evaluate_soft_maps", VAL)
    conda:
        "../envs/core.yaml"
    threads: 1
    params:
        voc_root=voc_root_of,
        sbd_root=SBD,
        gt_source=config["dataset"]["gt_source"],
        split=VAL,
        classes=CLASSES,
    script:
        "../workflow_scripts/evaluate_soft_maps.py"


rule evaluate_transfer:
    input:
        prm=f"{OUT}/prm/{{split}}.h5",
        iam=f"{OUT}/iam/{SOURCE}/k{TRANSFER_K}/{{split}}.nocrf.h5",
        data=dataset_marker,
        split=lambda w: split_file(w.split),
    output:
        f"{OUT}/metrics/transfer_{{split}}.json",
    log:
        log_path("evaluate_transfer", "{split}"),
    benchmark:
        benchmark_path("evaluate_transfer", "{split}")
    wildcard_constraints:
        split="|".join(TRANSFER_SPLITS),
    conda:
        "../envs/core.yaml"
    threads: 1
    params:
        voc_root=VOC,
        classes=CLASSES,
        k=TRANSFER_K,
    script:
        "../workflow_scripts/evaluate_transfer.py"


rule prm_quality:
    input:
        prm=f"{OUT}/prm/{{split}}.h5",
        data=dataset_marker,
        split=lambda w: split_file(w.split),
    output:
        f"{OUT}/metrics/prm_quality_{{split}}.json",
    log:
        log_path("prm_quality", "{split}"),
    benchmark:
        benchmark_path("prm_quality", "{split}")
    conda:
        "../envs/core.yaml"
    threads: 1
    params:
        voc_root=voc_root_of,
        sbd_root=SBD,
        gt_source=config["dataset"]["gt_source"],
        classes=CLASSES,
    script:
        "../workflow_scripts/prm_quality.py"


rule pseudo_gt_quality:
    input:
        prm=f"{OUT}/prm/{TRAIN}.h5",
        proposals=lambda w: f"{OUT}/proposals/{proposal_source(w)}/{TRAIN}.h5",
        pseudo_gt=f"{OUT}/pseudo_gt/{{source}}/k{{k}}.h5",
        data=dataset_marker,
        split=split_file(TRAIN),
    output:
        f"{OUT}/metrics/pseudo_gt_{{source}}_k{{k}}.json",
    log:
        log_path("pseudo_gt_quality", "{source}_k{k}"),
    benchmark:
        benchmark_path("pseudo_gt_quality", "{source}_k{k}")
    conda:
        "../envs/core.yaml"
    threads: 1
    params:
        voc_root=voc_root_of,
        sbd_root=SBD,
        gt_source=config["dataset"]["gt_source"],
        classes=CLASSES,
        match=config["pseudo_gt"],
    script:
        "../workflow_scripts/pseudo_gt_quality.py"


rule filler_quality:
    input:
        backbone=f"{OUT}/backbone/model.pt",
        filler=f"{OUT}/filler/{{source}}/k{{k}}/model.pt",
        data=dataset_marker,
        split=split_file(VAL),
    output:
        metrics=f"{OUT}/metrics/filler_{{source}}_k{{k}}.json",
        figure=f"{OUT}/report/figures/filling_weights_{{source}}_k{{k}}.png",
    log:
        log_path("filler_quality", "{source}_k{k}"),
    benchmark:
        benchmark_path("filler_quality", "{source}_k{k}")
    conda:
        "../envs/torch.yaml"
    threads: 1
    params:
        voc_root=voc_root_of,
        sbd_root=SBD,
        gt_source=config["dataset"]["gt_source"],
        classes=CLASSES,
        device=config["device"],
        images=config["evaluation"]["filler_images"],
        split=VAL,
    script:
        "../workflow_scripts/filler_quality.py"


rule make_ceiling_targets:
    input:
        prm=f"{OUT}/prm/{TRAIN}.h5",
        data=dataset_marker,
        split=split_file(TRAIN),
    output:
        f"{OUT}/ceiling/targets.h5",
    log:
        log_path("make_ceiling_targets"),
    benchmark:
        benchmark_path("make_ceiling_targets")
    priority: 1  # feeds the ceiling filler: at 0 it waited behind evaluation-split work and that filler ran last, alone
    conda:
        "../envs/core.yaml"
    threads: 1
    params:
        voc_root=voc_root_of,
        sbd_root=SBD,
        gt_source=config["dataset"]["gt_source"],
        split=TRAIN,
        classes=CLASSES,
    script:
        "../workflow_scripts/from_gt.py"


rule cut_prms_to_gt:
    input:
        prm=f"{OUT}/prm/{VAL}.h5",
        data=dataset_marker,
        split=split_file(VAL),
    output:
        f"{OUT}/{PRM_ORACLE}/{VAL}.h5",
    log:
        log_path("cut_prms_to_gt"),
    benchmark:
        benchmark_path("cut_prms_to_gt")
    conda:
        "../envs/core.yaml"
    threads: 1
    params:
        voc_root=voc_root_of,
        sbd_root=SBD,
        gt_source=config["dataset"]["gt_source"],
        split=VAL,
        classes=CLASSES,
    script:
        "../workflow_scripts/from_gt.py"


# The IAM-S{TRANSFER_K} filler, as trained, on the PRMs cut to their GT instances (one job, no shards).
rule infer_prm_oracle:
    input:
        data=dataset_marker,
        backbone=f"{OUT}/backbone/model.pt",
        filler=f"{OUT}/filler/{SOURCE}/k{TRANSFER_K}/model.pt",
        prm=f"{OUT}/{PRM_ORACLE}/{VAL}.h5",
        split=split_file(VAL),
    output:
        crf=f"{OUT}/iam/{PRM_ORACLE}/k{TRANSFER_K}/{VAL}.h5",
        nocrf=f"{OUT}/iam/{PRM_ORACLE}/k{TRANSFER_K}/{VAL}.nocrf.h5",
    log:
        log_path("infer_prm_oracle"),
    benchmark:
        benchmark_path("infer_prm_oracle")
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        gpu=torch_resources,
    params:
        k=TRANSFER_K,
        source=PRM_ORACLE,
        split=VAL,
        shard=0,
        inference=ORACLE_INFERENCE,
        crf=config["crf"],
        classes=CLASSES,
        device=config["device"],
        voc_root=voc_root_of,
        shards=1,
    script:
        "../workflow_scripts/infer_iam.py"
