"""Scheduling hints of the default DAG: on few cores the training split's chain (PRMs -> pseudo GT ->
filler training, and the ceiling filler's GT-mask targets) is the critical path, so its jobs carry a
higher Snakemake priority than the evaluation splits' per-image work, which fills the idle cores
around it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import copy_workflow, run_snakemake


def job_priorities(workdir: Path) -> dict[str, int]:
    """Output file -> priority of every job a dry run of the default config from empty results plans."""
    result = run_snakemake(copy_workflow(workdir), "-n", configfile="config.yaml", timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = re.split(r"^(?:local)?rule \w+:$", result.stdout, flags=re.M)[1:]
    priorities = {}
    for job in jobs:
        output = re.search(r"^\s+output: ([^,\s]+)", job, re.M)
        if output:
            priority = re.search(r"^\s+priority: (\d+)$", job, re.M)
            priorities[output.group(1)] = int(priority.group(1)) if priority else 0
    return priorities


CHAIN = re.compile(
    r"/(backbone/model\.pt|prm/train(/shard\d+)?\.h5|proposals/generated/(mat/)?train(/shard\d+)?(\.h5)?"
    r"|pseudo_gt/\w+/k\d+(/shard\d+)?\.h5|ceiling/targets\.h5|filler/\w+/k\d+/model\.pt)$"
)


@pytest.mark.slow
def test_training_chain_is_scheduled_before_evaluation_split_work(tmp_path: Path) -> None:
    priorities = job_priorities(tmp_path)
    raised = {path for path, value in priorities.items() if value > 0}
    assert raised and all(CHAIN.search(path) for path in raised), sorted(
        raised - {p for p in raised if CHAIN.search(p)}
    )
    assert {path for path in priorities if CHAIN.search(path)} == raised  # every job on the chain, merges included
    assert any("/prm/val/" in path for path in priorities) and not any("/prm/val/" in path for path in raised)
    assert sum("/prm/train/" in path for path in raised) == 2  # both shards of config.yaml
    assert sum(path.endswith("/model.pt") and "/filler/" in path for path in raised) == 4  # one per k + the ceiling
    assert any(path.endswith("/ceiling/targets.h5") for path in raised)  # else the ceiling filler starts last
    assert sum(re.search(r"/pseudo_gt/\w+/k\d+\.h5$", path) is not None for path in raised) == 3  # the merges
