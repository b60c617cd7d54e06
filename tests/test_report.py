"""Report tables, verdict, HTML/figures assembly and the COCO export."""

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
from pycocotools.coco import COCO

from iam.io.h5 import write_artifact
from iam.io.instances import InstanceSet, set_classes, write_instances
from iam.report import tables
from iam.report.build import build_report
from iam.report.export import export_ground_truth, export_predictions


def metrics(m50, timing):
    return {"map": {"0.5": m50}, "abo": 0.5, "coco_map_pycocotools": {"0.5": m50}, "seconds_per_image": timing}


def test_verdict_and_table2_from_numbers():
    loaded = {
        "iam_s5": metrics(0.4, {"time_prm": 0.2, "time_fill": 0.1, "time_crf": 0.05}),
        "iam_s5_nocrf": metrics(0.9, {"time_prm": 0.2, "time_fill": 0.1}),
        "prm_retrieval": metrics(0.3, {"time_prm": 0.2, "time_retrieval": 2.0, "time_proposals": 1.0}),
    }
    assert tables.verdict(loaded) == "IAM-S5 beats PRM retrieval at mAP^r@0.5: 40.0% vs 30.0% (ABO 50.0% vs 50.0%)."
    loaded["prm_retrieval"]["map"]["0.5"] = 0.4004  # prints as 40.0%: no result of one run
    assert tables.verdict(loaded).startswith("IAM-S5 is level with PRM retrieval at mAP^r@0.5: 40.0% vs 40.0%")
    loaded["prm_retrieval"]["map"]["0.5"] = 0.5
    assert "does not beat" in tables.verdict(loaded)
    nocrf_only = {m: loaded[m] for m in ("iam_s5_nocrf", "prm_retrieval")}
    assert tables.verdict(nocrf_only) == "IAM vs PRM retrieval: not both evaluated in this run."
    loaded["iam_s5_snap"] = metrics(0.6, {"time_prm": 0.2, "time_fill": 0.1, "time_retrieval": 0.01})
    assert tables.verdict(loaded).endswith(
        "IAM-S5 snapped to proposals (ours, not the paper's) beats PRM retrieval at mAP^r@0.5: 60.0% vs 50.0% "
        "(ABO 50.0% vs 50.0%)."
    )
    loaded["iam_s5_selftrain"] = metrics(0.45, {})
    assert (
        "IAM-S5 does not beat PRM retrieval at mAP^r@0.5: 40.0% vs 50.0% (ABO 50.0% vs 50.0%). IAM-S5 self-trained "
        "on its snapped training IAMs (ours, not the paper's) does not beat PRM retrieval at mAP^r@0.5: 45.0% vs "
        "50.0% (ABO 50.0% vs 50.0%). IAM-S5 snapped" in tables.verdict(loaded)
    )
    del loaded["iam_s5_selftrain"]
    t2 = tables.table2(loaded)
    assert abs(t2.loc["IAM-S5", "total"] - 0.35) < 1e-12 and abs(t2.loc["PRM retrieval", "total"] - 3.2) < 1e-12
    assert tables.method_label("gt_box_ellipse").endswith("(upper bound, uses GT boxes)")
    assert tables.method_label("iam_s5_prm_oracle").startswith("IAM-S5 filler fed PRMs cut to their GT instance")


