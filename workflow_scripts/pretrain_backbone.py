"""Pretrain the trunk on the generated many-class set (the embedded stand-in for ImageNet weights)."""

from pathlib import Path

from iam.device import resolve_device
from iam.training.pretrain import PretrainConfig, pretrain
from iam.workflow import run, seed_everything


def main(smk) -> None:
    p = smk.params
    seed_everything(p.seed)
    pretrain(PretrainConfig(**p.trunk, **p.pretrain), p.seed, Path(smk.output.model).parent, resolve_device(p.device))


run(snakemake, main)  # noqa: F821
