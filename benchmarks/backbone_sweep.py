"""Backbone design sweep on the synthetic benchmark: what the default ``backbone``/``prm`` values rest on.

For each variant (dilation of layer3/layer4, learning rate) the backbone is trained from scratch on
the default-size benchmark; per epoch the run records val classification mAP; after training, the
val peaks (CRM only, no backprop) are scored against the GT instances for several peak rules:
peak precision (peak inside a GT instance of its class), instance recall (GT instances holding a
peak of their class) and peaks per image. Also the training step cost (ms/image) of each variant.
Ground truth is read here for the diagnosis only; the pipeline never does so upstream of evaluation.

Writes benchmarks/results/backbone_sweep-{device}.json with machine and date; variants already in
that file and not rerun are kept (each carries its own date).
Usage: python benchmarks/backbone_sweep.py [--device cuda] [--epochs 12] [--n-train 800]
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from iam.data.benchmark import generate_benchmark
from iam.data.transforms import to_tensor
from iam.data.voc import read_gt_instances, read_image, read_split
from iam.evaluation.prm_quality import peak_hits
from iam.inference import synced_clock
from iam.io.atomic import write_json
from iam.models.backbone import PeakBackbone, load_backbone
from iam.prm.extract import PeakRule, select_peaks, to_original
from iam.training.backbone import BackboneConfig, train_backbone
from iam.workflow import seed_everything

RESULTS = Path(__file__).resolve().parent / "results"
CLASSES = ["bird", "cat", "cow", "dog", "horse", "sheep", "car", "boat"]
VARIANTS = {  # name: (arch, dilate_layer3, dilate_layer4, lr)
    "stride8_lr0.01": ("resnet18", True, True, 0.01),
    "stride8_lr0.05": ("resnet18", True, True, 0.05),
    "stride16_lr0.01": ("resnet18", True, False, 0.01),
    "stride16_lr0.05": ("resnet18", True, False, 0.05),
    "stride16_lr0.1": ("resnet18", True, False, 0.1),
    "resnet10_stride16_lr0.05": ("resnet10", True, False, 0.05),
    "resnet10_stride16_lr0.1": ("resnet10", True, False, 0.1),
}
RULES = {"max10_t0": (10, 0.0), "max3_t0": (3, 0.0), "max2_t0": (2, 0.0), "max3_t1": (3, 1.0)}


def step_ms(cfg: BackboneConfig, device: torch.device, batches: int = 5) -> float:
    """Training step (forward + backward + SGD) ms per image on random data, after a warm-up batch."""
    model = PeakBackbone(cfg.arch, len(CLASSES), cfg.dilate_layer3, cfg.dilate_layer4).to(device).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(cfg.batch_size, 3, cfg.input_size, cfg.input_size, device=device)
    y = (torch.rand(cfg.batch_size, len(CLASSES), device=device) > 0.7).float()
    times = []
    for _ in range(batches + 1):
        tic = synced_clock(device)
        opt.zero_grad()
        torch.nn.MultiLabelSoftMarginLoss()(model(x).scores, y).backward()
        opt.step()
        times.append(synced_clock(device) - tic)
    return 1000 * float(np.median(times[1:])) / cfg.batch_size


@torch.no_grad()
def peak_scores(model: PeakBackbone, voc: Path, ids: list[str], size: int, device: torch.device) -> dict:
    """Peak precision / instance recall / peaks per image of the val split for each rule of RULES."""
    counts = {name: [0, 0, 0] for name in RULES}  # peaks, hits, recalled instances
    n_instances = 0
    for image_id in ids:
        image = read_image(voc, image_id)
        out = model(to_tensor(image, size)[None].to(device))
        response = F.interpolate(out.crm, size=(size, size), mode="bilinear", align_corners=False)[0].cpu().numpy()
        classes = np.flatnonzero(out.scores[0].cpu().numpy() > 0)
        gt = read_gt_instances(voc, image_id, CLASSES)
        n_instances += len(gt.labels)
        for name, (max_peaks, threshold) in RULES.items():
            peaks = select_peaks(response, classes, False, PeakRule(False, 0.0, threshold, max_peaks))
            hits = peak_hits(to_original(peaks, size, *image.shape[:2]), gt)
            counts[name] = [a + b for a, b in zip(counts[name], (len(peaks), hits.any(1).sum(), hits.any(0).sum()))]
    return {
        name: {
            "peaks_per_image": p / len(ids),
            "peak_precision": float(h / max(p, 1)),
            "instance_recall": float(r / max(n_instances, 1)),
        }
        for name, (p, h, r) in counts.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--n-train", type=int, default=800)
    parser.add_argument("--n-val", type=int, default=200)
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    args = parser.parse_args()
    device = torch.device(args.device)
    path = RESULTS / f"backbone_sweep-{device.type}.json"
    base = BackboneConfig(epochs=args.epochs)
    params = {
        "image_size": base.input_size,
        "n_train": args.n_train,
        "n_val": args.n_val,
        "n_loc_test": 1,
        "n_saliency_test": 1,
        "min_instances": 1,
        "max_instances": 5,
        "jpeg_quality": 92,
    }
    report = {
        "date": datetime.date.today().isoformat(),
        "device": _device_name(device),
        "machine": f"{platform.node()} {platform.machine()}, torch {torch.__version__}",
        "torch_threads": torch.get_num_threads(),
        "dataset": params,
        "rules": RULES,
        "variants": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        generate_benchmark(tmp, CLASSES, params, seed=0)
        voc = Path(tmp) / "VOC2012"
        train_ids, val_ids = read_split(voc, "train"), read_split(voc, "val")
        for name in args.variants:
            arch, d3, d4, lr = VARIANTS[name]
            cfg = replace(base, arch=arch, dilate_layer3=d3, dilate_layer4=d4, lr=lr, trunk_lr=lr)
            seed_everything(0)
            tic = time.perf_counter()
            rows = train_backbone(voc, train_ids, val_ids, CLASSES, cfg, device, Path(tmp) / name)
            seconds = time.perf_counter() - tic
            model = load_backbone(Path(tmp) / name / "model.pt", device)
            report["variants"][name] = {
                "date": report["date"],
                "config": asdict(cfg),
                "train_seconds": seconds,
                "step_ms_per_image": step_ms(cfg, device),
                "val_map_per_epoch": [round(r["val_map"], 4) for r in rows],
                "val_peaks": peak_scores(model, voc, val_ids, cfg.input_size, device),
            }
            print(name, report["variants"][name], flush=True)
    write_json(path, merged(path, report))


def merged(path: Path, report: dict) -> dict:
    """``report`` plus the variants of an earlier result file that this run did not redo."""
    if not path.exists():
        return report
    earlier = json.loads(path.read_text())
    for name, result in earlier.get("variants", {}).items():
        report["variants"].setdefault(name, {"date": earlier.get("date"), **result})
    if "note" in earlier:
        report["earlier_note"] = earlier["note"]
    return report


def _device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"


if __name__ == "__main__":
    main()
