"""Evaluation on small hand-written artifacts: instance metrics, soft maps, localization, saliency."""

from types import SimpleNamespace

import numpy as np
import pytest

from iam.errors import InputError
from iam.evaluation.instance_metrics import evaluate_instances
from iam.evaluation.localization import box_iou, map_to_box
from iam.evaluation.saliency import merge_maps, saliency_scores
from iam.evaluation.soft_maps import best_iou_samples
from iam.io.h5 import write_artifact
from iam.io.instances import InstanceSet, set_classes, write_instances

SHAPE = (16, 16)


def rect(y0, y1, x0, x1):
    m = np.zeros(SHAPE, bool)
    m[y0:y1, x0:x1] = True
    return m


GT = {
    "a": SimpleNamespace(masks=np.stack([rect(0, 8, 0, 8)]), labels=np.array([0]), void=rect(8, 9, 0, 16)),
    "b": SimpleNamespace(masks=np.stack([rect(8, 16, 8, 16)]), labels=np.array([1]), void=np.zeros(SHAPE, bool)),
}


def write_preds(path, preds):
    with write_artifact(path, "instances", "test") as f:
        set_classes(f, ["x", "y"])
        for image_id, inst in preds.items():
            write_instances(f, image_id, inst).attrs["time_fill"] = 0.5


def test_evaluate_instances_perfect_with_void_and_timing(tmp_path):
    grown = rect(0, 9, 0, 8)  # the extra row is void: still exact
    write_preds(
        tmp_path / "p.h5",
        {
            "a": InstanceSet(grown[None], np.array([0]), np.array([0.9], np.float32)),
            "b": InstanceSet(GT["b"].masks, np.array([1]), np.array([0.8], np.float32)),
        },
    )
    m = evaluate_instances(tmp_path / "p.h5", ["a", "b"], GT.get, ["x", "y"], [0.5, 0.75])
    assert m["map"] == {"0.5": 1.0, "0.75": 1.0}
    assert m["coco_map_pycocotools"] == pytest.approx(m["coco_map"], abs=1e-9)
    assert m["abo"] == 1.0 and m["n_gt_instances"] == 2
    assert m["seconds_per_image"] == {"time_fill": 0.5}


def test_evaluate_instances_rejects_missing_image(tmp_path):
    write_preds(tmp_path / "p.h5", {"a": InstanceSet.empty(*SHAPE)})
    with pytest.raises(InputError, match="'b'"):
        evaluate_instances(tmp_path / "p.h5", ["a", "b"], GT.get, ["x", "y"], [0.5])


def test_soft_map_best_iou_over_thresholds():
    soft = np.zeros((2, *SHAPE), np.float32)
    soft[0][rect(0, 8, 0, 8)] = 0.3  # exact after thresholding at any θ <= 0.3 of the max
    soft[0][0, 0] = 1.0
    soft[1][rect(0, 4, 0, 4)] = 1.0  # a quarter of the object
    s = best_iou_samples(soft, np.array([0, 0]), GT["a"].masks, GT["a"].labels, None)
    assert s.ious == pytest.approx([1.0, 0.25])
    assert s.sizes == pytest.approx([64 / 256] * 2)
    assert len(best_iou_samples(soft, np.array([1, 1]), GT["a"].masks, GT["a"].labels, None).ious) == 0


def test_map_to_box_takes_largest_component_above_mean():
    m = np.zeros(SHAPE)
    m[2:6, 3:10] = 1.0
    m[12, 12] = 1.0
    assert map_to_box(m).tolist() == [3, 2, 10, 6]
    assert map_to_box(np.zeros(SHAPE)) is None
    assert box_iou(np.array([0, 0, 4, 4.0]), np.array([[0, 0, 4, 4], [2, 0, 6, 4]])) == pytest.approx([1, 1 / 3])


def test_saliency_perfect_and_empty():
    gt = rect(4, 12, 4, 12)
    perfect = saliency_scores([(merge_maps(gt[None].astype(float) * 5, SHAPE), gt)])
    assert perfect["adaptive_f"] == pytest.approx(1.0) and perfect["max_f"] == pytest.approx(1.0)
    empty = saliency_scores([(merge_maps(np.zeros((0, *SHAPE)), SHAPE), gt)])
    assert empty["adaptive_f"] == 0.0


def test_a_cam_without_positive_values_is_min_max_rescaled_and_a_positive_one_relu_max():
    from iam.data.maps import upsample_cam

    negative = np.full((4, 4), -3.0, np.float32)
    negative[1, 2] = -1.0
    cam = upsample_cam(negative, (8, 8))
    assert cam.min() == 0.0 and cam.max() == 1.0
    assert np.unravel_index(np.argmax(cam), cam.shape)[0] in (2, 3)  # where the least negative cell lies
    mixed = negative + 2.0  # one positive cell: ReLU, then max 1
    assert np.isclose(upsample_cam(mixed, (8, 8)).max(), 1.0) and (upsample_cam(mixed, (8, 8)) == 0).mean() > 0.5
    assert not upsample_cam(np.full((4, 4), -1.0, np.float32), (8, 8)).any()
