"""Tests of mirbook.train.fit's bookkeeping against hand computations: the per-example mean of the
training loss, the epoch times, patience with a non-finite epoch, Adam's first step (size ``lr``,
weight decay, parameters a batch does not use), the documented defaults, argument errors and the
log of a short run."""

import math
import time

import pytest
import torch
from torch.utils.data import TensorDataset

from mirbook.train import fit

CPU = {"device": "cpu", "progress": False}


def _line(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Linear(1, 1)


def _mean_of_values(m, batch):
    """A batch's loss is the mean of its values; the zero term only gives the graph a gradient (of 0)."""
    return batch[0].mean() + 0.0 * m(batch[0]).sum()


def test_train_and_valid_loss_are_per_example_means_with_a_short_last_batch():
    """Values 1..5 in batches of 4 and 1, in any order: the mean over examples is 3.0. A mean of batch
    means, a sum, or a total started at 1 instead of 0 give other numbers (e.g. (2.5 + 5) / 2 = 3.75)."""
    data = TensorDataset(torch.arange(1.0, 6.0)[:, None])
    history = fit(_line(), data, data, epochs=2, batch_size=4, loss_fn=_mean_of_values, **CPU)
    assert history["train_loss"] == pytest.approx([3.0, 3.0])
    assert history["valid_loss"] == pytest.approx([3.0, 3.0])
    without_validation = fit(_line(), data, epochs=1, batch_size=4, loss_fn=_mean_of_values, **CPU)
    assert without_validation["train_loss"] == pytest.approx([3.0])
    assert math.isnan(without_validation["valid_loss"][0])


def test_epoch_seconds_are_durations_within_the_call():
    data = TensorDataset(torch.arange(1.0, 6.0)[:, None])
    start = time.perf_counter()
    history = fit(_line(), data, epochs=3, batch_size=4, loss_fn=_mean_of_values, **CPU)
    wall = time.perf_counter() - start
    assert len(history["seconds"]) == 3
    assert all(s > 0 for s in history["seconds"])
    assert sum(history["seconds"]) <= wall


def test_a_loss_that_is_never_finite_is_an_error_that_says_so():
    data = TensorDataset(torch.ones(4, 1))
    with pytest.raises(RuntimeError, match=r"^the loss was never finite \(NaN or inf") as err:
        fit(_line(), data, epochs=2, loss_fn=lambda m, b: m(b[0]).sum() + math.nan, **CPU)
    assert "lower lr" in str(err.value)


def test_a_non_finite_first_epoch_is_one_epoch_without_improvement():
    """patience=2: epoch 1's NaN loss is one stale epoch, so training goes on and a later epoch is the best.
    The NaN is added to the loss's value only, so the gradients (and weights) stay finite."""
    data = TensorDataset(torch.randn(8, 1, generator=torch.Generator().manual_seed(0)))
    calls = []

    def loss_fn(m, batch):
        calls.append(1)
        loss = m(batch[0]).pow(2).mean()
        return loss + math.nan if len(calls) <= 2 else loss  # epoch 1: two batches of 4

    history = fit(_line(), data, epochs=3, batch_size=4, patience=2, loss_fn=loss_fn, **CPU)
    assert math.isnan(history["train_loss"][0]) and history["epoch"] == [1, 2, 3]
    losses = history["train_loss"]
    assert history["best_epoch"] == 2 + losses[1:].index(min(losses[1:]))


def test_the_first_adam_step_has_the_length_of_the_learning_rate():
    """Adam's first step is lr * g / (|g| + eps): every weight moves by lr (1e-3 by default)."""
    x = torch.randn(64, 1, generator=torch.Generator().manual_seed(1))
    snapshots = []

    def loss_fn(m, batch):
        snapshots.append(torch.cat([p.detach().flatten().clone() for p in m.parameters()]))
        return torch.nn.functional.mse_loss(m(batch[0]), 3 * batch[0])

    fit(_line(), TensorDataset(x), epochs=1, loss_fn=loss_fn, **CPU)
    step = (snapshots[1] - snapshots[0]).abs()
    torch.testing.assert_close(step, torch.full_like(step, 1e-3), rtol=1e-4, atol=0)


def test_weight_decay_pulls_weights_toward_zero_without_any_loss_gradient():
    """With a zero loss gradient Adam's gradient is weight_decay * w alone, so one step moves each weight
    by lr toward 0; without weight decay nothing moves."""
    data = TensorDataset(torch.ones(4, 1))

    def zero(m, batch):
        return 0.0 * m(batch[0]).sum()

    for decay in (0.0, 0.5):
        model = _line()
        before = [p.detach().clone() for p in model.parameters()]
        fit(model, data, epochs=1, batch_size=4, lr=0.01, weight_decay=decay, loss_fn=zero, **CPU)
        for old, new in zip(before, model.parameters()):
            expected = old - 0.01 * torch.sign(old) if decay else old
            torch.testing.assert_close(new.detach(), expected, rtol=0, atol=1e-6)


class _TwoHeads(torch.nn.Module):
    """Two scalar weights; the loss below uses ``a`` only in the first batch (a head with labels on some
    batches only)."""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.tensor(1.0))
        self.b = torch.nn.Parameter(torch.tensor(1.0))


