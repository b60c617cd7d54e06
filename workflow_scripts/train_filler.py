"""Train the filling module for one proposal source and k."""

from pathlib import Path

from iam.data.maps import Competition
from iam.data.voc import read_split
from iam.device import resolve_device
from iam.models.backbone import load_backbone
from iam.training.checkpoint import run_fingerprint
from iam.training.filler import FillerConfig, feature_bytes, train, training_samples
from iam.training.samples import SampleSource
from iam.workflow import run, seed_everything


def main(smk) -> None:
    p = smk.params
    seed_everything(p.seed)
    device = resolve_device(p.device)
    cfg = FillerConfig(**p.filler, seed=p.seed)
    backbone = load_backbone(smk.input.backbone, device)
    competition = Competition(*p.competition) if p.competition else None
    where = SampleSource(Path(p.voc_root), Path(smk.input.prm), Path(smk.input.pseudo_gt), p.input_size, competition)
    ids = read_split(p.voc_root, p.train_split)
    samples = training_samples(where, ids, p.k, p.source, cfg, feature_bytes(backbone, p.input_size, device))
    train(
        backbone,
        samples,
        cfg,
        device,
        Path(smk.output.model).parent,
        fingerprint=run_fingerprint(dict(p.items()), smk.input),
    )


run(snakemake, main)  # noqa: F821
