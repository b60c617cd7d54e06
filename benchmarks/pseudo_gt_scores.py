"""Pseudo-GT scoring options on a finished run's training artifacts (reads GT, a diagnostic): for each
option, the top-1 proposal's IoU with the peak's own instance (mean, share >= 0.5), whether the best
proposal of the image ranks in the top 5, and the top-1 area over the instance's (median).

    .venv/bin/python benchmarks/pseudo_gt_scores.py results/synthetic 200 > benchmarks/results/pseudo_gt_scores.txt
    .venv/bin/python benchmarks/pseudo_gt_scores.py results/synthetic 200 results/synthetic-pretrain/pretrain/model.pth

Options: the paper's f (beta 0), the shipped beta 1, beta 1 minus a size prior (g x area fraction),
PRM mass over area^e, beta 1 plus proposal objectness (z-scored, x 0.1), IoU with the PRM's support
(the smallest set holding q of its mass), and each restricted to proposals containing the stored peak;
then, each on top of beta 1 + size prior 1: the border prior (boundary connectivity), the PRM
under a Gaussian window around its stored peak, a penalty per other peak the proposal holds, the
contour's mean Lab gradient (z-scored), and, with a third argument (a stand-in trunk's
``model.pth``), the background map 1 - (its layer2 feature norm, min-max scaled).
"""

import sys
from pathlib import Path

import cv2
import numpy as np
import torch
from proposal_cues import contour_contrast  # benchmarks/ is on the path when this script runs

from iam.data.maps import normalise_prms
from iam.data.transforms import normalise
from iam.data.voc import read_gt_instances, read_image, read_split
from iam.evaluation.prm_quality import own_instance
from iam.io.h5 import open_artifact
from iam.io.prm import read_prm
from iam.masks import iou_matrix
from iam.models.resnet import resnet
from iam.proposals.store import read_proposals
from iam.pseudo_gt.matching import background_map, border_connectivity, matching_scores

run = Path(sys.argv[1])
n = int(sys.argv[2])
stand_in = Path(sys.argv[3]) if len(sys.argv) > 3 else None
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


def shipped_plus(prms, props, crm, peaks, image, trunk):
    """Options on top of beta 1 + size prior 1 (GT-free cues of the background and of the instance)."""
    bg = background_map(crm, peaks[:, 0], props.shape[1:])
    area = props.reshape(len(props), -1).mean(1)[None]
    base = matching_scores(prms, props, 1.0, 3, 1.0, bg)[0] - area
    out = {f"size1+border{b}": base - b * border_connectivity(props)[None] for b in (0.1, 0.2, 0.4)}
    for sigma in (8, 16, 32):
        out[f"size1+gauss{sigma}px"] = (
            matching_scores(gauss_window(prms, peaks, sigma), props, 1.0, 3, 1.0, bg)[0] - area
        )
    holds = props[:, peaks[:, 1], peaks[:, 2]].T.astype(np.float32)  # (m, n)
    far = np.hypot(*(peaks[:, None, 1:] - peaks[None, :, 1:]).transpose(2, 0, 1)) > 12
    for d in (0.1, 0.3):
        out[f"size1+others{d}"] = base - d * (far.astype(np.float32) @ holds)
    edge = contour_contrast(props, image)
    for w in (0.05, 0.1, 0.2):
        out[f"size1+edge{w}"] = base + w * edge[None]
    if trunk is not None:
        fg = feature_norm_map(trunk, image)
        for beta in (1.0, 2.0):
            out[f"size1+standin_bg_beta{beta:g}"] = matching_scores(prms, props, 1.0, 3, beta, 1 - fg)[0] - area
    return out


def gauss_window(prms, peaks, sigma):
    yy, xx = np.mgrid[: prms.shape[1], : prms.shape[2]]
    d2 = (yy[None] - peaks[:, 1, None, None]) ** 2 + (xx[None] - peaks[:, 2, None, None]) ** 2
    return prms * np.exp(-d2 / (2 * sigma**2))


def load_trunk(path):
    trunk = resnet("resnet10")
    trunk.load_state_dict({k: v for k, v in torch.load(path, weights_only=True).items() if not k.startswith("fc.")})
    return trunk.eval()


def feature_norm_map(trunk, image):
    with torch.no_grad():
        x = trunk.maxpool(trunk.relu(trunk.bn1(trunk.conv1(normalise(image)[None]))))
        norm = trunk.layer2(trunk.layer1(x))[0].norm(dim=0).numpy()
    norm = cv2.resize(norm, (image.shape[1], image.shape[0]))
    return (norm - norm.min()) / (norm.max() - norm.min() + 1e-6)


trunk = load_trunk(stand_in) if stand_in else None


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
        opts.update(shipped_plus(prms, props, crm, peaks, read_image(voc, image_id), trunk))
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
