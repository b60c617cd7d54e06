# Report: the paper's tables and figures from this run's metrics, logs and val artifacts.


rule report:
    input:
        metrics=expand(f"{OUT}/metrics/{{method}}.json", method=METHODS),
        timings=expand(
            f"{OUT}/timing/{{method}}.json", method=[*IAM_METHODS, "prm_retrieval"]
        ),
        proposal_recall=f"{OUT}/metrics/proposals_{VAL}.json",
        soft_maps=f"{OUT}/metrics/soft_maps.csv",
        transfer=expand(f"{OUT}/metrics/transfer_{{split}}.json", split=TRANSFER),
        backbone_curve=f"{OUT}/backbone/metrics.csv",
        pretrain_curve=pretrain_output("metrics.csv"),
        filler_curves=chain_files(f"{OUT}/filler/{{source}}/k{{k}}/metrics.csv"),
        prm=f"{OUT}/prm/{VAL}.h5",
        iam=f"{OUT}/iam/{SOURCE}/k{TRANSFER_K}/{VAL}.h5",
        iam_nocrf=f"{OUT}/iam/{SOURCE}/k{TRANSFER_K}/{VAL}.nocrf.h5",
        data=dataset_marker,
        prm_quality=expand(
            f"{OUT}/metrics/prm_quality_{{split}}.json", split=[TRAIN, VAL]
        ),
        pseudo_gt_quality=chain_files(f"{OUT}/metrics/pseudo_gt_{{source}}_k{{k}}.json"),
        filler_quality=chain_files(f"{OUT}/metrics/filler_{{source}}_k{{k}}.json"),
        filling_figures=chain_files(
            f"{OUT}/report/figures/filling_weights_{{source}}_k{{k}}.png"
        ),
    output:
        index=f"{OUT}/report/index.html",
        tables=report(
            f"{OUT}/report/tables.md",
            caption="../report/tables.rst",
            category="Tables",
        ),
        csvs=expand(
            f"{OUT}/report/{{table}}.csv",
            table=[
                "stage_chain",
                "table1",
                "table2",
                "table3",
                "table4",
                "proposal_recall",
            ],
        ),
        fig7=report(
            f"{OUT}/report/figures/iou_vs_size.png",
            caption="../report/iou_vs_size.rst",
            category="Figures",
        ),
        fig8=report(
            f"{OUT}/report/figures/per_class_iou.png",
            caption="../report/per_class_iou.rst",
            category="Figures",
        ),
        curves=report(
            f"{OUT}/report/figures/training_curves.png",
            caption="../report/training_curves.rst",
            category="Figures",
        ),
        gallery=report(
            f"{OUT}/report/figures/gallery.png",
            caption="../report/gallery.rst",
            category="Figures",
        ),
    log:
        log_path("report"),
    benchmark:
        benchmark_path("report")
    conda:
        "../envs/core.yaml"
    threads: 1
    params:
        run=config["run"],
        voc_root=VOC,
        sbd_root=SBD,
        gt_source=config["dataset"]["gt_source"],
        split=VAL,
        classes=CLASSES,
        fillers=list(CHAIN_FILLERS),
        gallery_images=config["evaluation"]["gallery_images"],
    script:
        "../workflow_scripts/report.py"
