"""Built-in generator: finds drawn objects, writes valid MCG .mat + timing, never opens annotations."""

import builtins
import json
import os

import numpy as np

from iam.evaluation.proposal_recall import recall_metrics
from iam.masks import iou_matrix
from iam.proposals.generate import GeneratorConfig, generate, generate_dir, overlay
from iam.proposals.mcg import read_mcg


def _scene(rng):
    """Noisy grey background with two flat-coloured discs of different colours."""
    image = rng.normal(120, 10, (64, 64, 3))
    yy, xx = np.mgrid[:64, :64]
    masks = np.stack([(yy - 20) ** 2 + (xx - 20) ** 2 < 100, (yy - 44) ** 2 + (xx - 42) ** 2 < 144])
    image[masks[0]] = (220, 40, 40)
    image[masks[1]] = (30, 60, 200)
    return np.clip(image, 0, 255).astype(np.uint8), masks


def test_generator_finds_distinct_objects_and_respects_the_limit():
    image, gt = _scene(np.random.default_rng(0))
    props = generate(image, GeneratorConfig(scales=(100, 300), min_size=20), max_proposals=15)
    assert 0 < len(props) <= 15
    assert np.all(np.diff(props.scores) <= 0)
    metrics = recall_metrics([iou_matrix(gt, props.masks())], counts=(15,), thresholds=(0.8,))
    assert metrics["recall@15@0.8"] == 1.0


def test_overlay_refines_every_segmentation():
    a = np.array([[0, 0, 1, 1]] * 2)
    b = np.array([[0, 1, 1, 1], [0, 0, 0, 1]])
    sp, base = overlay([a, b])
    for seg, lookup in zip((a, b), base):
        np.testing.assert_array_equal(lookup[sp], seg)
    assert sp.max() + 1 == 4


def test_generate_dir_writes_mcg_files_and_timing_without_touching_annotations(tmp_path, monkeypatch):
    image, _ = _scene(np.random.default_rng(1))
    opened = []
    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", lambda f, *a, **k: (opened.append(os.fspath(f)), real_open(f, *a, **k))[1])
    cfg = GeneratorConfig(scales=(100,), min_size=20)
    timing = generate_dir(["x", "y"], lambda _: image, tmp_path, cfg, max_proposals=10)
    assert not any(("Segmentation" in p or "/inst/" in p or "/cls/" in p or "Annotations" in p) for p in opened)
    assert set(json.loads((tmp_path / "timing.json").read_text())) == {"x", "y"} == set(timing)
    props = read_mcg(tmp_path / "x.mat", image_shape=(64, 64))
    assert 0 < len(props) <= 10
