"""Filler training cost: images/s of a training step and peak memory, with and without recompute,
channels-last or contiguous.

Each case runs in its own process (peak RSS on CPU, ``torch.cuda.max_memory_allocated`` on GPU;
``forward_held_mib``: what the first forward pass holds for the backward, as the growth of the
resident set on CPU or of the allocated memory on GPU).
Backbone features are random tensors shaped like the ResNet-10/18 pyramid (layer3 dilated),
because training uses cached features of the frozen backbone; the one-off feature caching is not
included. Cases: the default setting (128 px, N = 32 steps, 16 images x 4 peaks per step) for
several channel widths (8 also contiguous), and one 448 px image with 4 PRMs (N = 112 steps) fwd + bwd.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/filler.py [--device cuda]
writes benchmarks/results/filler-cpu-<threads>thread.json (filler-cuda.json on a GPU); the
pipeline's filler jobs run one thread each.

``--shipped`` times only the filler of config.yaml as rule train_filler trains it (Adam, its batch
of images x peaks_per_image PRMs, the image branch, glibc keeping freed memory) and also counts the
minor page faults per step; ``--out`` names its result file (e.g. filler-shipped-cpu-<commit>.json).
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import psutil
import torch
import torch.nn.functional as F
import yaml

from iam.config import validate_config
from iam.models.filling import FillingModule
from iam.training.filler import FillerConfig, build_model
from iam.workflow import prepare_process

CHANNELS = {"res2": 64, "res3": 128, "res4": 256}
CASES = [
    {"size": 128, "images": 16, "peaks": 4, "channels": c, "recompute": r, "channels_last": cl, "steps": 5}
    for c in (8, 16, 32)
    for r in (True, False)
    for cl in ((True, False) if c == 8 else (True,))
] + [
    {"size": 448, "images": 1, "peaks": 4, "channels": 32, "recompute": r, "channels_last": True, "steps": 1}
    for r in (True, False)
]


def shipped_config() -> dict:
    """config.yaml with the schema's defaults filled in."""
    return dict(validate_config(yaml.safe_load((Path(__file__).parents[1] / "config.yaml").read_text())))


def shipped_case() -> dict:
    """The case of config.yaml's filler, with the batch rule train_filler uses."""
    config = shipped_config()
    cfg = config["filler"]
    return {
        "shipped": True,
        "size": config["backbone"]["input_size"],
        "images": cfg["batch_size"],
        "peaks": cfg["peaks_per_image"],
        "channels": cfg["channels"],
        "recompute": cfg["recompute"],
        "channels_last": True,
        "steps": 8,
    }


def build(case: dict, device: torch.device) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    """The case's filler and optimiser: config.yaml's for the shipped case, else the plain module and SGD."""
    if case.get("shipped"):
        prepare_process(torch.get_num_threads())  # as the rule does
        cfg = FillerConfig(**shipped_config()["filler"])
        model = build_model(CHANNELS, cfg).to(device)
        return model, torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    model = FillingModule(CHANNELS, case["channels"], 3, 64, case["recompute"], case["channels_last"]).to(device)
    return model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def run_case(case: dict, device: torch.device) -> dict:
    """Time ``steps`` SGD steps of one batch; report images/s, ms/PRM and peak memory."""
    torch.manual_seed(0)
    s, b, p = case["size"], case["images"], case["peaks"]
    model, opt = build(case, device)
    feats = {
        "image": torch.randn(b, 3, s, s),
        "res2": torch.randn(b, 64, s // 4, s // 4),
        "res3": torch.randn(b, 128, s // 8, s // 8),
        "res4": torch.randn(b, 256, s // 8, s // 8),
    }
    feats = {k: v.to(device) for k, v in feats.items()}
    prms = torch.rand(b * p, 1, s, s, device=device)
    target = (torch.rand(b * p, 1, s, s, device=device) > 0.5).float()
    owner = torch.arange(b * p, device=device) // p
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times, faults = [], 0
    for index in range(case["steps"] + 1):
        if index == 1:  # faults are counted over the timed steps, like the time
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        tic = time.perf_counter()
        before = _memory(device) if index == 0 else None  # measured on the untimed warm-up step
        loss = F.binary_cross_entropy_with_logits(model(prms, feats, owner), target)
        if before is not None:
            held = (_memory(device) - before) / 2**20
        opt.zero_grad()
        loss.backward()
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - tic)
    step = sum(times[1:]) / case["steps"]  # the first step warms up
    peak = (
        torch.cuda.max_memory_allocated(device)
        if device.type == "cuda"
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    )
    return {
        **case,
        "s_per_step": step,
        "images_per_s": b / step,
        "ms_per_prm": 1000 * step / (b * p),
        "peak_memory_mib": peak / 2**20,
        "forward_held_mib": held,
        "filling_steps": s // 4,
        "minor_faults_per_step": (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) // case["steps"],
    }


def _memory(device: torch.device) -> int:
    """Bytes in use now: CUDA allocations on a GPU, the process's resident set on CPU."""
    return torch.cuda.memory_allocated(device) if device.type == "cuda" else psutil.Process().memory_info().rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--case", help="internal: run one JSON case and print its result")
    parser.add_argument("--shipped", action="store_true", help="only config.yaml's filler, as the rule trains it")
    parser.add_argument("--out", type=Path, help="result file (default: results/filler-<device>.json)")
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.case:
        print(json.dumps(run_case(json.loads(args.case), device)))
        return
    results = []
    for case in [shipped_case()] if args.shipped else CASES:
        out = subprocess.run(
            [sys.executable, __file__, "--device", args.device, "--case", json.dumps(case)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
        print(results[-1], flush=True)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine()
    report = {
        "benchmark": "filler training step",
        "device": name,
        "torch_threads": torch.get_num_threads(),
        "date": datetime.date.today().isoformat(),
        "results": results,
    }
    suffix = "cuda" if device.type == "cuda" else f"cpu-{torch.get_num_threads()}thread"
    out_path = args.out or Path(__file__).parent / "results" / f"filler-{suffix}.json"
    out_path.parent.mkdir(exist_ok=True)
    out_path.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
