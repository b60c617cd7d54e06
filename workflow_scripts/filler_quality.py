"""metrics/filler_{source}_k{k}.json (filling-weight entropy and boundary ratio on val, reads GT) and
the Fig. 5 picture of the first val image's filling weights."""

from iam.data.voc import read_image, read_split
from iam.device import resolve_device
from iam.evaluation.filler_quality import filler_quality
from iam.evaluation.gt import instance_reader
from iam.inference import image_filling_weights
from iam.io.atomic import write_json
from iam.report.filling_weights import render_filling_weights
from iam.training.filler import load_feature_backbone, load_filler
from iam.workflow import run


def main(smk) -> None:
    p, inputs = smk.params, smk.input
    device = resolve_device(p.device)
    filler, size = load_filler(inputs.filler, device)
    backbone = load_feature_backbone(inputs.filler, inputs.backbone, device)
    ids = read_split(p.voc_root, p.split)[: p.images]
    image = lambda image_id: read_image(p.voc_root, image_id)  # noqa: E731
    gt = instance_reader(p.gt_source, p.voc_root, p.sbd_root, p.classes)
    write_json(smk.output.metrics, filler_quality(ids, image, gt, backbone, filler, size, device))
    weights = image_filling_weights(image(ids[0]), backbone, filler, size, device)
    taps = filler.weights.radius**2  # the dilation-1 block, the paper's r x r neighbourhood
    render_filling_weights(
        image(ids[0]),
        weights[:, :taps],
        smk.output.figure,
        f"Fig. 5: filling weights of {ids[0]} (k = {smk.wildcards.k}, adjacent taps)",
    )


run(snakemake, main)  # noqa: F821
