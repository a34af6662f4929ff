"""The tagger parameter-budget benchmark: widths for a budget, resuming, and the shipped records."""

import inspect
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from mirbook.data import TAG_NAMES
from mirbook.models import MODELS, count_parameters
from mirbook.models.summary import widths_for_budget
from mirbook.records import decode_floats, load_budget_records

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import tagger_budgets as tb


def _mlp(*, hidden=(10,)):
    """10 inputs -> hidden -> 1 output: 10 h + h + h + 1 = 12 h + 1 parameters for one hidden layer."""
    layers, width = [], 10
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    return nn.Sequential(*layers, nn.Linear(width, 1))


def test_widths_for_budget_scales_every_width_by_one_factor_to_the_budget():
    assert widths_for_budget(_mlp, {"hidden": (10,)}, 1201) == {"hidden": (100,)}  # 12 x 100 + 1
    widths = widths_for_budget(_mlp, {"hidden": (8, 4)}, 5000)
    (a, b), = widths.values()
    assert b / a == pytest.approx(0.5, abs=0.02)  # the shape is kept
    assert abs(count_parameters(_mlp(**widths)) - 5000) <= 500


def test_widths_for_budget_says_when_the_budget_cannot_be_met():
    with pytest.raises(ValueError, match="more than 1% away from 1,500"):  # 1001 parameters per unit of width
        widths_for_budget(lambda **w: nn.Linear(1000, w["width"]), {"width": 1}, 1500, tolerance=0.01)
    with pytest.raises(ValueError, match="cannot reach"):
        widths_for_budget(_mlp, {"hidden": (10,)}, 5)
    with pytest.raises(ValueError, match="positive int"):
        widths_for_budget(_mlp, {"hidden": (10,)}, 0)


@pytest.mark.parametrize("name", list(tb.WIDTH_OPTIONS))
def test_preset_widths_are_the_chapter_presets(name):
    widths = tb.preset_widths(name)
    defaults = inspect.signature(MODELS[name]).parameters
    assert widths == {option: defaults[option].default for option in tb.WIDTH_OPTIONS[name]}
    preset = MODELS[name].from_preset("cpu", tag_names=TAG_NAMES)
    assert count_parameters(MODELS[name].from_preset("cpu", tag_names=TAG_NAMES, **widths)) == \
        count_parameters(preset)


@pytest.mark.parametrize("name", list(tb.WIDTH_OPTIONS))
@pytest.mark.parametrize("budget", tb.SETTINGS["budgets"])
def test_every_tagger_is_sized_to_each_budget_within_the_tolerance(name, budget):
    widths = tb.budget_widths(name, budget, list(TAG_NAMES), tb.SETTINGS["tolerance"])
    model = MODELS[name].from_preset("cpu", tag_names=TAG_NAMES, **widths)
    assert abs(count_parameters(model) - budget) <= 0.1 * budget
    model(torch.zeros(2, model.n_bins, 215))  # a 10-s clip goes through


class _Clips(torch.utils.data.Dataset):
    def __init__(self):
        self.tag_names = ["a", "b"]

    def __len__(self):
        return 3

    def __getitem__(self, i):
        return torch.zeros(4, 5), torch.tensor([1.0, float(i % 2)]), torch.tensor(i)


def _fake_run(calls):
    def train_run(name, budget, seed, lr, splits, settings):
        calls.append((name, budget, seed, lr))
        score = {1e-3: 0.6, 3e-3: 0.8, 1e-2: 0.7}[lr] + 0.01 * len(name)
        return {"model": name, "budget": budget, "seed": seed, "lr": lr, "parameters": budget, "best_epoch": 1,
                "train_seconds": 1.0, "metrics": {"roc_auc_macro": 0.5, "key_weighted": 0.5},
                "valid_metrics": {"roc_auc_macro": score}}
    return train_run