def test_build_report_writes_every_output(tmp_path):
    paths = {}
    for name, m in {"iam_s5": metrics(0.4, {"time_crf": 0.1}), "prm_retrieval": metrics(0.3, {})}.items():
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(m))
    (tmp_path / "rec.json").write_text(json.dumps({"abo": 0.5}))
    (tmp_path / "loc.json").write_text(
        json.dumps({"iam": {"top1_loc_error": 0.2, "gt_known_loc_error": 0.1, "top1_cls_error": 0.1}, "k": 5})
    )
    pd.DataFrame({"method": ["PRM", "IAM"], "class": ["a", "a"], "iou": [0.2, 0.8], "size": [0.1, 0.3]}).to_csv(
        tmp_path / "soft.csv", index=False
    )
    pd.DataFrame({"epoch": [0, 1], "loss": [1.0, 0.5], "val_map": [0.5, 0.9]}).to_csv(
        tmp_path / "curve.csv", index=False
    )
    pd.DataFrame({"epoch": [1, 2], "val_accuracy": [0.1, 0.48]}).to_csv(tmp_path / "pretrain.csv", index=False)
    row = {
        "image": np.zeros((4, 4, 3), np.uint8),
        "PRM": np.zeros((4, 4)),
        "IAM": np.ones((4, 4)),
        "IAM + CRF": np.zeros((4, 4), int),
        "GT": np.ones((4, 4), int),
    }
    out = tmp_path / "report"
    (tmp_path / "prm.json").write_text(json.dumps({"peak_precision": 0.85, "on_object_own_mass": 0.5}))
    (tmp_path / "pgt.json").write_text(json.dumps({"top1_iou": 0.23, "best_in_top5": 0.24}))
    (tmp_path / "fill.json").write_text(json.dumps({"weight_entropy": 0.3, "boundary_ratio": 0.14}))
    fig5 = out / "figures" / "filling_weights_k5.png"
    fig5.parent.mkdir(parents=True)
    fig5.write_bytes(b"png")
    diagnostics = {
        "prm": {"val": tmp_path / "prm.json"},
        "pseudo_gt": {"k=5": tmp_path / "pgt.json"},
        "filler": {"k=5": tmp_path / "fill.json"},
    }
    build_report(
        out,
        paths,
        paths,
        tmp_path / "rec.json",
        tmp_path / "soft.csv",
        {"loc_test": tmp_path / "loc.json"},
        {"pretrain": tmp_path / "pretrain.csv", "backbone": tmp_path / "curve.csv"},
        ["a"],
        [row],
        "t",
        diagnostics,
        {"k=5": fig5},
    )
    md = (out / "tables.md").read_text()
    assert "| peaks + PRMs | val | stored peaks inside an instance of their class | 0.850 |" in md
    assert "| trunk | pretrain | ImageNet stand-in: held-out accuracy (64 classes) | 0.480 |" in md
    assert "| trunk | backbone | classification mAP on val (last epoch) | 0.900 |" in md
    assert "| filler | k=5 | filling weights: across / within GT regions (1 = blind) | 0.140 |" in md
    assert "| masks | IAM-S5 | mAP^r@0.5 (%) | 40.0 |" in md
    assert "figures/filling_weights_k5.png" in (out / "index.html").read_text()
    assert "IAM-S5 beats PRM retrieval" in md and "| IAM-S5 | 40.0 |" in md
    assert pd.read_csv(out / "table3.csv", index_col=0).loc["IAM", "top-1 loc. error"] == 20.0
    assert pd.read_csv(out / "table2.csv", index_col=0).loc["IAM-S5", "CRF"] == 0.1
    for name in ("iou_vs_size", "per_class_iou", "training_curves", "gallery"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000
    assert "figures/gallery.png" in (out / "index.html").read_text()


def test_coco_export_round_trips(tmp_path):
    mask = np.zeros((1, 6, 6), bool)
    mask[0, 1:4, 2:5] = True
    with write_artifact(tmp_path / "p.h5", "instances", "test") as f:
        set_classes(f, ["a", "b"])
        write_instances(f, "img1", InstanceSet(mask, np.array([1]), np.array([0.7], np.float32)))
    assert export_predictions(tmp_path / "p.h5", tmp_path / "preds.json") == 1
    gt = SimpleNamespace(masks=mask, labels=np.array([1]), void=np.zeros((6, 6), bool))
    assert export_ground_truth(["img1"], {"img1": gt}.get, ["a", "b"], tmp_path / "gt.json") == 1
    coco = COCO(str(tmp_path / "gt.json"))
    dets = coco.loadRes(str(tmp_path / "preds.json"))
    ann = dets.loadAnns(dets.getAnnIds())[0]
    assert ann["category_id"] == 2 and abs(ann["score"] - 0.7) < 1e-6
    assert (coco.annToMask(coco.loadAnns(coco.getAnnIds())[0]) == mask[0]).all()
