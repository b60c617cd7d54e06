"""Pseudo-GT scoring options on a finished run's training artifacts (reads GT, a diagnostic): for each
option, the top-1 proposal's IoU with the peak's own instance (mean, share >= 0.5), whether the best
proposal of the image ranks in the top 5, and the top-1 area over the instance's (median).

    .venv/bin/python benchmarks/pseudo_gt_scores.py results/synthetic 200 > benchmarks/results/pseudo_gt_scores.txt

Options: the paper's f (beta 0), the shipped beta 1, beta 1 minus a size prior (g x area fraction),
PRM mass over area^e, beta 1 plus proposal objectness (z-scored, x 0.1), IoU with the PRM's support
(the smallest set holding q of its mass), and each restricted to proposals containing the stored peak.
"""

import sys
from pathlib import Path

import numpy as np

from iam.data.voc import read_gt_instances, read_split
from iam.evaluation.prm_quality import own_instance
from iam.io.h5 import open_artifact
from iam.io.prm import read_prm
from iam.masks import iou_matrix
from iam.proposals.store import read_proposals
from iam.pseudo_gt.matching import background_map, matching_scores, normalise_prms

run = Path(sys.argv[1])
n = int(sys.argv[2])
classes = ["bird", "cat", "cow", "dog", "horse", "sheep", "car", "boat"]
voc = run / "data/VOC2012"
rows = {}


def options(prms, props, pscores, crm, peaks):
    bg = background_map(crm, peaks[:, 0], props.shape[1:])
    base0, ov = matching_scores(prms, props, 1.0, 3, 0.0, None)
    base1, _ = matching_scores(prms, props, 1.0, 3, 1.0, bg)
    area = props.reshape(len(props), -1).mean(1)[None]
    p = normalise_prms(prms)
    flat = props.reshape(len(props), -1).astype(np.float32)
    inside = p @ flat.T
    out = {"paper": base0, "beta1": base1}
    for g in (0.5, 1.0, 2.0):
        out[f"beta1_size{g}"] = base1 - g * area
    for e in (0.3, 0.5):
        out[f"mass_over_area^{e}"] = inside / np.maximum(area, 1e-6) ** e
    out["beta1_obj"] = base1 + 0.1 * (pscores - pscores.mean())[None] / (pscores.std() + 1e-6)
    # PRM support: proposal IoU with the PRM's top-mass region (smallest set holding 60% of mass)
    for q in (0.5, 0.7):
        sup = []
        for m in p:
            order = np.sort(m)[::-1]
            c = np.cumsum(order)
            thr = order[min(np.searchsorted(c, q), len(order) - 1)]
            sup.append(m >= thr)
        sup = np.array(sup, np.float32)
        inter = sup @ flat.T
        uni = sup.sum(1)[:, None] + flat.sum(1)[None] - inter
        out[f"support_iou{q}"] = inter / np.maximum(uni, 1)
    contain = props[:, peaks[:, 1], peaks[:, 2]].T  # (m, n): proposal j holds peak i
    for name in ("beta1", "beta1_size1.0", "beta1_size2.0", "beta1_obj", "support_iou0.7"):
        out[name + "+contain"] = np.where(contain, out[name], -1e9)
    return out, ov


with (
    open_artifact(run / "prm/train.h5", "prm") as pf,
    open_artifact(run / "proposals/generated/train.h5", "proposals") as qf,
):
    for image_id in read_split(voc, "train")[:n]:
        stored = read_prm(pf, image_id)
        peaks, prms, crm = stored.peaks, stored.prm.astype(np.float32), stored.crm.astype(np.float32)
        props, pscores = read_proposals(qf, image_id)
        gt = read_gt_instances(voc, image_id, classes)
        if not len(props):
            continue
        piou = iou_matrix(props, gt.masks, gt.void)
        opts, ov = options(prms, props, pscores, crm, peaks)
        keep = ov.max(0) >= 0.2
        for i, (c, _, _) in enumerate(peaks):
            inst = own_instance(int(c), prms[i].astype(np.float64), gt)
            if inst is None:
                continue
            best = int(np.argmax(piou[:, inst]))
            for name, s in opts.items():
                sc = np.where(keep, s[i], -np.inf)
                top = int(np.argmax(sc))
                rank = int((sc > sc[best]).sum()) + 1
                rows.setdefault(name, []).append((piou[top, inst], rank <= 5, props[top].sum() / gt.masks[inst].sum()))
for name, r in rows.items():
    r = np.array(r)
    print(
        f"{name:22s} top1 {r[:, 0].mean():.3f}  >=.5 {np.mean(r[:, 0] >= 0.5):.2f}  "
        f"best-in-top5 {r[:, 1].mean():.2f}  area x{np.median(r[:, 2]):.2f}  (n={len(r)})"
    )
