"""Backbone + PRM costs on the synthetic benchmark at the default scale (CPU).

Times are process CPU seconds (``time.process_time``), which on a shared machine stand for the
wall time of an uncontended run with ``--threads 1``; wall seconds are reported too.

Generates a small synthetic VOC tree, times backbone training steps (ms/image, the backbone of
config.yaml; contiguous vs channels-last memory format vs bfloat16 autocast, the CPU levers),
trains the backbone briefly so its peaks look like a trained one's, then times PRM extraction per
image: batched peak backpropagation (one backward pass per image) against the per-peak loop.
Reports images/s, peaks/image and the process's peak RSS, and writes
benchmarks/results/prm_extraction-<arch>.json with the machine and date.

Usage: OMP_NUM_THREADS=1 python benchmarks/prm_extraction.py [--threads 1] [--n-train 96] [--epochs 3]
    [--configfile config.yaml]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import platform
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from torch import nn
from torch.utils.data import DataLoader

from iam.config import validate_config
from iam.data.benchmark import generate_benchmark
from iam.data.datasets import ImageLabelDataset
from iam.data.voc import read_image, read_image_labels, read_split
from iam.io.atomic import write_json
from iam.models.backbone import PeakBackbone, load_backbone
from iam.prm.backprop import probabilistic
from iam.prm.extract import PeakRule, image_prm
from iam.training.backbone import BackboneConfig, build_optimizer, train_backbone
from iam.workflow import seed_everything

RESULTS = Path(__file__).resolve().parent / "results"
CLASSES = ["bird", "cat", "cow", "dog", "horse", "sheep", "car", "boat"]


def step_ms_per_image(voc: Path, cfg: BackboneConfig, batches: int = 3, variant: str = "contiguous") -> float:
    """Training step cost (forward + backward + SGD) per image, after one warm-up batch; ``variant``:
    ``contiguous`` (what training does), ``channels_last`` or ``bf16_autocast``."""
    fmt = torch.channels_last if variant == "channels_last" else torch.contiguous_format
    model = PeakBackbone(cfg.arch, len(CLASSES), cfg.dilate_layer3, cfg.dilate_layer4).train().to(memory_format=fmt)
    opt, loss_fn = build_optimizer(model, cfg), nn.MultiLabelSoftMarginLoss()
    data = ImageLabelDataset(voc, read_split(voc, "train"), CLASSES, cfg.input_size, flip=True)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if variant == "bf16_autocast" else contextlib.nullcontext()
    times = []
    for x, y in list(DataLoader(data, batch_size=cfg.batch_size, shuffle=True))[: batches + 1]:
        start = time.process_time()
        opt.zero_grad()
        with autocast:
            loss = loss_fn(model(x.contiguous(memory_format=fmt)).scores.float(), y)
        loss.backward()
        opt.step()
        times.append((time.process_time() - start) / len(x))
    return 1000 * float(np.mean(times[1:]))


def extraction(voc: Path, model: PeakBackbone, ids: list[str], size: int, peak_rule: PeakRule, batched: bool) -> dict:
    """Seconds per image and peaks per image of PRM extraction (HDF5 writing excluded)."""
    net = probabilistic(model)
    peaks, start, wall = 0, time.process_time(), time.perf_counter()
    for image_id in ids:
        labels = read_image_labels(voc, image_id, CLASSES) if peak_rule.use_labels else None
        peaks += len(image_prm(net, read_image(voc, image_id), labels, size, peak_rule, batched).peaks)
    cpu, wall = time.process_time() - start, time.perf_counter() - wall
    return {
        "images_per_cpu_s": len(ids) / cpu,
        "cpu_s_per_image": cpu / len(ids),
        "wall_s_per_image": wall / len(ids),
        "peaks_per_image": peaks / len(ids),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--n-train", type=int, default=96)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--n-images", type=int, default=12, help="images timed for extraction")
    parser.add_argument("--configfile", type=Path, default=Path("config.yaml"), help="its backbone section is timed")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = validate_config(yaml.safe_load(args.configfile.read_text()))
    cfg = BackboneConfig(**{**config["backbone"], "epochs": args.epochs})
    params = {
        "image_size": cfg.input_size,
        "n_train": args.n_train,
        "n_val": 40,
        "n_loc_test": 1,
        "n_saliency_test": 1,
        "min_instances": 1,
        "max_instances": 5,
        "jpeg_quality": 92,
    }
    with tempfile.TemporaryDirectory() as tmp:
        generate_benchmark(tmp, CLASSES, params, seed=0)
        voc = Path(tmp) / "VOC2012"
        levers = {
            variant: step_ms_per_image(voc, cfg, batches, variant)
            for variant, batches in (("contiguous", 3), ("channels_last", 3), ("bf16_autocast", 1))
        }
        seed_everything(0)
        start = time.process_time()
        rows = train_backbone(
            voc,
            read_split(voc, "train"),
            read_split(voc, "val"),
            CLASSES,
            cfg,
            torch.device("cpu"),
            Path(tmp) / "backbone",
        )
        train_s = time.process_time() - start
        model = load_backbone(Path(tmp) / "backbone" / "model.pt")
        ids = read_split(voc, "train")[: args.n_images]
        results = {}
        for max_peaks in (10, 3):
            peak_rule = PeakRule(True, 0.0, 0.0, max_peaks)
            results[f"max_peaks_{max_peaks}"] = {
                "batched": extraction(voc, model, ids, cfg.input_size, peak_rule, batched=True),
                "looped": extraction(voc, model, ids, cfg.input_size, peak_rule, batched=False),
            }
    report = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.node()} {platform.processor()} {platform.machine()}, torch {torch.__version__}",
        "threads": args.threads,
        "backbone": dataclasses.asdict(cfg),
        "train_step_ms_per_image": levers["contiguous"],
        "train_step_ms_per_image_by_variant": levers,
        "train": {"images": args.n_train, "epochs": args.epochs, "cpu_seconds": train_s, "metrics": rows},
        "extraction_train_split": results,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    write_json(RESULTS / f"prm_extraction-{cfg.arch}.json", report)
    print(report)


if __name__ == "__main__":
    main()
