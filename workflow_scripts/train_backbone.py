"""Train the peak-stimulated backbone on image labels; resume from its last checkpoint."""

from dataclasses import replace
from pathlib import Path

from iam.data.voc import read_split
from iam.device import dtype_name, resolve_device, resolve_dtype
from iam.names import PRETRAINED_TRUNKS
from iam.training.backbone import BackboneConfig, train_backbone, train_fingerprint
from iam.workflow import run, seed_everything


def main(smk) -> None:
    p = smk.params
    seed_everything(p.seed)
    cfg, classes, device = BackboneConfig(**p.backbone), list(p.classes), resolve_device(p.device)
    cfg = replace(cfg, dtype=dtype_name(resolve_dtype(cfg.dtype, device, "backbone.dtype")))  # resume only alike
    if cfg.weights in PRETRAINED_TRUNKS:  # the trunk of rule pretrain_backbone or pretrain_selfsup
        cfg = replace(cfg, weights=smk.input.pretrained)
    train_backbone(
        p.voc_root,
        read_split(p.voc_root, p.train_split),
        read_split(p.voc_root, p.val_split),
        classes,
        cfg,
        device,
        Path(smk.output.model).parent,
        fingerprint=train_fingerprint(cfg, classes, p.seed, list(smk.input)),
    )


run(snakemake, main)  # noqa: F821
