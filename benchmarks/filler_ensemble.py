"""Filler ensembles on a finished run: the val IAMs of several trained fillers averaged (their
probabilities, per peak), then ConvCRF, masks, scores and NMS exactly as IAM inference does, and
evaluated (mAP^r @.25/.5/.75 and ABO with and without CRF, extent errors; reads GT). How much of a
filler's error is its training draw's variance rather than its targets' bias.

Models are filler ``model.pt`` files trained on the same backbone (the run's own under
``filler/<source>/k<k>/``, or those ``benchmarks/filler_ablation.py`` leaves in its ``--work``
folder, e.g. at other training seeds):

    .venv/bin/python benchmarks/filler_ensemble.py results/synthetic seeds012 \\
        results/synthetic/filler/generated/k5/model.pt /tmp/filler_ablation/s1/model.pt /tmp/filler_ablation/s2/model.pt

appends one row to ``--out``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
import yaml
from shards import val_split, write_record  # benchmarks/ is on the path when this script runs

from iam.evaluation.instance_metrics import evaluate_instances
from iam.inference import InferenceParams, infer_split
from iam.models.filling import FillingModule
from iam.training.filler import load_feature_backbone, load_filler

EPS = 1e-6


class MeanFiller(torch.nn.Module):
    """Fillers whose output is the logit of their mean probability (a drop-in for one filler)."""

    def __init__(self, fillers: list[FillingModule]) -> None:
        super().__init__()
        self.fillers = torch.nn.ModuleList(fillers)

    def forward(self, prms: torch.Tensor, features: dict[str, torch.Tensor], owner: torch.Tensor) -> torch.Tensor:
        probs = torch.stack([f(prms, features, owner).float().sigmoid() for f in self.fillers]).mean(0)
        return torch.logit(probs, eps=EPS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="results/<run> of a finished run")
    parser.add_argument("name")
    parser.add_argument("models", nargs="+", type=Path, help="filler model.pt files (the first gives the backbone)")
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/filler_ensemble"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/filler_ensemble.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = yaml.safe_load(args.config.read_text())
    voc, classes, ids, read_gt = val_split(args.run, config)
    device = torch.device("cpu")
    loaded = [load_filler(path, device) for path in args.models]
    if len({size for _, size in loaded}) != 1:
        raise SystemExit("the fillers were trained at different input sizes")
    backbone = load_feature_backbone(args.models[0], args.run / "backbone" / "model.pt", device)
    ensemble, size = MeanFiller([f for f, _ in loaded]).eval(), loaded[0][1]
    params = InferenceParams.from_config(config["inference"], config["crf"])
    work = args.work / args.name
    prms, out, out_nocrf = args.run / "prm" / "val.h5", work / "val.h5", work / "val.nocrf.h5"
    # MeanFiller is called as a FillingModule is: (PRMs, features, owner) -> logits
    infer_split(backbone, ensemble, size, prms, voc, ids, out, out_nocrf, classes, params, device)  # type: ignore[arg-type]
    row: dict[str, object] = {"models": [str(p) for p in args.models]}
    for tag, name in (("crf", "val.h5"), ("nocrf", "val.nocrf.h5")):
        m = evaluate_instances(work / name, ids, read_gt, classes, [0.25, 0.5, 0.75])
        row[tag] = [round(100 * m["map"][t], 2) for t in ("0.25", "0.5", "0.75")] + [round(100 * m["abo"], 1)]
        row[f"{tag}_extent"] = m["extent"]
        print(args.name, tag, *row[tag])
    rows = json.loads(args.out.read_text())["rows"] if args.out.exists() else {}
    write_record(args.out, args.run, rows={**rows, args.name: row})


if __name__ == "__main__":
    main()
