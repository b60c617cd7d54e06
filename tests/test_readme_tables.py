"""The generated tables of README.md and benchmarks/README.md are what scripts/generated_docs.py writes."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("generated_docs", ROOT / "scripts" / "generated_docs.py")
docs = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(docs)


@pytest.mark.parametrize("path", docs.DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_generated_regions_are_current(path):
    text = path.read_text()
    assert docs.render(text) == text, f"{path.name} is stale: run .venv/bin/python scripts/generated_docs.py"


def test_every_table_has_a_region():
    names = {m.group("name") for path in docs.DOCS for m in docs.REGION.finditer(path.read_text())}
    assert names == set(docs.TABLES)


def test_a_stale_region_is_rewritten_and_the_prose_kept():
    text = "before\n<!-- generated: config-keys -->\n| old |\n<!-- end generated -->\nafter\n"
    assert docs.render(text) == (
        f"before\n<!-- generated: config-keys -->\n{docs.config.markdown_table()}\n<!-- end generated -->\nafter\n"
    )


def test_the_stage_table_names_every_rule():
    """The README's stage table is a newcomer's map of the DAG: every rule of the workflow is in it."""
    listed = subprocess.run(
        [sys.executable, "-m", "snakemake", "--list-rules"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## What the pipeline does") : readme.index("![rule graph]")]
    assert len(listed) > 20
    assert [rule for rule in listed if rule != "all" and f"`{rule}`" not in table] == []


def test_an_empty_region_is_filled_without_swallowing_the_next():
    text = (
        "<!-- generated: test-runs -->\n<!-- end generated -->\nprose\n"
        "<!-- generated: config-keys -->\n| old |\n<!-- end generated -->\n"
    )
    rendered = docs.render(text)
    assert "prose\n<!-- generated: config-keys -->\n" in rendered
    assert rendered.count("<!-- end generated -->") == 2


def test_a_run_of_an_overlay_is_not_the_shipped_config():
    """README's latest Table 1 must come from the shipped config: a run whose filler differed (e.g.
    config/overlays/finetune.yaml) is a variant, one that recorded only some filler keys is judged on them."""
    shipped = yaml.safe_load((ROOT / "config.yaml").read_text())
    keys = ("synthetic", "backbone", "prm")
    run = {"workload": {"seed": shipped["seed"], **{k: shipped[k] for k in keys}, "filler": dict(shipped["filler"])}}
    assert docs._of_shipped_config(run, shipped)
    run["workload"]["filler"] = {k: shipped["filler"][k] for k in ("epochs", "channels", "recompute")}
    assert docs._of_shipped_config(run, shipped)
    run["workload"]["filler"] = {**shipped["filler"], "finetune_backbone": not shipped["filler"]["finetune_backbone"]}
    assert not docs._of_shipped_config(run, shipped)


def test_a_spread_over_an_overlays_runs_is_not_the_shipped_configs(tmp_path, monkeypatch):
    """README's seed-spread table, like Table 1, comes from the shipped config: a spread whose runs used
    an overlay (here another prm.input_size) is passed over, whatever its training seeds."""
    shipped = yaml.safe_load((ROOT / "config.yaml").read_text())
    keys = ("synthetic", "backbone", "prm")
    for seed, input_size in ((1, None), (2, None), (3, 176)):
        workload = {"seed": seed, **{k: shipped[k] for k in keys}, "filler": dict(shipped["filler"])}
        workload["prm"] = {**shipped["prm"], "input_size": input_size}
        (tmp_path / f"run{seed}.json").write_text(json.dumps({"workload": workload}))
    monkeypatch.setattr(docs, "RESULTS", tmp_path)
    assert docs._spans_shipped_config({"runs": [{"record": "run1.json"}, {"record": "run2.json"}]}, shipped)
    assert not docs._spans_shipped_config({"runs": [{"record": "run1.json"}, {"record": "run3.json"}]}, shipped)
    assert not docs._spans_shipped_config({"runs": [{"record": "run1.json"}, {"record": "gone.json"}]}, shipped)
