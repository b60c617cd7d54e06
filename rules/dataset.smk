# The embedded synthetic benchmark (dataset.kind: synthetic), written in VOC2012 + SBD formats,
# and its statistics (which read ground truth, so they belong to the report side).
from iam.names import SYNTHETIC_SPLITS

if SYNTHETIC:

    rule make_dataset:
        output:
            marker=f"{DATA}/dataset.json",
            splits=[split_file(s) for s in SYNTHETIC_SPLITS],
        log:
            log_path("make_dataset"),
        benchmark:
            benchmark_path("make_dataset")
        conda:
            "../envs/core.yaml"
        threads: 1
        params:
            synthetic=benchmark_settings(),
            classes=CLASSES,
            seed=benchmark_seed(),
        script:
            "../workflow_scripts/make_dataset.py"


rule dataset_stats:
    input:
        dataset_marker,
    output:
        stats=f"{OUT}/dataset/stats.json",
        sheet=f"{OUT}/dataset/contact_sheet.png",
    log:
        log_path("dataset_stats"),
    benchmark:
        benchmark_path("dataset_stats")
    conda:
        "../envs/core.yaml"
    threads: 1
    params:
        voc_root=VOC,
        classes=CLASSES,
        splits=[TRAIN, VAL],
    script:
        "../workflow_scripts/dataset_stats.py"
