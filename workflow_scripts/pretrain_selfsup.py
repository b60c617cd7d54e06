"""Pretrain the trunk self-supervised (SimCLR) on the training split's images; no label is read."""

from pathlib import Path

from iam.data.voc import read_split
from iam.device import resolve_device, resolve_dtype
from iam.training.selfsup import SelfSupConfig, load_images, pretrain_selfsup
from iam.workflow import run, seed_everything


def main(smk) -> None:
    p = smk.params
    seed_everything(p.seed)
    device = resolve_device(p.device)
    images = load_images(p.voc_root, read_split(p.voc_root, p.train_split), p.input_size)
    cfg = SelfSupConfig(**p.trunk, **p.selfsup)
    dtype = resolve_dtype(p.dtype, device, "backbone.dtype")
    pretrain_selfsup(images, cfg, p.seed, Path(smk.output.model).parent, device, dtype)


run(snakemake, main)  # noqa: F821
