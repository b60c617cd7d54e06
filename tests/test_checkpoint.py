"""Generic checkpoints (shared by the backbone and filler trainers): pruning, order, RNG, run identity
(a truncated checkpoint is a case of test_bad_inputs.py)."""

import random

import numpy as np
import torch
from torch import nn

from iam.training.checkpoint import checkpoints, load_latest, restore, run_fingerprint, save_checkpoint


def _setup(seed: int) -> tuple[nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(seed)
    model = nn.Linear(3, 2)
    return model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def _step(model: nn.Module, opt: torch.optim.Optimizer) -> None:
    opt.zero_grad()
    model(torch.randn(4, 3)).pow(2).sum().backward()
    opt.step()


def test_newest_by_epoch_number_and_older_ones_pruned(tmp_path):
    model, opt = _setup(0)
    for epoch in (9, 10, 11):
        save_checkpoint(tmp_path, model, opt, epoch, {"epoch_seen": epoch}, keep=2)
    assert [p.name for p in checkpoints(tmp_path)] == ["epoch0010.pt", "epoch0011.pt"]
    assert load_latest(tmp_path)["extra"] == {"epoch_seen": 11}
    assert load_latest(tmp_path / "missing") is None


def test_restore_continues_exactly_like_an_uninterrupted_run(tmp_path):
    model, opt = _setup(0)
    _step(model, opt)
    save_checkpoint(tmp_path, model, opt, 1)
    _step(model, opt)
    expected = (model.weight.detach().clone(), random.random(), np.random.rand(), torch.rand(1))

    resumed, resumed_opt = _setup(1)  # other weights, other RNG state
    assert restore(load_latest(tmp_path), resumed, resumed_opt) == 1
    _step(resumed, resumed_opt)  # momentum buffer and torch RNG must both be restored
    torch.testing.assert_close(resumed.weight.detach(), expected[0])
    assert (random.random(), np.random.rand()) == expected[1:3]
    torch.testing.assert_close(torch.rand(1), expected[3])


def test_checkpoints_of_another_run_are_discarded(tmp_path):
    inp = tmp_path / "input.h5"
    inp.write_bytes(b"v1")
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    first = run_fingerprint({"lr": 0.1}, [inp])
    save_checkpoint(tmp_path / "ck", model, opt, 1, {"fingerprint": first})
    assert load_latest(tmp_path / "ck", first)["epoch"] == 1
    assert run_fingerprint({"lr": 0.2}, [inp]) != first
    inp.write_bytes(b"v2, regenerated upstream")
    second = run_fingerprint({"lr": 0.1}, [inp])
    assert second != first
    assert load_latest(tmp_path / "ck", second) is None
    assert not list((tmp_path / "ck").glob("*.pt"))
