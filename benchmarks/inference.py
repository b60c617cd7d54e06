"""IAM inference cost per image, split into forward (backbone + filler) and ConvCRF (Table 2 analogue).

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
import platform
from pathlib import Path

import numpy as np
import torch

from iam.crf.convcrf import CRFParams
from iam.inference import crf_refine, predict_iams, synced_clock
from iam.models.backbone import PeakBackbone
from iam.models.filling import FillingModule


def time_image(size: int, channels: int, peaks: int, repeats: int, device: torch.device) -> dict:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    backbone = PeakBackbone("resnet18", 8).to(device).eval()
    filler = FillingModule({"res2": 64, "res3": 128, "res4": 256}, channels).to(device).eval()
    image = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    prms = rng.random((peaks, size, size), dtype=np.float32)
    forward, crf = [], []
    for _ in range(repeats + 1):
        tic = synced_clock(device)
        iams = predict_iams(image, prms, backbone, filler, size, device)
        mid = synced_clock(device)
        crf_refine(image, iams, CRFParams(), device)
        forward.append(mid - tic)
        crf.append(synced_clock(device) - mid)
    return {"size": size, "filler_channels": channels, "peaks": peaks, "filling_steps": size // 4,
            "forward_ms": 1000 * float(np.mean(forward[1:])), "crf_ms": 1000 * float(np.mean(crf[1:]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    device = torch.device(args.device)
    results = []
    for size, channels in ((128, 8), (128, 32), (448, 32)):
        results.append(time_image(size, channels, 4, args.repeats, device))
        print(results[-1], flush=True)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine()
    report = {"benchmark": "IAM inference per image (4 PRMs; CRF: filter 7, 5 iterations)", "device": name,
              "torch_threads": torch.get_num_threads(), "date": datetime.date.today().isoformat(), "results": results}
    out = Path(__file__).parent / "results" / f"inference-{device.type}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
