from pathlib import Path

from iam.names import (
    IAM_VARIANTS,
    PRETRAINED_TRUNKS,
    PRM_ORACLE,
    SNAP_KEYS,
    SELF_TRAINED_SOURCE,
    derived_method,
    iam_method,
    parse_method,
    self_trained_method,
)

# Paths, input functions and wildcard constraints shared by every rule file.
# Rule files read config only through the names defined here and their own params:.

OUT = f"results/{config['run']}"
DATA = f"{OUT}/data"
SYNTHETIC = config["dataset"]["kind"] == "synthetic"
VOC = f"{DATA}/VOC2012" if SYNTHETIC else config["dataset"]["voc_root"]
SBD = f"{DATA}/SBD" if SYNTHETIC else config["dataset"]["sbd_root"]
CLASSES = config["dataset"]["classes"]
TRAIN = config["dataset"]["train_split"]
VAL = config["dataset"]["val_split"]
TRANSFER = config["dataset"]["transfer_splits"] if SYNTHETIC else []
PRM_SPLITS = [TRAIN, VAL, *TRANSFER]
SOURCE = config["proposals"]["source"]
KS = config["pseudo_gt"]["k"]
SHARDS = list(range(config["shards"]["count"]))

# Methods evaluated on VAL (Table 1): IAM with/without CRF and snapped to proposals per k, PRM
# retrieval, box baselines.
BOX_BASELINES = [
    f"{boxes}_{fill}"
    for boxes in ("gt_box", "cam")
    for fill in ("rect", "ellipse", "proposal")
]
IAM_METHODS = [iam_method(k, variant) for k in KS for variant in IAM_VARIANTS]
# The filler trained on GT instance masks (k = 1): Table 1's upper bound of the filler itself.
CEILING, CEILING_SOURCE = "iam_ceiling", "gtmask"
# Opt-in self-training (rules/self_training.smk): a second filler of k SELF_TRAINED_K.
SELF_TRAINING = config["self_training"]["enabled"]
SELF_TRAINED_K = config["self_training"]["k"]
SELF_TRAINED = [self_trained_method(SELF_TRAINED_K)] if SELF_TRAINING else []
TRANSFER_K = config["evaluation"]["transfer_k"]
# The IAM-S{TRANSFER_K} filler fed val PRMs cut to their GT instances: what the PRMs' mass off
# their instance costs the masks (reads GT).
PRM_ORACLE_METHOD = derived_method(TRANSFER_K, PRM_ORACLE)
METHODS = [
    *IAM_METHODS,
    *SELF_TRAINED,
    CEILING,
    PRM_ORACLE_METHOD,
    "prm_retrieval",
    *BOX_BASELINES,
]
# The fillers whose targets, weights and curves the report's stage chain shows: (source, k) by label.
CHAIN_FILLERS = {f"k={k}": (SOURCE, k) for k in KS}
if SELF_TRAINING:
    CHAIN_FILLERS[f"self-trained k={SELF_TRAINED_K}"] = (
        SELF_TRAINED_SOURCE,
        SELF_TRAINED_K,
    )
# The inference keys of infer_iam and of snap_iam: each reruns only on a change of its own keys.
IAM_INFERENCE = {k: v for k, v in config["inference"].items() if k != "snap_threshold"}
SNAP_INFERENCE = {k: config["inference"][k] for k in SNAP_KEYS}
# The competition whose kept mass shares weight the filler's loss (filler.kept_weight), else None.
FILLER_COMPETITION = (
    [config["inference"]["prm_competition"], config["inference"]["duplicate_cosine"]]
    if config["filler"]["kept_weight"]
    else None
)
# The PRM oracle's GT-cut PRMs spill onto nothing: competing would only split an instance between its peaks.
ORACLE_INFERENCE = {**IAM_INFERENCE, "prm_competition": 0.0}


def prm_params(split):
    """config["prm"] as the split's extraction reads it: the training split's classes are its image
    labels, so class_threshold does not reach it (a change reruns the other splits' PRMs only).
    """
    return {
        k: v
        for k, v in config["prm"].items()
        if split != TRAIN or k != "class_threshold"
    }


wildcard_constraints:
    split="[A-Za-z0-9_]+",
    source=f"generated|mcg|{CEILING_SOURCE}|{SELF_TRAINED_SOURCE}",
    k=r"\d+",
    i=r"\d+",


def log_path(rule_name, job=None):
    """logs/<rule>/<job>.log; ``job`` names one job by its wildcards (e.g. "{split}_shard{i}") and
    defaults to the rule's name for a rule with a single job."""
    return f"{OUT}/logs/{rule_name}/{job or rule_name}.log"


def benchmark_path(rule_name, job=None):
    """benchmarks/<rule>/<job>.tsv, named as :func:`log_path` names the log."""
    return f"{OUT}/benchmarks/{rule_name}/{job or rule_name}.tsv"


