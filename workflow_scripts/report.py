"""report/: tables, figures and index.html from every metric file, training log and the val artifacts."""

from pathlib import Path

from iam.data.voc import read_image, read_split
from iam.evaluation.gt import instance_reader
from iam.report.build import build_report, gallery_rows
from iam.workflow import run


def main(smk) -> None:
    p, inputs = smk.params, smk.input
    ids = read_split(p.voc_root, p.split)[: p.gallery_images]
    rows = gallery_rows(
        ids,
        inputs.prm,
        inputs.iam,
        inputs.iam_nocrf,
        lambda image_id: read_image(p.voc_root, image_id),
        instance_reader(p.gt_source, p.voc_root, p.sbd_root, p.classes),
    )
    metrics = {Path(f).stem: f for f in inputs.metrics}
    transfer = {Path(f).stem.removeprefix("transfer_"): f for f in inputs.transfer}
    curves = {
        **({"pretrain": inputs.pretrain_curve} if inputs.pretrain_curve else {}),
        "backbone": inputs.backbone_curve,
        **{f"filler {n}": f for n, f in zip(p.fillers, inputs.filler_curves)},
    }
    timings = {Path(f).stem: f for f in inputs.timings}
    diagnostics = {
        "prm": {Path(f).stem.removeprefix("prm_quality_"): f for f in inputs.prm_quality},
        "pseudo_gt": dict(zip(p.fillers, inputs.pseudo_gt_quality)),
        "filler": dict(zip(p.fillers, inputs.filler_quality)),
    }
    build_report(
        Path(smk.output.index).parent,
        metrics,
        timings,
        inputs.proposal_recall,
        inputs.soft_maps,
        transfer,
        curves,
        p.classes,
        rows,
        p.run,
        diagnostics,
        dict(zip(p.fillers, inputs.filling_figures)),
    )


run(snakemake, main)  # noqa: F821
