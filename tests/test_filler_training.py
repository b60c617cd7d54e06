"""Filler training: loss decreases, resume == uninterrupted, NaN is caught (a pseudo GT of another k or
source is a case of test_bad_inputs.py)."""

from dataclasses import replace

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from iam.data.maps import Competition, compete, kept_mass
from iam.errors import TrainingError
from iam.io.h5 import put, write_artifact
from iam.models.backbone import PeakBackbone, save_backbone
from iam.training import filler as filler_training
from iam.training.checkpoint import load_latest
from iam.training.filler import (
    FillerConfig,
    Trainer,
    draw_batch,
    fitted_targets,
    load_feature_backbone,
    load_filler,
    train,
    training_samples,
    weighted_bce,
)
from iam.training.samples import Sample, SampleSource, StreamedSamples, index_samples, load_samples

SIZE = 32
CFG = FillerConfig(channels=4, pyramid_channels=8, epochs=3, batch_size=4, lr=0.1, peaks_per_image=2)


class TinyBackbone(nn.Module):
    """Stands in for PeakBackbone: res2 at stride 4, res3/res4 at stride 8."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.res2 = nn.Sequential(nn.Conv2d(3, 6, 3, stride=4, padding=1), nn.ReLU())
        self.res3 = nn.Sequential(nn.Conv2d(6, 8, 3, stride=2, padding=1), nn.ReLU())
        self.res4 = nn.Conv2d(8, 10, 3, padding=1)

    def features(self, x):
        r2 = self.res2(x)
        r3 = self.res3(r2)
        return {"image": x, "res2": r2, "res3": r3, "res4": self.res4(r3)}


def square_samples(n: int, seed: int = 0) -> list[Sample]:
    """Images with bright squares; each PRM is a dot inside its square; candidates = the square
    (and, in the second column, a wrong half-square)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        image = torch.full((3, SIZE, SIZE), -1.0)
        y, x, side = int(rng.integers(2, 14)), int(rng.integers(2, 14)), int(rng.integers(8, 16))
        image[:, y : y + side, x : x + side] = 1.0
        mask = torch.zeros(2, SIZE, SIZE, dtype=torch.uint8)
        mask[0, y : y + side, x : x + side] = 1
        mask[1, y : y + side // 2, x : x + side] = 1
        prm = torch.zeros(1, SIZE, SIZE, dtype=torch.float16)
        prm[0, y + side // 2, x + side // 2] = 1.0
        out.append(Sample(f"im{i}", image, prm, mask, np.array([[0, 1]])))
    return out


def final_state(out_dir) -> dict[str, torch.Tensor]:
    return torch.load(out_dir / "model.pt", weights_only=False)["state_dict"]


def test_loss_decreases_and_model_reloads(tmp_path):
    cfg = FillerConfig(**{**CFG.__dict__, "epochs": 6})
    model = train(TinyBackbone(), square_samples(8), cfg, torch.device("cpu"), tmp_path)
    losses = np.loadtxt(tmp_path / "metrics.csv", delimiter=",", skiprows=1, usecols=1)
    assert len(losses) == 6 and losses[-1] < 0.8 * losses[0]
    loaded, size = load_filler(tmp_path / "model.pt", torch.device("cpu"))
    assert size == SIZE
    for key, value in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value)


@pytest.mark.parametrize("ema_decay", [0.0, 0.9])
def test_resume_after_interruption_equals_uninterrupted_run(tmp_path, monkeypatch, ema_decay):
    cfg = replace(CFG, ema_decay=ema_decay)
    samples = square_samples(8)
    train(TinyBackbone(), samples, cfg, torch.device("cpu"), tmp_path / "straight")
    real_epoch, epochs_run = Trainer.epoch, []

    def killed_in_epoch_2(self, samples, cache, epoch):
        if epoch == 2:
            raise KeyboardInterrupt
        return real_epoch(self, samples, cache, epoch)

    def recorded(self, samples, cache, epoch):
        epochs_run.append(epoch)
        return real_epoch(self, samples, cache, epoch)

    monkeypatch.setattr(Trainer, "epoch", killed_in_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        train(TinyBackbone(), samples, cfg, torch.device("cpu"), tmp_path / "resumed")
    assert not (tmp_path / "resumed" / "model.pt").exists()
    monkeypatch.setattr(Trainer, "epoch", recorded)
    train(TinyBackbone(), samples, cfg, torch.device("cpu"), tmp_path / "resumed")
    assert epochs_run == [2], "the rerun did not resume after the epoch-2 checkpoint"
    straight, resumed = final_state(tmp_path / "straight"), final_state(tmp_path / "resumed")
    for key in straight:
        torch.testing.assert_close(resumed[key], straight[key], rtol=0, atol=0)


def test_ema_decay_writes_the_moving_average_of_every_steps_weights(tmp_path, monkeypatch):
    """The filler written is e_1 = w_1, e_t = d_t e_(t-1) + (1 - d_t) w_t over the steps' weights w_t
    with d_t = min(d, t / (9 + t)), not the last step's weights."""
    decay, steps = 0.8, []
    real_step = filler_training.step

    def recorded(optimizer, loss, epoch, batch):
        value = real_step(optimizer, loss, epoch, batch)
        steps.append([p.detach().clone() for p in optimizer.param_groups[0]["params"]])
        return value

    monkeypatch.setattr(filler_training, "step", recorded)
    model = train(TinyBackbone(), square_samples(8), replace(CFG, ema_decay=decay), torch.device("cpu"), tmp_path)
    expected = steps[0]
    for t, weights in enumerate(steps[1:], start=2):
        rate = min(decay, t / (9 + t))
        expected = [rate * e + (1 - rate) * w for e, w in zip(expected, weights)]
    assert len(steps) == CFG.epochs * 2
    for saved, want in zip(model.parameters(), expected):
        torch.testing.assert_close(saved.detach(), want)
    assert any(not torch.allclose(s.detach(), last) for s, last in zip(model.parameters(), steps[-1]))


def test_nan_loss_names_epoch_and_batch_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    real_epoch = Trainer.epoch

    def poison_in_epoch_1(self, samples, cache, epoch):
        if epoch == 1:
            with torch.no_grad():
                self.model.decoder[-1].bias.fill_(float("nan"))
        return real_epoch(self, samples, cache, epoch)

    monkeypatch.setattr(Trainer, "epoch", poison_in_epoch_1)
    with pytest.raises(TrainingError, match="epoch 2, batch 0"):
        train(TinyBackbone(), square_samples(4), CFG, torch.device("cpu"), tmp_path)
    state = load_latest(tmp_path / "checkpoints")
    assert state["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())
    assert not (tmp_path / "model.pt").exists()


def write_artifacts(
    tmp_path, images: dict[str, tuple[np.ndarray, ...]], k: int = 2, source: str = "generated"
) -> SampleSource:
    """JPEGs, a ``prm`` and a ``pseudo_gt`` file holding ``images``: id -> (pixels, prms, masks, candidates)."""
    voc = tmp_path / "voc"
    (voc / "JPEGImages").mkdir(parents=True)
    with (
        write_artifact(tmp_path / "prm.h5", "prm", "test") as prm_f,
        write_artifact(tmp_path / "pgt.h5", "pseudo_gt", "test", {"k": k}) as pgt_f,
    ):
        pgt_f.attrs["k"], pgt_f.attrs["source"] = k, source
        for image_id, (pixels, prms, masks, candidates) in images.items():
            cv2.imwrite(str(voc / "JPEGImages" / f"{image_id}.jpg"), pixels)
            group = prm_f.create_group(image_id)
            put(group, "prm", prms, half=True)
            put(group, "peaks", np.zeros((len(prms), 3), np.int64))  # all of class 0
            g = pgt_f.create_group(image_id)
            put(g, "prm_index", np.arange(len(prms)))
            put(g, "masks", masks)
            put(g, "candidates", candidates)
    return SampleSource(voc, tmp_path / "prm.h5", tmp_path / "pgt.h5", SIZE)


def write_inputs(tmp_path) -> SampleSource:
    """One 40 x 48 image whose three PRMs are: usable, all zero, without a candidate."""
    prms = np.zeros((3, 40, 48), np.float32)
    prms[0, 10, 10] = prms[2, 20, 20] = 1.0  # prm 1 is all zero
    image = (
        np.full((40, 48, 3), 128, np.uint8),
        prms,
        np.ones((1, 40, 48), np.uint8),
        np.array([[0, -1], [0, -1], [-1, -1]]),
    )
    return write_artifacts(tmp_path, {"a": image})


def test_load_samples_keeps_peaks_with_candidates_and_nonzero_prms(tmp_path):
    where = write_inputs(tmp_path)
    [sample] = load_samples(where.voc_root, where.prm_path, where.pseudo_gt_path, ["a"], SIZE, k=2, source="generated")
    assert sample.prms.shape == (1, SIZE, SIZE) and float(sample.prms.max()) == 1.0
    assert sample.masks.shape == (1, SIZE, SIZE) and sample.image.shape == (3, SIZE, SIZE)


def test_competition_weights_each_peak_by_its_prms_kept_share(tmp_path):
    prms = np.zeros((3, 40, 48), np.float32)
    prms[0, 5:25, 5:25] = 1.0
    prms[1, 15:30, 15:30] = 1.0  # more concentrated: takes the overlap from the first (same class, not alike)
    prms[2, 30:40, 40:48] = 1.0  # alone
    image = (np.full((40, 48, 3), 128, np.uint8), prms, np.ones((1, 40, 48), np.uint8), np.array([[0, -1]] * 3))
    where = replace(write_artifacts(tmp_path, {"a": image}), competition=Competition(1.0, 0.9))
    [sample] = StreamedSamples(where, index_samples(where, ["a"], 2, "generated")).load_all()
    classes = np.zeros(3, np.int64)  # write_artifacts stores every peak as class 0
    np.testing.assert_allclose(sample.weights, kept_mass(prms, compete(prms, 1.0, classes, 0.9)), rtol=1e-6)
    assert sample.weights[0] < 1 and sample.weights[2] == 1
    _, _, weights, _ = draw_batch([sample], np.random.default_rng(0), peaks_per_image=3, target="mean")
    torch.testing.assert_close(weights, torch.from_numpy(sample.weights))


def test_weighted_bce_scales_each_peaks_loss_by_its_weight_over_the_mean():
    logits, target = torch.randn(3, 1, 6, 6), (torch.rand(3, 1, 6, 6) > 0.5).float()
    plain = F.binary_cross_entropy_with_logits(logits, target)
    torch.testing.assert_close(weighted_bce(logits, target, torch.ones(3)), plain)
    only_first = weighted_bce(logits, target, torch.tensor([1.0, 0.0, 0.0]))
    torch.testing.assert_close(only_first, F.binary_cross_entropy_with_logits(logits[0], target[0]))


def write_square_artifacts(tmp_path, samples: list[Sample]) -> SampleSource:
    """``samples`` as the artifacts they come from."""
    return write_artifacts(
        tmp_path,
        {
            s.image_id: (
                ((s.image.permute(1, 2, 0).numpy() + 1) * 127.5).astype(np.uint8),
                s.prms.float().numpy(),
                s.masks.numpy(),
                s.candidates,
            )
            for s in samples
        },
    )


@pytest.mark.slow
def test_streamed_samples_train_the_same_model_as_samples_in_memory(tmp_path):
    where = write_square_artifacts(tmp_path, square_samples(10))
    ids = [f"im{i}" for i in range(10)]
    in_memory = load_samples(where.voc_root, where.prm_path, where.pseudo_gt_path, ids, SIZE, k=2, source="generated")
    streamed = training_samples(where, ids, 2, "generated", FillerConfig(**{**CFG.__dict__, "memory_mb": 0}), 1)
    assert isinstance(streamed, StreamedSamples) and len(streamed) == len(in_memory) == 10
    for a, b in zip(in_memory, streamed):
        assert a.image_id == b.image_id and torch.equal(a.image, b.image) and torch.equal(a.prms, b.prms)
    cfg = FillerConfig(**{**CFG.__dict__, "workers": 2})
    train(TinyBackbone(), in_memory, cfg, torch.device("cpu"), tmp_path / "memory")
    train(TinyBackbone(), streamed, cfg, torch.device("cpu"), tmp_path / "streamed")
    held, read = final_state(tmp_path / "memory"), final_state(tmp_path / "streamed")
    for key in held:
        torch.testing.assert_close(read[key], held[key], rtol=0, atol=0)


def test_samples_are_held_in_memory_only_within_the_budget(tmp_path):
    where = write_square_artifacts(tmp_path, square_samples(4))
    ids = [f"im{i}" for i in range(4)]
    per_image = 3 * SIZE * SIZE * 4 + SIZE * SIZE * 2 + 2 * SIZE * SIZE  # image, one PRM, two masks
    features = 2**20 // 4 - per_image  # with these, four images take 1 MB
    fits = FillerConfig(**{**CFG.__dict__, "memory_mb": 1})
    assert isinstance(training_samples(where, ids, 2, "generated", fits, features), list)
    assert isinstance(training_samples(where, ids, 2, "generated", fits, features + 1), StreamedSamples)
    finetuned = FillerConfig(**{**fits.__dict__, "finetune_backbone": True})  # no feature cache then
    assert isinstance(training_samples(where, ids, 2, "generated", finetuned, features + 1), list)


def test_mean_target_is_the_candidates_pixelwise_mean_and_gives_their_average_loss():
    samples = square_samples(3)
    samples[2].candidates = np.array([[1, -1]])  # one candidate: the "none" slot must not count
    rng = np.random.default_rng(0)
    prms, owner, weights, target = draw_batch(samples, rng, peaks_per_image=2, target="mean")
    assert weights.tolist() == [1.0, 1.0, 1.0]  # samples without weights
    assert target.shape == (3, 1, SIZE, SIZE) and owner.tolist() == [0, 1, 2]
    torch.testing.assert_close(target[0, 0], samples[0].masks.float().mean(0))
    torch.testing.assert_close(target[2, 0], samples[2].masks[1].float())
    logits = torch.randn(SIZE, SIZE)
    each = [F.binary_cross_entropy_with_logits(logits, m.float()) for m in samples[0].masks]
    torch.testing.assert_close(F.binary_cross_entropy_with_logits(logits, target[0, 0]), sum(each) / 2)
    _, _, _, sampled = draw_batch(samples, rng, peaks_per_image=2)
    assert set(np.unique(sampled.numpy())) <= {0.0, 1.0}


def test_select_trains_towards_the_mean_then_the_candidate_the_prediction_fits():
    samples = square_samples(3)
    samples[2].candidates = np.array([[1, -1]])  # one candidate: the empty slot must never be picked
    _, _, _, stacks = draw_batch(samples, np.random.default_rng(0), peaks_per_image=2, target="select")
    assert stacks.shape == (3, 2, SIZE, SIZE) and not stacks[2, 1].any()
    cfg = FillerConfig(target="select", select_after=3)
    assert [cfg.target_in(epoch) for epoch in range(5)] == ["mean"] * 3 + ["select"] * 2
    _, _, _, warm = draw_batch(samples, np.random.default_rng(0), peaks_per_image=2, target=cfg.target_in(0))
    torch.testing.assert_close(warm[0, 0], samples[0].masks.float().mean(0))
    torch.testing.assert_close(warm[2, 0], samples[2].masks[1].float())
    # whole square and half square: the prediction's shape picks one, whatever its logits' scale
    whole, half = samples[0].masks.float()
    pair = stacks[0]
    logits = torch.stack([half * 2 - 6, whole * 3 - 9, whole * 8 - 4])[:, None]
    picked = fitted_targets(logits, torch.stack([pair, pair, stacks[2]]))
    torch.testing.assert_close(picked[:, 0], torch.stack([half, whole, samples[2].masks[1].float()]))


def test_a_fine_tuning_filler_saves_the_trunk_it_trained_and_leaves_layer4_alone(tmp_path):
    """finetune_backbone: the features' layers learn with the filler and reload from its file; layer4 and
    the classifier, which the filler never reads, keep the backbone's weights."""
    backbone = PeakBackbone("resnet10", 2, True, False)
    save_backbone(backbone, ["a", "b"], tmp_path / "backbone.pt")
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    cfg = FillerConfig(**{**CFG.__dict__, "finetune_backbone": True, "epochs": 1, "optimizer": "adam", "lr": 0.01})
    train(backbone, square_samples(4), cfg, torch.device("cpu"), tmp_path / "filler")
    tuned = load_feature_backbone(tmp_path / "filler" / "model.pt", tmp_path / "backbone.pt", torch.device("cpu"))
    after = tuned.state_dict()
    assert not torch.equal(after["layer1.0.conv1.weight"], before["layer1.0.conv1.weight"])
    assert not torch.equal(after["layer3.0.conv1.weight"], before["layer3.0.conv1.weight"])
    for key in ("layer4.0.conv1.weight", "layer4.0.bn1.running_mean", "classifier.weight"):
        assert torch.equal(after[key], before[key]), key


class SquareSpy(nn.Module):
    """Predicts the bright pixels of each peak's image (as the filler sees it) and records those images;
    a PRM whose dot is not on them (mirrored apart from its image) fails the forward."""

    def __init__(self) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(()))
        self.seen: list[torch.Tensor] = []

    def forward(self, prms, features, owner):
        bright = (features["image"][owner, :1] > 0).float()
        assert torch.equal(prms * bright, prms), "a PRM's dot lies off its image's square"
        self.seen += list(features["image"][:, 0])
        return bright * 40 - 20 + self.bias


@pytest.mark.parametrize("cached", [True, False])
def test_flip_mirrors_each_images_features_prms_and_targets_together(cached):
    samples = square_samples(8)
    for s in samples:
        s.candidates = np.array([[0, -1]])  # the whole square: a prediction of the image's square is exact
    cfg = replace(CFG, flip=True, peaks_per_image=1, target="mean")
    backbone, cpu, images = TinyBackbone(), torch.device("cpu"), [s.image for s in samples]
    cache = filler_training.cache_features(backbone, images + [im.flip(-1) for im in images], cpu) if cached else None
    spy = SquareSpy()
    trainer = Trainer(spy, backbone, torch.optim.SGD(spy.parameters(), lr=0.0), cfg, cpu)
    assert trainer.epoch(samples, cache, 0) < 1e-6  # targets mirrored with their images
    originals = torch.stack([im[0] for im in images])
    as_seen = [bool((seen == originals).all((1, 2)).any()) for seen in spy.seen]
    mirrored = [bool((seen == originals.flip(-1)).all((1, 2)).any()) for seen in spy.seen]
    assert all(a or m for a, m in zip(as_seen, mirrored)) and 0 < sum(mirrored) < len(spy.seen)
