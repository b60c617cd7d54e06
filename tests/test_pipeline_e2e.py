"""End-to-end runs of the tiny config: artifacts, caching, weak supervision, determinism.

Marked ``e2e``; they share one tiny run (the ``tiny_run`` fixture in conftest.py).
"""

import json
import re
import shutil

import h5py
import pytest
import yaml

from conftest import copy_workflow, planned_jobs, run_snakemake
from iam.evaluation.ceiling import SOURCE as CEILING_SOURCE
from iam.io.compare import artifact_differences
from iam.io.schema import LAYOUTS
from iam.names import PRM_ORACLE

pytestmark = pytest.mark.e2e

GT_FOLDERS = ("SegmentationObject", "SegmentationClass", "SegmentationPart", "SaliencyMasks")
UPSTREAM = ("prm", "proposals", "pseudo_gt", "iam")


def test_report_and_metrics(tiny_run):
    out = tiny_run.results
    assert (out / "report" / "index.html").stat().st_size > 1000
    iam = json.loads((out / "metrics" / "iam_s1.json").read_text())
    assert 0.0 <= iam["abo"] <= 1.0
    assert all(0.0 <= v <= 1.0 for v in iam["map"].values())
    assert iam["n_predictions"] > 0  # the IAM path runs to non-empty masks, not only to files
    snapped = json.loads((out / "metrics" / "iam_s1_snap.json").read_text())
    assert snapped["n_predictions"] > 0
    snap_timing = json.loads((out / "timing" / "iam_s1_snap.json").read_text())["seconds_per_image"]
    assert {"time_prm", "time_fill", "time_proposals", "time_retrieval"} <= snap_timing.keys()
    self_trained = json.loads((out / "metrics" / "iam_s5_selftrain.json").read_text())
    assert self_trained["n_predictions"] > 0
    with h5py.File(out / "pseudo_gt" / "selftrain" / "k5.h5", "r") as f:  # one target per peak, or none
        candidates = [f[g]["candidates"][()] for g in f]
        assert all((c[:, 1:] < 0).all() for c in candidates) and any((c[:, 0] >= 0).any() for c in candidates)
    ceiling = json.loads((out / "metrics" / "iam_ceiling.json").read_text())
    assert ceiling["n_predictions"] > 0
    oracle = json.loads((out / "metrics" / "iam_s5_prm_oracle.json").read_text())
    assert oracle["n_predictions"] > 0 and oracle["n_images"] == iam["n_images"]
    tables = (out / "report" / "tables.md").read_text()
    assert "upper bound, uses GT masks" in tables and "Per-stage diagnostics" in tables
    assert (out / "report" / "tables.md").read_text().count("|") > 20


def test_every_rule_logs_and_benchmarks(tiny_run):
    out = tiny_run.results
    logs = {p.parent.name for p in (out / "logs").rglob("*.log")}
    bench = {p.parent.name for p in (out / "benchmarks").rglob("*.tsv")}
    assert {"train_backbone", "extract_prm", "train_filler", "infer_iam", "evaluate", "report"} <= logs
    assert logs == bench


def test_every_hdf5_dataset_is_documented(tiny_run):
    for path in tiny_run.results.rglob("*.h5"):
        with h5py.File(path, "r") as f:
            kind = str(f.attrs["kind"])
            assert kind in LAYOUTS, f"{path}: undocumented kind {kind}"
            for key in list(f)[:2]:
                for name in f[key]:
                    assert name in LAYOUTS[kind], f"{path}: dataset {name} of kind {kind} undocumented"


def test_noop_rerun_schedules_nothing(tiny_run):
    result = run_snakemake(tiny_run.workdir, "-n")
    assert result.returncode == 0, result.stderr
    assert "Nothing to be done" in result.stdout + result.stderr


def _more_crf_iterations(config: dict) -> None:
    config["crf"]["iterations"] += 1


def _other_snap_threshold(config: dict) -> None:
    config["inference"]["snap_threshold"] = 0.7  # the tiny config keeps the default, 0.5


def _other_self_training_cut(config: dict) -> None:
    config["self_training"]["snap_threshold"] = 0.5


def _longer_pretraining(config: dict) -> None:
    config["pretrain"]["epochs"] += 1


def _selfsup_trunk(config: dict) -> None:
    config["backbone"]["weights"] = "selfsup"


def _other_training_seed(config: dict) -> None:
    config["synthetic"]["seed"] = config["seed"]  # the benchmark's draw stays where it was
    config["seed"] += 1


def _other_class_threshold(config: dict) -> None:
    config["prm"]["class_threshold"] -= 1.0  # chooses the classes of val and test only


def _larger_prm_input(config: dict) -> None:
    config["prm"]["input_size"] = config["backbone"]["input_size"] + 16  # the same backbone, a finer CRM


def _add_k(config: dict) -> None:
    config["pseudo_gt"]["k"].append(3)


