"""Tests of mirbook.train: the fit loop (learning, early stopping, seeding) and checkpoints."""

import math
import os

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from mirbook.models import MODELS
from mirbook.io import write_atomically
from mirbook.train import evaluate_loss, fit, load_checkpoint, save_checkpoint


def _voice_data(model, n=32, frames=24, seed=0):
    """Voicing that a BRNN can learn: a frame is voiced when bin 3 of the input is positive."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, model.n_bins, frames, generator=g)
    return TensorDataset(x, (x[:, 3] > 0).float())


def _small_brnn(seed=0):
    """A fixed, seeded r1-d1 network: these tests are about the fit loop, not about a preset."""
    torch.manual_seed(seed)
    return MODELS["brnn_voice"](hidden=(24,), deltas=False)


def test_fit_learns_and_returns_a_plottable_history():
    model = _small_brnn()
    train, valid = _voice_data(model, n=96), _voice_data(model, n=16, seed=1)
    before = evaluate_loss(model, valid)
    history = fit(model, train, valid, epochs=5, batch_size=8, lr=1e-2, patience=None,
                  progress=False)
    assert set(history) == {"epoch", "train_loss", "valid_loss", "seconds", "best_epoch"}
    assert history["epoch"] == list(range(1, 6))
    assert len(history["train_loss"]) == len(history["valid_loss"]) == len(history["seconds"]) == 5
    assert min(history["valid_loss"]) < before / 4
    # the best weights are the ones left in the model
    assert evaluate_loss(model, valid) == pytest.approx(min(history["valid_loss"]), rel=1e-5)


def test_early_stopping_restores_the_best_epoch():
    """With lr=0 and frozen batch-norm statistics nothing improves after epoch 1: stop after 1 + patience."""
    model = _small_brnn()
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm1d):
            module.momentum = 0.0  # running statistics stay as they are
    history = fit(model, _voice_data(model), _voice_data(model, seed=1), epochs=20, lr=0.0, patience=2,
                  progress=False)
    assert history["epoch"] == [1, 2, 3] and history["best_epoch"] == 1


def test_fit_is_repeatable_with_a_seed_and_accepts_loaders_and_custom_losses():
    histories = []
    for _ in range(2):
        torch.manual_seed(3)  # the initial weights; fit seeds the batch order and dropout itself
        model = MODELS["brnn_voice"].from_preset("cpu")
        histories.append(fit(model, _voice_data(model), epochs=2, batch_size=8, seed=5, progress=False))
    assert histories[0]["train_loss"] == histories[1]["train_loss"]
    assert math.isnan(histories[0]["valid_loss"][0])  # no validation data
    model = MODELS["brnn_voice"].from_preset("cpu")
    calls = []

    def loss_fn(m, batch):
        calls.append(len(batch[0]))
        return m.loss(batch)

    fit(model, DataLoader(_voice_data(model, n=12), batch_size=4), epochs=1, loss_fn=loss_fn, progress=False)
    assert calls == [4, 4, 4]


def test_fit_rejects_bad_arguments():
    model = MODELS["brnn_voice"].from_preset("cpu")
    empty = TensorDataset(torch.zeros(0, model.n_bins, 5), torch.zeros(0, 5))
    with pytest.raises(ValueError, match="train_data is empty"):
        fit(model, empty, progress=False)
    with pytest.raises(ValueError, match="Dataset or DataLoader"):
        fit(model, [1, 2, 3], progress=False)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, _voice_data(model), epochs=0, progress=False)
    with pytest.raises(ValueError, match="patience"):
        fit(model, _voice_data(model), patience=0, progress=False)
    with pytest.raises(ValueError, match="schedule must be"):
        fit(model, _voice_data(model), schedule="linear", progress=False)


def test_cosine_schedule_shrinks_the_steps_to_nothing():
    """Adam's steps are about lr long: with the cosine schedule the last one is far shorter than the first."""
    steps = {}
    for schedule in ("constant", "cosine"):
        model = _small_brnn()
        snapshots = []

        def loss_fn(m, batch):
            snapshots.append(torch.cat([p.detach().flatten().clone() for p in m.parameters()]))
            return m.loss(batch)

        fit(model, _voice_data(model), epochs=3, batch_size=8, lr=1e-2, patience=None, loss_fn=loss_fn,
            schedule=schedule, progress=False)
        moves = [(b - a).abs().mean().item() for a, b in zip(snapshots, snapshots[1:])]
        steps[schedule] = moves[-1] / moves[0]
    assert steps["constant"] > 0.2
    assert steps["cosine"] < 0.05


