# Learning Instance Activation Maps for weakly supervised instance segmentation (Zhu et al., CVPR 2019).
# The method in one screen: each include is one stage; every artifact lands under results/<run>/.
from snakemake.utils import min_version

from iam.config import check_data_tree, validate_config

min_version("9.19")


configfile: "config.yaml"


validate_config(config)
check_data_tree(config)


include: "rules/common.smk"
include: "rules/dataset.smk"  # make_dataset (synthetic benchmark in VOC/SBD formats)
include: "rules/pretrain.smk"  # pretrain_backbone (the ImageNet stand-in), pretrain_selfsup (SimCLR)
include: "rules/backbone.smk"  # train_backbone (ResNet + peak stimulation, image labels only)
include: "rules/prm.smk"  # extract_prm -> prm/{split}.h5 (peaks, PRMs, CRMs)
include: "rules/proposals.smk"  # generate_proposals -> MCG .mat -> ingest_proposals -> HDF5
include: "rules/pseudo_gt.smk"  # make_pseudo_gt: matching score, top-k, overlap filter
include: "rules/retrieval.smk"  # retrieve_prm: the PRM paper's proposal retrieval baseline
include: "rules/filler.smk"  # train_filler: instance extent filling module
include: "rules/self_training.smk"  # self_training_targets (opt-in): a second filler's targets
include: "rules/inference.smk"  # infer_iam: IAMs -> ConvCRF -> instance masks
include: "rules/merge.smk"  # merge_*: each sharded stage's shards -> its split file
include: "rules/evaluation.smk"  # baselines, evaluate: mAP^r, ABO, transfer experiments
include: "rules/report.smk"  # report: tables, figures, HTML


rule all:
    default_target: True
    input:
        f"{OUT}/report/index.html",
        expand(f"{OUT}/metrics/prm_quality_{{split}}.json", split=[TRAIN, VAL]),
        f"{OUT}/dataset/stats.json" if SYNTHETIC else [],
