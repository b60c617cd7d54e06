"""iam.workflow: one thread limit for torch, OpenCV and NumPy's BLAS pool; subnormals flushed in rules."""

import json
import subprocess
import sys

PROBE = """
import json
import cv2, numpy, torch
from threadpoolctl import threadpool_info
from iam.workflow import limit_threads
limit_threads(1)
print(json.dumps({"torch": torch.get_num_threads(), "cv2": cv2.getNumThreads(),
                  "pools": {p["internal_api"]: p["num_threads"] for p in threadpool_info()}}))
"""


def test_limit_threads_reaches_every_pool():
    out = json.loads(subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout)
    assert out["torch"] == 1 and out["cv2"] == 1
    assert "openblas" in out["pools"]  # NumPy's BLAS, whose idle threads spin on the cores torch needs
    assert set(out["pools"].values()) == {1}


SUBNORMAL_PROBE = """
import json, types
import torch
from iam.workflow import run
tiny = torch.tensor([1e-40])  # a subnormal float32
seen = {"before": (tiny * 1.0).item()}
def main(smk):
    seen["in_rule"] = (tiny * 1.0).item()
run(types.SimpleNamespace(log=[], threads=1, rule="probe"), main)
print(json.dumps(seen))
"""


def test_rules_flush_subnormals_to_zero():
    """x86 computes subnormal operands 10-100x slower: a rule's torch work treats them as zero."""
    out = json.loads(
        subprocess.run([sys.executable, "-c", SUBNORMAL_PROBE], capture_output=True, text=True, check=True).stdout
    )
    assert out["before"] > 0  # the probe's value is representable: the flush is what zeroes it
    assert out["in_rule"] == 0.0