def test_an_interrupted_benchmark_resumes_and_a_changed_one_starts_again(tmp_path, monkeypatch):
    now = {"dirty": False, "package_sha256": "p", "benchmark_sha256": "b", "commit": "c",
           "versions": {"generator": 1, "representations": 1, "torch": "t", "numpy": "n"},
           "machine": {"cpu_model": "cpu", "torch_threads": 1, "load_average_1min": 0.0}}
    calls = []
    monkeypatch.setattr(tb, "provenance", lambda: json.loads(json.dumps(now)))
    monkeypatch.setattr(tb, "load_splits", lambda settings: {s: _Clips() for s in ("train", "valid", "test")})
    monkeypatch.setattr(tb, "train_run", _fake_run(calls))
    output = tmp_path / "budgets.json"
    tb.main(["--output", str(output)])
    models, budgets, seeds = tb.SETTINGS["models"], tb.SETTINGS["budgets"], tb.SETTINGS["seeds"]
    lrs = tb.SETTINGS["learning_rates"]
    # the choice: every rate at the middle budget with seed 0; then the chosen one (3e-3) everywhere,
    # its seed-0 middle-budget runs reused
    assert len(calls) == len(models) * len(lrs) + len(models) * len(budgets) * len(seeds) - len(models)
    table = json.loads(output.read_text())
    assert table["chosen_lr"] == 3e-3
    assert table["test_set"] == {"tag_names": ["a", "b"], "tags": ["10", "11", "10"],
                                 "keys": ["C major", "C# major", "D major"]}
    # an interrupted run: drop two records and run again; only those two are trained
    del table["runs"][tb.run_key(models[0], budgets[0], seeds[-1], 3e-3)]
    del table["runs"][tb.run_key(models[1], budgets[-1], seeds[-1], 3e-3)]
    output.write_text(json.dumps(table))
    calls.clear()
    tb.main(["--output", str(output)])
    assert sorted(calls) == sorted([(models[0], budgets[0], seeds[-1], 3e-3),
                                    (models[1], budgets[-1], seeds[-1], 3e-3)])
    # other package code: every run is made again
    now["package_sha256"] = "q"
    calls.clear()
    tb.main(["--output", str(output)])
    assert len(calls) == len(models) * len(lrs) + len(models) * len(budgets) * len(seeds) - len(models)


def test_a_run_is_current_only_with_the_same_code_versions_and_machine_from_committed_code():
    run = {"dirty": False, "package_sha256": "p", "benchmark_sha256": "b",
           "versions": {"generator": 1, "representations": 1, "torch": "t", "numpy": "n"},
           "machine": {"cpu_model": "cpu", "torch_threads": 1}}
    assert tb.is_current(run, run)
    assert not tb.is_current({**run, "dirty": True}, run)
    assert not tb.is_current({**run, "benchmark_sha256": "other"}, run)
    assert not tb.is_current({**run, "machine": {"cpu_model": "cpu", "torch_threads": 2}}, run)
    assert not tb.is_current({k: v for k, v in run.items() if k != "package_sha256"}, run)


# -- the shipped records (mirbook/results/tagger_budgets.json) ----------------------------------------

@pytest.fixture(scope="module")
def shipped():
    return load_budget_records()


def test_the_records_hold_three_models_at_three_budgets_with_three_seeds(shipped):
    settings = shipped["settings"]
    assert settings["models"] == ["conv1d_tagger", "conv2d_tagger", "crnn_tagger"]
    assert len(settings["budgets"]) == 3 and settings["seeds"] == [0, 1, 2]
    lr = shipped["chosen_lr"]
    for name in settings["models"]:
        for budget in settings["budgets"]:
            for seed in settings["seeds"]:
                run = shipped["runs"][tb.run_key(name, budget, seed, lr)]
                assert abs(run["parameters"] - budget) <= settings["tolerance"] * budget
                assert run["epochs"] == settings["epochs"] and not run["dirty"]
                assert run["machine"]["torch_threads"] == 1


def test_the_stored_test_outputs_give_the_recorded_scores(shipped):
    test = shipped["test_set"]
    targets = np.array([[int(c) for c in row] for row in test["tags"]])
    usable = [t for t in range(targets.shape[1]) if 0 < targets[:, t].sum() < len(targets)]
    for key, run in shipped["runs"].items():
        scores = decode_floats(run["test_tag_probabilities"], targets.shape)
        macro = np.mean([roc_auc_score(targets[:, t], scores[:, t]) for t in usable])
        assert macro == pytest.approx(run["metrics"]["roc_auc_macro"], abs=1e-12), key
        accuracy = np.mean([a == b for a, b in zip(run["test_key_estimates"], test["keys"])])
        assert accuracy == pytest.approx(run["metrics"]["key_accuracy"], abs=1e-12), key


def test_the_learning_rate_is_the_best_on_validation(shipped):
    settings, runs = shipped["settings"], shipped["runs"]
    choice = settings["choice"]
    means = {lr: np.mean([runs[tb.run_key(n, choice["budget"], choice["seed"], lr)]["valid_metrics"]["roc_auc_macro"]
                          for n in settings["models"]]) for lr in settings["learning_rates"]}
    assert shipped["chosen_lr"] == max(means, key=means.get)
