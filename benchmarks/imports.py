"""Start-up cost of a torch job: CPU seconds to import what each workflow script imports.

Every torch rule of the DAG (backbone and filler training, PRM extraction, IAM inference) runs in a
fresh Python process, so its imports are paid once per job: 22 jobs in the default DAG. Each
statement is timed in ``--repeats`` fresh interpreters (user + system CPU of the child, median).
Writes benchmarks/results/imports.json.

Usage: python benchmarks/imports.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import resource
import statistics
import subprocess
import sys
from pathlib import Path

from iam.io.atomic import write_json

RESULTS = Path(__file__).resolve().parent / "results" / "imports.json"
STATEMENTS = {
    "python": "pass",
    "torch": "import torch",
    "torch + torchvision": "import torch, torchvision",
    "iam torch modules": "import iam.inference, iam.prm.extract, iam.training.backbone, iam.training.filler",
}


def child_cpu_seconds(statement: str) -> float:
    """User + system CPU of a fresh interpreter running ``statement``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", statement], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    figures = {}
    for name, statement in STATEMENTS.items():
        figures[name] = statistics.median(child_cpu_seconds(statement) for _ in range(args.repeats))
        print(f"{name:28s} {figures[name]:.2f} CPU-s")
    write_json(
        RESULTS,
        {
            "date": datetime.date.today().isoformat(),
            "machine": f"{platform.node()} {platform.processor() or platform.machine()}, "
            f"Python {platform.python_version()}",
            "repeats": args.repeats,
            "median_cpu_seconds": figures,
            "loads_torchvision": _loads_torchvision(),
        },
    )


def _loads_torchvision() -> bool:
    """Whether the torch jobs' modules import torchvision."""
    probe = f"import sys; {STATEMENTS['iam torch modules']}; print('torchvision' in sys.modules)"
    return (
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
        == "True"
    )


if __name__ == "__main__":
    main()
