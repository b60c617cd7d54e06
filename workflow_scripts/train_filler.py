"""Train the filling module for one proposal source and k."""

from pathlib import Path

from iam.data.voc import read_split
from iam.device import resolve_device
from iam.models.backbone import load_backbone
from iam.training.checkpoint import run_fingerprint
from iam.training.filler import FillerConfig, load_samples, train
from iam.workflow import run, seed_everything


def main(smk) -> None:
    p = smk.params
    seed_everything(p.seed)
    device = resolve_device(p.device)
    ids = read_split(p.voc_root, p.train_split)
    samples = load_samples(p.voc_root, smk.input.prm, smk.input.pseudo_gt, ids, p.input_size, p.k, p.source)
    cfg = FillerConfig(**p.filler, seed=p.seed)
    train(load_backbone(smk.input.backbone, device), samples, cfg, device, Path(smk.output.model).parent,
          fingerprint=run_fingerprint(dict(p.items()), smk.input))


run(snakemake, main)  # noqa: F821