def dataset_marker(wildcards=None):
    """The make_dataset output that stands for the whole generated tree (nothing for real data)."""
    return f"{DATA}/dataset.json" if SYNTHETIC else []


def benchmark_seed():
    """The generated benchmark's seed: synthetic.seed, or the top-level seed when that is null."""
    seed = config["synthetic"]["seed"]
    return config["seed"] if seed is None else seed


def benchmark_settings():
    """The synthetic section without its seed (passed apart, as :func:`benchmark_seed`)."""
    return {key: value for key, value in config["synthetic"].items() if key != "seed"}


# The trunk the rules of pretrain.smk train: the backbone's architecture, dilated as the backbone is.
TRUNK = {k: config["backbone"][k] for k in ("arch", "dilate_layer3", "dilate_layer4")}


def pretrain_output(name):
    """An input function: {weights}/{name} when backbone.weights names a trunk that a rule
    pretrains (pretrain_backbone or pretrain_selfsup), nothing otherwise."""
    weights = config["backbone"]["weights"]
    return lambda wildcards=None: (
        f"{OUT}/{weights}/{name}" if weights in PRETRAINED_TRUNKS else []
    )


def pseudo_gt_of(wildcards):
    """The filler's training targets: the pseudo GT of a proposal source, or GT masks for the ceiling."""
    if wildcards.source == CEILING_SOURCE:
        return f"{OUT}/ceiling/targets.h5"
    return f"{OUT}/pseudo_gt/{wildcards.source}/k{wildcards.k}.h5"


def voc_root_of(wildcards, input):
    """The VOC root, derived from the rule's split-file input (``split`` or ``train``) so that it
    follows the inputs when a storage plugin relocates them."""
    split = input.split if "split" in input.keys() else input.train
    return str(Path(split).parents[2])


def split_file(split):
    return f"{VOC}/ImageSets/Segmentation/{split}.txt"


def shards_of(pattern):
    """Input function: every shard file of a per-shard pattern (with {i}) for a job's wildcards."""
    return lambda wildcards: expand(pattern, i=SHARDS, **wildcards)


def mcg_dir(wildcards):
    """Directory of MCG-format .mat proposals for one shard: generated, or the user's MCG/COB dir."""
    if SOURCE == "mcg":
        return config["dataset"]["mcg_dir"]
    return f"{OUT}/proposals/generated/mat/{wildcards.split}/shard{wildcards.i}"


def generator_dir(wildcards):
    """A shard's built-in generator output (its timing.json feeds Table 2); nothing for MCG/COB."""
    return mcg_dir(wildcards) if wildcards.get("source", SOURCE) == "generated" else []


def generator_timing(wildcards):
    """Path of a shard's generator seconds per image, "" for MCG/COB proposals (untimed)."""
    return f"{mcg_dir(wildcards)}/timing.json" if generator_dir(wildcards) else ""


def chain_files(pattern):
    """``pattern`` (with {source} and {k}) filled for each of CHAIN_FILLERS, in its order."""
    return [pattern.format(source=s, k=k) for s, k in CHAIN_FILLERS.values()]


def proposal_source(wildcards):
    """The proposals a pseudo-GT source was built from (self-training snaps to the run's own)."""
    return SOURCE if wildcards.source == SELF_TRAINED_SOURCE else wildcards.source


def split_of(wildcards):
    """The split a job works on: its split wildcard, or the training split for the pseudo GT."""
    return wildcards.get("split", TRAIN)


def train_split_first(wildcards):
    """Scheduling priority of per-split jobs: the training split feeds the longest chain
    (pseudo GT -> filler training), so its shards run before the evaluation splits'."""
    return 1 if split_of(wildcards) == TRAIN else 0


def filler_priority(wildcards):
    """Fillers go first (the longest jobs after the backbone); with self-training, the chain
    first filler -> targets -> second filler goes before the other fillers."""
    chain = {(SOURCE, str(SELF_TRAINED_K)), (SELF_TRAINED_SOURCE, str(SELF_TRAINED_K))}
    return 2 if SELF_TRAINING and (wildcards.source, wildcards.k) in chain else 1


def torch_resources(wildcards=None):
    return 1 if config["device"] == "cuda" else 0


def method_instances(wildcards):
    """The instance-set artifact a method is evaluated from."""
    name = wildcards.method
    if name == CEILING:
        return f"{OUT}/iam/{CEILING_SOURCE}/k1/{VAL}.h5"
    if name == PRM_ORACLE_METHOD:
        return f"{OUT}/iam/{PRM_ORACLE}/k{TRANSFER_K}/{VAL}.h5"
    if name in SELF_TRAINED:
        return f"{OUT}/iam/{SELF_TRAINED_SOURCE}/k{SELF_TRAINED_K}/{VAL}.h5"
    if iam := parse_method(name):
        k, variant = iam
        return f"{OUT}/iam/{SOURCE}/k{k}/{VAL}{IAM_VARIANTS[variant]}.h5"
    return f"{OUT}/baselines/{name}/{VAL}.h5"
