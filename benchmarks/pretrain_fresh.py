"""Can the ImageNet stand-in be learnt in the DAG's budget when every epoch draws fresh images?

Trains ``pretrain.Classifier`` (ResNet-10, the 64-class set of ``iam.data.pretrain_set``) on a new
set per epoch (no image is seen twice, so it cannot memorise) and reports the loss and the accuracy
on a fixed held-out set after each epoch, with the seconds spent.

    .venv/bin/python benchmarks/pretrain_fresh.py --out benchmarks/results/pretrain_fresh-cpu.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from shards import cpu_model  # benchmarks/ is on the path when this script runs

from iam.data.pretrain_set import generate, n_classes
from iam.data.synthetic import load_textures
from iam.io.atomic import write_json
from iam.training.pretrain import Classifier, _tensors, accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--per-epoch", type=int, default=2048)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    textures = load_textures()
    val_images, val_labels = generate(512, args.size, 1001, textures)
    vx, vy = _tensors(val_images), torch.from_numpy(val_labels)
    model = Classifier("resnet10", n_classes())
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=1e-4, nesterov=True)
    steps = args.per_epoch // args.batch
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, args.lr, total_steps=args.epochs * steps)
    rows, tic = [], time.perf_counter()
    for epoch in range(args.epochs):
        images, labels = generate(args.per_epoch, args.size, 100 + epoch, textures)  # a new set every epoch
        x, y = _tensors(images), torch.from_numpy(labels)
        model.train()
        order, total = torch.randperm(len(x)), 0.0
        for start in range(0, steps * args.batch, args.batch):
            idx = order[start : start + args.batch]
            xb = torch.where(torch.rand(len(idx), 1, 1, 1) < 0.5, x[idx].flip(-1), x[idx])
            loss = F.cross_entropy(model(xb), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item()
        row = {
            "epoch": epoch + 1,
            "loss": round(total / steps, 3),
            "val_accuracy": round(accuracy(model, vx, vy, 128), 3),
        }
        rows.append({**row, "seconds": round(time.perf_counter() - tic, 1)})
        print(json.dumps(rows[-1]), flush=True)
    write_json(
        args.out,
        {
            "machine": cpu_model(),
            "date": datetime.date.today().isoformat(),
            "settings": vars(args) | {"out": str(args.out)},
            "chance": 1 / n_classes(),
            "epochs": rows,
        },
    )


if __name__ == "__main__":
    main()
