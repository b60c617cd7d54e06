"""The GT-reading diagnostics honour ``dataset.gt_source``: run on an SBD tree that differs from VOC."""

import json
import runpy
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from snakemake.iocontainers import Namedlist, Params

from iam.data.benchmark import generate_benchmark
from iam.data.voc import read_gt_instances, read_split
from iam.data.voc_writer import write_sbd
from iam.io.h5 import put, write_artifact
from iam.proposals.mcg import SuperpixelProposals
from iam.proposals.store import KIND as PROPOSALS
from iam.proposals.store import write_proposals

CLASSES = ["bird", "cat"]
SCRIPTS = Path(__file__).resolve().parents[1] / "workflow_scripts"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A synthetic VOC tree and an SBD tree in which no val image has an instance."""
    out = tmp_path_factory.mktemp("gt_source")
    params = {
        "image_size": 40,
        "n_train": 1,
        "n_val": 2,
        "n_loc_test": 1,
        "n_saliency_test": 1,
        "min_instances": 1,
        "max_instances": 2,
        "jpeg_quality": 92,
    }
    generate_benchmark(out, CLASSES, params, seed=3)
    voc, sbd = out / "VOC2012", out / "SBD_empty"
    shutil.copytree(out / "SBD", sbd)
    for image_id in read_split(voc, "val"):
        write_sbd(sbd, image_id, np.zeros((40, 40), np.uint8), [], len(CLASSES))
    return voc, sbd


@pytest.fixture(scope="module")
def artifacts(data, tmp_path_factory):
    """A prm artifact with one peak on each val image's first instance and one whole-image proposal each."""
    voc, _ = data
    out = tmp_path_factory.mktemp("artifacts")
    with (
        write_artifact(out / "prm.h5", "prm", "test") as f_prm,
        write_artifact(out / "proposals.h5", PROPOSALS, "test") as f_prop,
    ):
        for image_id in read_split(voc, "val"):
            gt = read_gt_instances(voc, image_id, CLASSES)
            y, x = np.argwhere(gt.masks[0])[0]
            g = f_prm.create_group(image_id)
            put(g, "peaks", np.array([[gt.labels[0], y, x]]))
            put(g, "prm", gt.masks[:1].astype(np.float32))
            put(g, "crm", np.ones((len(CLASSES), 4, 4), np.float32))
            g.attrs["height"], g.attrs["width"] = gt.void.shape
            props = SuperpixelProposals(
                np.zeros(gt.void.shape, np.int32), np.array([0]), np.array([0, 1]), np.array([1.0], np.float32)
            )
            write_proposals(f_prop, image_id, props)
    return out


def run_script(name: str, inputs: dict, params: dict, out: Path, monkeypatch) -> dict:
    """Run ``workflow_scripts/{name}.py`` on split val as Snakemake would; its JSON output."""
    monkeypatch.setattr("iam.workflow.run", lambda smk, main: main(smk))
    smk = SimpleNamespace(
        input=Namedlist(fromdict=inputs),
        output=[str(out)],
        params=Params(fromdict=params),
        wildcards=Namedlist(fromdict={"split": "val"}),
        log=[],
        threads=1,
        rule=name,
    )
    runpy.run_path(str(SCRIPTS / f"{name}.py"), init_globals={"snakemake": smk})
    return json.loads(out.read_text())


@pytest.mark.parametrize(
    ("name", "inputs"), [("prm_quality", {"prm": "prm.h5"}), ("evaluate_proposals", {"proposals": "proposals.h5"})]
)
def test_scripts_read_the_configured_gt(name, inputs, data, artifacts, tmp_path, monkeypatch):
    voc, sbd = data
    inputs = {k: str(artifacts / v) for k, v in inputs.items()}
    params = {"voc_root": str(voc), "sbd_root": str(sbd), "classes": CLASSES}
    got = {
        source: run_script(name, inputs, {**params, "gt_source": source}, tmp_path / f"{source}.json", monkeypatch)
        for source in ("voc", "sbd")
    }
    assert got["voc"]["n_instances"] > 0 and got["sbd"]["n_instances"] == 0