@pytest.mark.parametrize(
    "change, must_run, must_not_run",
    [
        (
            _more_crf_iterations,
            {"infer_iam", "report"},
            {"make_dataset", "train_backbone", "extract_prm", "generate_proposals", "make_pseudo_gt", "train_filler"},
        ),
        (
            _other_snap_threshold,
            {"snap_iam", "report"},
            {"infer_iam", "train_filler", "make_pseudo_gt", "extract_prm", "retrieve_prm", "generate_proposals"},
        ),
        (
            _other_self_training_cut,
            {"self_training_targets", "train_filler", "infer_iam", "report"},
            {"make_pseudo_gt", "snap_iam", "extract_prm", "retrieve_prm", "generate_proposals", "train_backbone"},
        ),
        (
            _longer_pretraining,
            {"pretrain_backbone", "train_backbone", "extract_prm", "make_pseudo_gt", "train_filler", "report"},
            {"make_dataset", "generate_proposals", "dataset_stats"},
        ),
        (
            _selfsup_trunk,
            {"pretrain_selfsup", "train_backbone", "extract_prm", "make_pseudo_gt", "train_filler", "report"},
            {"make_dataset", "generate_proposals", "dataset_stats", "pretrain_backbone"},
        ),
        (
            _other_training_seed,
            {"train_backbone", "extract_prm", "make_pseudo_gt", "train_filler", "infer_iam", "report"},
            {"make_dataset", "dataset_stats", "generate_proposals", "ingest_proposals", "evaluate_proposals"},
        ),
        (
            _other_class_threshold,
            {"extract_prm", "retrieve_prm", "infer_iam", "report"},
            {"train_backbone", "make_pseudo_gt", "train_filler", "make_ceiling_targets", "generate_proposals"},
        ),
        (
            _larger_prm_input,
            {"extract_prm", "make_pseudo_gt", "retrieve_prm", "train_filler", "infer_iam", "report"},
            {"make_dataset", "train_backbone", "generate_proposals", "dataset_stats"},
        ),
        (
            _add_k,
            {"make_pseudo_gt", "train_filler", "infer_iam", "report"},
            {"make_dataset", "train_backbone", "extract_prm", "generate_proposals", "retrieve_prm"},
        ),
    ],
)
def test_config_change_reruns_only_downstream(tiny_run, change, must_run, must_not_run):
    config = yaml.safe_load((tiny_run.workdir / "config" / "tiny.yaml").read_text())
    change(config)
    changed = tiny_run.workdir / "config" / "tiny_changed.yaml"
    changed.write_text(yaml.safe_dump(config, sort_keys=False))
    result = run_snakemake(tiny_run.workdir, "-n", configfile=str(changed))
    changed.unlink()
    assert result.returncode == 0, result.stderr
    planned = planned_jobs(result)
    assert must_run <= planned.keys() and not planned.keys() & must_not_run, planned
    outputs = re.findall(r"^\s+output: (.*)$", result.stdout, re.M)
    if change is _other_self_training_cut:  # the paper's fillers stay: only the self-trained one retrains
        assert not [o for o in outputs if "/filler/generated/" in o or "/iam/generated/" in o], outputs
    if change is _other_class_threshold:  # the training split's PRMs stay
        assert [o for o in outputs if "/prm/" in o] and not [o for o in outputs if "/prm/train" in o], outputs
    if change is _add_k:  # the existing k keep their pseudo GT, fillers and IAMs: only k3 outputs are planned
        assert not [o for o in outputs if re.search(r"/k(1|5)[./]", o)], outputs


def test_upstream_never_reads_ground_truth_and_is_deterministic(tiny_run, tmp_path):
    """Rerun everything upstream of evaluation on a copy of the data without any GT.

    Masks (VOC PNGs, SBD .mat, parts, saliency) are deleted and every <bndbox> is stripped from
    the annotations; only image-level names remain. A stage that read GT would fail or change
    its output; the artifacts must equal the first run's array for array.
    """
    work = copy_workflow(tmp_path / "work")
    data = work / "results" / "tiny" / "data"
    shutil.copytree(tiny_run.results / "data", data)
    for folder in GT_FOLDERS:
        shutil.rmtree(data / "VOC2012" / folder)
    shutil.rmtree(data / "SBD")
    for xml in (data / "VOC2012" / "Annotations").glob("*.xml"):
        xml.write_text(re.sub(r"<bndbox>.*?</bndbox>", "", xml.read_text(), flags=re.S))
    targets = [
        str(p.relative_to(tiny_run.workdir))
        for stage in UPSTREAM
        for p in (tiny_run.results / stage).rglob("*.h5")
        if "shard" not in p.name and not {CEILING_SOURCE, PRM_ORACLE} & set(p.parts)
    ]  # the ceiling and the PRM oracle read GT by design
    result = run_snakemake(work, *targets)
    assert result.returncode == 0, result.stderr[-3000:]
    for target in targets:
        assert artifact_differences(tiny_run.workdir / target, work / target) == [], target
