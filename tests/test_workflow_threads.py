"""iam.workflow.limit_threads: one limit for torch, OpenCV and NumPy's BLAS pool."""

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
