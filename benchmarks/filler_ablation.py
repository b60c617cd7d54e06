"""Filler ablations on a finished run's artifacts: train one filler with config overrides, infer val,
evaluate (mAP^r @.25/.5/.75 and ABO, with and without CRF, per threshold) and measure its filling
weights (normalised entropy, across/within-boundary ratio; reads GT, like every diagnostic).

    .venv/bin/python benchmarks/filler_ablation.py results/synthetic dil \\
        '{"dilations": [1, 2, 4, 8], "affinity": 16, "image_channels": 16, "optimizer": "adam", "lr": 0.003,
          "epochs": 8, "inference": {"thresholds": [[0.5, "relative"]]}}' --out benchmarks/results/filler_ablation.jsonl

Overrides are keys of the ``filler`` config section, plus ``k`` (default 5), ``source`` (``generated``,
or ``gtmask`` for the GT-mask ceiling, whose targets ``results/<run>/ceiling/targets.h5`` the rule
``make_ceiling_targets`` writes), ``targets`` (another pseudo-GT file of the same k, e.g. one built with
other matching settings), ``prm_cut`` (train and infer on the PRMs transformed by one of
``benchmarks/prm_input.py``'s modes that read no GT, e.g. ``disc:0.16`` or ``compete:1``) and
``inference.thresholds`` ([threshold, mode] pairs). One JSON
line is appended to ``--out`` per call; ``--seed`` sets the training seed, ``--device cuda`` trains on a GPU.
"""

from __future__ import annotations

import argparse
import datetime
import json
import time
from dataclasses import replace
from pathlib import Path

import torch
import yaml
from prm_input import gt_free_transform  # benchmarks/ is on the path when this script runs
from shards import cpu_model

from iam.crf.convcrf import CRFParams
from iam.data.maps import Competition
from iam.data.voc import read_image, read_split
from iam.device import resolve_device
from iam.evaluation.ceiling import SOURCE as CEILING
from iam.evaluation.filler_quality import filler_quality
from iam.evaluation.gt import instance_reader
from iam.evaluation.instance_metrics import evaluate_instances
from iam.evaluation.prm_oracle import write_prms
from iam.inference import InferenceParams, infer_split
from iam.models.backbone import load_backbone
from iam.training.filler import FillerConfig, feature_bytes, load_feature_backbone, train, training_samples
from iam.training.samples import SampleSource
from iam.workflow import prepare_process, seed_everything


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="results/<run> of a finished default run")
    parser.add_argument("name")
    parser.add_argument("overrides", type=json.loads)
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--seed", type=int, default=0, help="the training seed (the run's own is config.yaml's)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/filler_ablation"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/filler_ablation.jsonl"))
    args = parser.parse_args()
    prepare_process(args.threads)  # as the rules do
    seed_everything(args.seed)
    config = yaml.safe_load(Path(args.config).read_text())
    over = dict(args.overrides)
    thresholds = over.pop("inference", {}).get("thresholds", [[0.5, "relative"]])
    k, source, other_targets = over.pop("k", 5), over.pop("source", "generated"), over.pop("targets", None)
    prm_cut = over.pop("prm_cut", None)
    if prm_cut and gt_free_transform(prm_cut, args.run, config) is None:
        raise SystemExit(f"prm_cut {prm_cut!r} is not a GT-free mode of benchmarks/prm_input.py")
    cfg = FillerConfig(**{**config["filler"], **over}, seed=args.seed)
    device, size = resolve_device(args.device), config["backbone"]["input_size"]
    voc, classes = args.run / "data" / "VOC2012", config["dataset"]["classes"]
    targets = args.run / "ceiling" / "targets.h5" if source == CEILING else args.run / f"pseudo_gt/{source}/k{k}.h5"
    targets = Path(other_targets) if other_targets else targets
    backbone = load_backbone(args.run / "backbone" / "model.pt", device)
    out = args.work / args.name
    prm = {split: args.run / "prm" / f"{split}.h5" for split in ("train", "val")}
    if prm_cut:
        for split, path in prm.items():
            prm[split] = out / f"prm_cut_{split}.h5"
            transform = gt_free_transform(prm_cut, args.run, config, split)
            write_prms(path, read_split(voc, split), transform, prm[split], "filler_ablation")  # type: ignore[arg-type]
    inference = config["inference"]
    competition = Competition.from_config(inference) if cfg.kept_weight else None
    where = SampleSource(voc, prm["train"], targets, size, competition)
    samples = training_samples(where, read_split(voc, "train"), k, source, cfg, feature_bytes(backbone, size, device))
    tic = time.perf_counter()
    model = train(backbone, samples, cfg, device, out)
    row = {
        "name": args.name,
        "overrides": args.overrides,
        "seed": args.seed,
        "train_s": round(time.perf_counter() - tic, 1),
        "machine": torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_model(),
        "date": datetime.date.today().isoformat(),
    }
    features = load_feature_backbone(out / "model.pt", args.run / "backbone" / "model.pt", device)
    ids, read_gt = read_split(voc, "val"), instance_reader("voc", str(voc), None, classes)
    row.update(filler_quality(ids[:50], lambda i: read_image(voc, i), read_gt, features, model, size, device))
    crf = CRFParams(**{key: v for key, v in config["crf"].items() if key != "enabled"})
    shipped = replace(InferenceParams.from_config(config["inference"], config["crf"]), crf=crf)
    row.update(prm_competition=shipped.competition.share, duplicate_cosine=shipped.competition.duplicate_cosine)
    for threshold, mode in thresholds:
        params = replace(shipped, mask_threshold=threshold, threshold_mode=mode)
        infer_split(
            features,
            model,
            size,
            prm["val"],
            voc,
            ids,
            out / "val.h5",
            out / "val.nocrf.h5",
            classes,
            params,
            device,
        )
        for tag, name in (("crf", "val.h5"), ("nocrf", "val.nocrf.h5")):
            m = evaluate_instances(out / name, ids, read_gt, classes, [0.25, 0.5, 0.75])
            row[f"{mode}{threshold}_{tag}"] = [round(100 * m["map"][t], 2) for t in ("0.25", "0.5", "0.75")] + [
                round(100 * m["abo"], 1)
            ]
            row[f"{mode}{threshold}_{tag}_extent"] = m["extent"]
    print(json.dumps(row))
    with args.out.open("a") as fh:
        fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