@pytest.mark.parametrize("name", list(MODELS))
def test_checkpoint_round_trip_gives_identical_outputs(name, tmp_path):
    torch.manual_seed(0)
    options = {"tag_names": ["a", "b", "c"]} if "tagger" in name else {}
    model = MODELS[name].from_preset("cpu", **options)
    # move batch-norm statistics away from their initial values so they are checked too
    model.train()
    x = torch.randn(4, model.n_bins, max(model.min_frames, 16) + 8)
    with torch.no_grad():
        model(x)
    model.eval()
    path = save_checkpoint(tmp_path / "ckpt" / "model.pt", model, history={"train_loss": [1.0, 0.5]})
    loaded, history = load_checkpoint(path)
    assert type(loaded) is type(model) and not loaded.training
    assert history == {"train_loss": [1.0, 0.5]}
    assert loaded.config == model.config
    with torch.no_grad():
        for a, b in zip(torch.utils._pytree.tree_leaves(model(x)), torch.utils._pytree.tree_leaves(loaded(x))):
            assert torch.equal(a, b)
    assert os.listdir(path.parent) == ["model.pt"]  # no temporary file left behind


def test_fit_writes_the_best_checkpoint(tmp_path):
    model = MODELS["brnn_voice"].from_preset("cpu")
    history = fit(model, _voice_data(model), _voice_data(model, seed=1), epochs=3, lr=1e-2,
                  checkpoint=tmp_path / "best.pt", progress=False)
    loaded, saved_history = load_checkpoint(tmp_path / "best.pt")
    assert saved_history["best_epoch"] == history["best_epoch"]
    for key, value in model.state_dict().items():  # fit may have trained on a GPU; the checkpoint loads on the CPU
        assert torch.equal(value.cpu(), loaded.state_dict()[key])