def test_a_weight_that_a_batch_does_not_use_is_not_moved_by_its_step():
    """Batch 1 moves a and b by lr (Adam's first step); batches 2 and 3 use b only. Their steps must leave
    a alone: a zeroed instead of absent gradient would let Adam's momentum keep moving it."""
    calls = []

    def loss_fn(m, batch):
        calls.append(1)
        return m.a + m.b if len(calls) == 1 else 2 * m.b

    model = _TwoHeads()
    history = fit(model, TensorDataset(torch.zeros(3, 1)), epochs=1, batch_size=1, lr=0.1, loss_fn=loss_fn,
                  **CPU)
    assert history["best_epoch"] == 1 and len(calls) == 3
    assert model.a.item() == pytest.approx(0.9, abs=1e-6)
    assert model.b.item() < 0.9 - 0.1  # b kept moving: three steps


def test_fit_defaults_ten_epochs_batches_of_32_patience_5_seed_0():
    """The signature's defaults: 10 epochs of batches of 32, and early stopping after 5 epochs without
    improvement; the default batch order is the one of seed=0."""
    x = torch.randn(64, 1, generator=torch.Generator().manual_seed(2))
    sizes, first_batches = [], []

    def recording(m, batch):
        sizes.append(len(batch[0]))
        return torch.nn.functional.mse_loss(m(batch[0]), 3 * batch[0])

    history = fit(_line(), TensorDataset(x), loss_fn=recording, **CPU)
    assert history["epoch"] == list(range(1, 11)) and sizes == [32] * 20

    def constant(m, batch):
        first_batches.append(batch[0][:, 0].tolist())
        return 0.0 * m(batch[0]).sum() + 1.0

    history = fit(_line(), TensorDataset(x), loss_fn=constant, **CPU)
    assert history["epoch"] == [1, 2, 3, 4, 5, 6] and history["best_epoch"] == 1
    default_order = first_batches[0]
    first_batches.clear()
    fit(_line(), TensorDataset(x), epochs=1, seed=0, loss_fn=constant, **CPU)
    fit(_line(), TensorDataset(x), epochs=1, seed=1, loss_fn=constant, **CPU)
    assert first_batches[0] == default_order != first_batches[2]


def test_argument_errors_name_the_argument_and_the_value():
    data = TensorDataset(torch.ones(4, 1))
    with pytest.raises(ValueError, match=r"^epochs must be a positive int; got 0$"):
        fit(_line(), data, epochs=0, **CPU)
    with pytest.raises(ValueError, match=r"^patience \(or None\) must be a positive int; got -1$"):
        fit(_line(), data, patience=-1, **CPU)


def test_a_run_of_at_most_25_epochs_logs_the_losses_of_every_epoch(capsys):
    data = TensorDataset(torch.arange(1.0, 6.0)[:, None])
    fit(_line(), data, epochs=5, batch_size=4, patience=None, loss_fn=_mean_of_values, device="cpu",
        progress="log")
    lines = [line for line in capsys.readouterr().out.splitlines() if ": train loss" in line]
    assert lines == [f"epoch {epoch}: train loss 3.0000, valid loss nan" for epoch in range(1, 6)]


def test_an_empty_validation_set_is_refused_before_training():
    calls = []

    def loss_fn(m, b):
        calls.append(1)
        return m(b[0]).pow(2).mean()

    with pytest.raises(ValueError, match=r"^valid_data is empty: no batch to validate on$"):
        fit(torch.nn.Linear(1, 1), TensorDataset(torch.ones(8, 1)), TensorDataset(torch.zeros(0, 1)),
            batch_size=4, loss_fn=loss_fn, device="cpu", progress=False)
    assert calls == []
