"""IAM inference cost per image, split into forward (backbone + filler) and ConvCRF (Table 2 analogue).

ConvCRF twice: the per-instance foreground path inference uses (``crf_ms``: one windowed sum per
iteration) and the general two-label mean field it equals (``crf_two_label_ms``).

Untrained weights (cost does not depend on them): the default ResNet18 (layer3/4 dilated) backbone
and a filler of the given width, one image with ``peaks`` PRMs, at the default size (128 px, the
network input and the CRF at image resolution) and at 448 px (the paper's setting).

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/inference.py [--device cuda]
writes benchmarks/results/inference-<device>.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path

import numpy as np
import torch
from shards import cpu_model  # benchmarks/ is on the path when this script runs

from iam.crf.convcrf import CRFParams, refine
from iam.inference import EPS, crf_refine, predict_iams, synced_clock
from iam.models.backbone import PeakBackbone
from iam.models.filling import FillingModule
from iam.workflow import prepare_process


def time_image(size: int, channels: int, peaks: int, repeats: int, device: torch.device) -> dict:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    backbone = PeakBackbone("resnet18", 8).to(device).eval()
    filler = FillingModule({"res2": 64, "res3": 128, "res4": 256}, channels).to(device).eval()
    image = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    prms = rng.random((peaks, size, size), dtype=np.float32)
    rgb = torch.from_numpy(image.transpose(2, 0, 1).copy()).to(device).float()
    forward, crf, two_label = [], [], []
    for _ in range(repeats + 1):
        tic = synced_clock(device)
        iams = predict_iams(image, prms, backbone, filler, size, device)
        mid = synced_clock(device)
        crf_refine(image, iams, CRFParams(), device)
        end = synced_clock(device)
        fg = torch.from_numpy(iams).to(device).clamp(EPS, 1 - EPS)
        refine(rgb, torch.stack([1 - fg, fg], dim=1).log(), CRFParams())
        forward.append(mid - tic)
        crf.append(end - mid)
        two_label.append(synced_clock(device) - end)
    return {
        "size": size,
        "filler_channels": channels,
        "peaks": peaks,
        "filling_steps": size // 4,
        "forward_ms": _ms(forward),
        "crf_ms": _ms(crf),
        "crf_two_label_ms": _ms(two_label),
    }


def _ms(seconds: list[float]) -> float:
    """Mean milliseconds without the first (warm-up) call."""
    return 1000 * float(np.mean(seconds[1:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    prepare_process(torch.get_num_threads())  # as the pipeline's rules do
    device = torch.device(args.device)
    results = []
    for size, channels in ((128, 8), (128, 32), (448, 32)):
        results.append(time_image(size, channels, 4, args.repeats, device))
        print(results[-1], flush=True)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_model()
    report = {
        "benchmark": "IAM inference per image (4 PRMs; CRF: filter 7, 5 iterations)",
        "device": name,
        "torch_threads": torch.get_num_threads(),
        "date": datetime.date.today().isoformat(),
        "results": results,
    }
    out = Path(__file__).parent / "results" / f"inference-{device.type}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