def test_load_checkpoint_rejects_other_files(tmp_path):
    with pytest.raises(ValueError, match="no checkpoint file"):
        load_checkpoint(tmp_path / "missing.pt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a mirbook checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(ValueError, match="MODELS"):
        save_checkpoint(tmp_path / "x.pt", torch.nn.Linear(2, 2))


def test_write_atomically_replaces_whole_files(tmp_path):
    path = tmp_path / "a" / "file.bin"
    write_atomically(path, b"first")
    write_atomically(path, b"second")
    assert path.read_bytes() == b"second" and os.listdir(path.parent) == ["file.bin"]


def test_progress_output_stays_short_for_long_runs(capsys):
    """Hundreds of short epochs must not flood a notebook: at most about 25 epoch lines."""
    model = _small_brnn()
    fit(model, _voice_data(model, n=8), _voice_data(model, n=8, seed=1), epochs=60, batch_size=8, patience=None)
    out = capsys.readouterr()
    lines = [line for line in (out.out + out.err).splitlines() if ": train loss" in line]
    assert 20 <= len(lines) <= 26
    assert lines[0].startswith("epoch 1:") and lines[-1].startswith("epoch 60:")


def test_fit_returns_the_best_epoch_when_validation_gets_worse():
    """A line learns y = x while validation asks for y = -x: every epoch makes validation worse, so
    epoch 1 is the best and fit must hand back its weights (a copy, not the live, later weights)."""
    g = torch.Generator().manual_seed(0)
    x, x_valid = torch.randn(32, 1, generator=g), torch.randn(16, 1, generator=g)
    train, valid = TensorDataset(x, x), TensorDataset(x_valid, -x_valid)
    options = {"batch_size": 8, "lr": 0.05, "device": "cpu", "progress": False,
               "loss_fn": lambda m, b: torch.nn.functional.mse_loss(m(b[0]), b[1])}

    def line():
        torch.manual_seed(0)
        return torch.nn.Linear(1, 1)

    model = line()
    history = fit(model, train, valid, epochs=4, patience=None, **options)
    losses = history["valid_loss"]
    assert all(a < b for a, b in zip(losses, losses[1:])), losses  # the premise: rising after epoch 1
    assert history["best_epoch"] == 1
    assert evaluate_loss(model, valid, loss_fn=options["loss_fn"], device="cpu") == pytest.approx(losses[0])
    # the same weights as training for one epoch only (fit seeds the batch order the same way)
    once = line()
    fit(once, train, epochs=1, **options)
    for key, value in once.state_dict().items():
        torch.testing.assert_close(model.state_dict()[key], value)


def test_evaluate_loss_weighs_batches_by_their_size():
    """Losses 0, 0, 0, 0 | 10 in batches of 4: the mean over examples is 2.0 (a mean of batch means: 5.0)."""
    data = TensorDataset(torch.tensor([0.0, 0.0, 0.0, 0.0, 10.0]))
    mean = evaluate_loss(torch.nn.Linear(1, 1), data, batch_size=4, device="cpu", loss_fn=lambda m, b: b[0].mean())
    assert mean == pytest.approx(2.0)


def test_fit_shuffles_the_batches_by_its_seed():
    """The same seed gives the same batch order; another seed another order (16! orders: no coincidence)."""
    data = TensorDataset(torch.arange(16.0)[:, None])

    def order(seed):
        seen = []

        def loss_fn(m, batch):
            seen.extend(batch[0][:, 0].tolist())
            return m(batch[0]).mean()

        fit(torch.nn.Linear(1, 1), data, epochs=2, batch_size=4, seed=seed, loss_fn=loss_fn, device="cpu",
            progress=False)
        return seen

    first = order(1)
    assert sorted(first[:16]) == sorted(first[16:]) == list(range(16))  # every example once per epoch
    assert first[:16] != first[16:]  # a new order each epoch
    assert order(1) == first
    assert order(2) != first and order(3) != first


def _epoch_lines(text):
    return [line for line in text.splitlines() if ": train loss" in line]


def test_first_epoch_continues_the_count_and_changes_nothing_else(capsys):
    """A second call with first_epoch=4 numbers its log and history 4, 5, 6; losses equal a plain run's."""
    runs = {}
    for first in (1, 4):
        model = _small_brnn()
        runs[first] = fit(model, _voice_data(model), _voice_data(model, seed=1), epochs=3, batch_size=8,
                          lr=1e-2, patience=None, first_epoch=first)
        runs[first]["log"] = _epoch_lines(capsys.readouterr().out)
    assert runs[4]["epoch"] == [4, 5, 6] and runs[1]["epoch"] == [1, 2, 3]
    assert runs[4]["best_epoch"] == runs[1]["best_epoch"] + 3
    assert runs[4]["train_loss"] == runs[1]["train_loss"] and runs[4]["valid_loss"] == runs[1]["valid_loss"]
    assert [line.split(":")[0] for line in runs[4]["log"]] == ["epoch 4", "epoch 5", "epoch 6"]
    assert [line.split(":", 1)[1] for line in runs[4]["log"]] == [line.split(":", 1)[1] for line in runs[1]["log"]]
    with pytest.raises(ValueError, match="first_epoch"):
        fit(_small_brnn(), _voice_data(_small_brnn()), first_epoch=0, progress=False)


def test_one_progress_display_per_run(capsys):
    """The default log prints epoch lines and no bar; "bar" shows one bar with the losses and no lines."""
    model = _small_brnn()
    data, valid = _voice_data(model, n=16), _voice_data(model, n=8, seed=1)
    fit(model, data, valid, epochs=2, batch_size=8, patience=None)
    log = capsys.readouterr()
    assert len(_epoch_lines(log.out)) == 2 and "batch" not in log.err
    fit(model, data, valid, epochs=2, batch_size=8, patience=None, progress="bar", first_epoch=3)
    bar = capsys.readouterr()
    assert _epoch_lines(bar.out + bar.err) == []
    final = bar.err.replace("\r", "\n").strip().splitlines()[-1]
    assert "epoch 4/4" in final and "train loss" in final and "valid loss" in final and "4/4 [" in final
    fit(model, data, valid, epochs=2, batch_size=8, progress=False)
    quiet = capsys.readouterr()
    assert quiet.out == quiet.err == ""
    with pytest.raises(ValueError, match="progress"):
        fit(model, data, progress="both")
