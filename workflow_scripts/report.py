"""report/: tables, figures and index.html from every metric file, training log and the val artifacts."""

from pathlib import Path

from iam.data.voc import read_image, read_split
from iam.evaluation.gt import instance_reader
from iam.report.build import build_report, gallery_rows
from iam.workflow import run


def main(smk) -> None:
    p, i = smk.params, smk.input
    ids = read_split(p.voc_root, p.split)[: p.gallery_images]
    rows = gallery_rows(ids, i.prm, i.iam, i.iam_nocrf, lambda image_id: read_image(p.voc_root, image_id),
                        instance_reader(p.gt_source, p.voc_root, p.sbd_root, p.classes))
    metrics = {Path(f).stem: f for f in i.metrics}
    transfer = {Path(f).stem.removeprefix("transfer_"): f for f in i.transfer}
    curves = {"backbone": i.backbone_curve, **{f"filler k={k}": f for k, f in zip(p.ks, i.filler_curves)}}
    timings = {Path(f).stem: f for f in i.timings}
    diagnostics = {"prm": {Path(f).stem.removeprefix("prm_quality_"): f for f in i.prm_quality},
                   "pseudo_gt": {f"k={k}": f for k, f in zip(p.ks, i.pseudo_gt_quality)},
                   "filler": {f"k={k}": f for k, f in zip(p.ks, i.filler_quality)}}
    build_report(Path(smk.output.index).parent, metrics, timings, i.proposal_recall, i.soft_maps, transfer,
                 curves, p.classes, rows, p.run, diagnostics,
                 {f"k={k}": f for k, f in zip(p.ks, i.filling_figures)})


run(snakemake, main)  # noqa: F821
