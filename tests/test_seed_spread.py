"""benchmarks/seed_spread.py: paired differences within runs, and refusal to mix workloads or benchmarks."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
import seed_spread  # noqa: E402


def record(seed: int, iam: float, prm: float, epochs: int = 7, gt_box: float = 94.4) -> dict:
    row = {"map@0.25": 30.0, "map@0.75": 1.0}
    return {
        "workload": {"seed": seed, "synthetic": {"seed": 0, "n_train": 800}, "filler": {"epochs": epochs}},
        "headline": {
            "iam_s5": {**row, "map@0.5": iam, "abo": 0.36},
            "prm_retrieval": {**row, "map@0.5": prm, "abo": 0.33},
            "gt_box_rect": {**row, "map@0.5": gt_box, "abo": 0.74},
        },
    }


def test_paired_differences_are_taken_within_each_run(monkeypatch):
    pairs = (("IAM - PRM", "iam_s5", "prm_retrieval", "map@0.5"), ("ABO", "iam_s5", "prm_retrieval", "abo"))
    monkeypatch.setattr(seed_spread, "PAIRS", pairs)
    monkeypatch.setattr(seed_spread, "DIAGNOSTICS", ())
    result = seed_spread.spread({"a": record(0, 10.0, 9.0), "b": record(1, 8.0, 9.5)})
    assert result["paired"]["IAM - PRM"]["values"] == [1.0, -1.5]
    assert result["paired"]["IAM - PRM"]["mean"] == pytest.approx(-0.25)
    assert result["paired"]["ABO"]["values"] == [3.0, 3.0]  # ABO differences in points
    assert result["methods"]["iam_s5"]["map@0.5"] == {
        "mean": 9.0,
        "sd": pytest.approx(1.4142, abs=1e-4),
        "min": 8.0,
        "max": 10.0,
    }


def test_runs_of_other_workloads_or_benchmarks_are_refused():
    seed_spread.check_same_workload({"a": record(0, 1, 1), "b": record(5, 2, 2)})  # only the seed differs
    with pytest.raises(SystemExit, match="workload differs"):
        seed_spread.check_same_workload({"a": record(0, 1, 1), "b": record(1, 1, 1, epochs=8)})
    with pytest.raises(SystemExit, match="benchmark differs"):
        seed_spread.check_same_workload({"a": record(0, 1, 1), "b": record(1, 1, 1, gt_box=90.0)})
