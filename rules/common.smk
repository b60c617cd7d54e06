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


wildcard_constraints:
    split="[A-Za-z0-9_]+",
    source="generated|mcg",
    k=r"\d+",
    i=r"\d+",


def dataset_marker(wildcards=None):
    """The make_dataset output that stands for the whole generated tree (nothing for real data)."""
    return f"{DATA}/dataset.json" if SYNTHETIC else []


def split_file(split):
    return f"{VOC}/ImageSets/Segmentation/{split}.txt"


def shards_of(pattern, **wildcards):
    """All shard files of a per-shard output pattern (with {i})."""
    return expand(pattern, i=SHARDS, **wildcards)


def mcg_dir(wildcards):
    """Directory of MCG-format .mat proposals for one shard: generated, or the user's MCG/COB dir."""
    if SOURCE == "mcg":
        return config["dataset"]["mcg_dir"]
    return f"{OUT}/proposals/generated/mat/{wildcards.split}/shard{wildcards.i}"


def torch_resources(wildcards=None):
    return 1 if config["device"] == "cuda" else 0
