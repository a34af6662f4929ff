"""The three taggers of Section 5.7.2 at equal parameter budgets, with equal training.

The paper quotes Choi et al. (2017): at an equal number of parameters the CRNN tags better than
the Conv1d and Conv2d networks. The book's CPU presets differ in size and epochs, so their chapter
numbers cannot test that. This benchmark trains ``Conv1dTagger``, ``Conv2dTagger`` and
``CRNNTagger`` (``mirbook.models.taggers``) at three parameter budgets, each model's CPU preset
with all its layer widths scaled by one factor (``mirbook.models.summary.widths_for_budget``) to
within 10 % of the budget, on the tagger chapters' synthetic clips and splits (480 / 64 / 96
songs, one 10-s clip of a 15-s song each), with one training recipe for all: Adam, batch 32,
the same number of epochs, the learning rate falling along half a cosine, the weights of the
epoch with the lowest validation loss kept (``mirbook.train.fit``). Each model keeps its preset's
tag weight, input normalisation and transposition augmentation.

The learning rate is the one choice made here, on validation only and the same for all models:
each model is trained with seed 0 at the middle budget with every rate of ``LEARNING_RATES``, and
the rate with the highest validation macro ROC-AUC averaged over the three models is used for
every run (its seed-0 middle-budget runs are the ones of the choice). The number of epochs is set
by the time the whole benchmark may take (about an hour on two shared cores).

A seed varies the initial weights, the order of the training batches and the random
transpositions; the songs and splits stay those of data seed 0. Each run records its size, test
macro ROC-AUC and PR-AUC, mir_eval key scores, training time, the trained weights' hash, the
per-clip test tag probabilities and key estimates (for the paired tests of ``mirbook.intervals`` on the
comparison page) and where it comes from (``mirbook.records``: commit, dirty flag, package hash,
this file's hash, versions, CPU, torch threads). One torch thread per run. Results go to
``mirbook/results/tagger_budgets.json`` (package data, written atomically after every run;
``benchmarks/results/tagger_budgets.json`` links to it). A run already in the file with the
current settings and provenance is skipped, so an interrupted benchmark resumes where it stopped.

Run: ``python benchmarks/tagger_budgets.py`` (about an hour on two cores).
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import time
from pathlib import Path

import torch

from mirbook.data.datasets import TaggedClips
from mirbook.evaluate import evaluate_tags
from mirbook.io import write_atomically
from mirbook.models import MODELS, count_parameters
from mirbook.models.summary import widths_for_budget
from mirbook.records import (
    encode_floats,
    environment,
    file_sha256,
    git_state,
    package_sha256,
    state_sha256,
)
from mirbook.runtime import seed_everything
from mirbook.scoring import score_tagger
from mirbook.train import fit
from mirbook.vocab import KEY_LABELS

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "mirbook" / "results" / "tagger_budgets.json"

#: The width options each tagger's CPU preset scales (their defaults are the preset's widths).
WIDTH_OPTIONS = {"conv1d_tagger": ("channels", "dense"), "conv2d_tagger": ("channels",),
                 "crnn_tagger": ("channels", "rnn_hidden")}
SETTINGS = {
    "models": list(WIDTH_OPTIONS),
    "budgets": [25_000, 100_000, 400_000],
    "seeds": [0, 1, 2],
    "epochs": 20,
    "batch_size": 32,
    "schedule": "cosine",
    "learning_rates": [1e-3, 3e-3, 1e-2],
    "choice": {"budget": 100_000, "seed": 0, "by": "validation macro ROC-AUC, mean over models"},
    "tolerance": 0.1,
    "n_songs": {"train": 480, "valid": 64, "test": 96},
    "data": {"source": "synthetic", "duration": 15.0, "clip_seconds": 10.0, "clips_per_song": 1, "seed": 0},
    "seed_varies": "initial weights, batch order and random transpositions (songs fixed by data seed 0)",
}
#: Provenance fields that must equal the current ones for a stored run to be reused.
SAME = (("package_sha256",), ("benchmark_sha256",), ("versions", "generator"), ("versions", "representations"),
        ("versions", "torch"), ("versions", "numpy"), ("machine", "cpu_model"), ("machine", "torch_threads"))


def preset_widths(name: str) -> dict:
    """The widths of ``name``'s CPU preset: the defaults of its width options."""
    defaults = inspect.signature(MODELS[name]).parameters
    return {option: defaults[option].default for option in WIDTH_OPTIONS[name]}


def budget_widths(name: str, budget: int, tag_names: list[str], tolerance: float) -> dict:
    """The CPU preset's widths scaled by one factor to ``budget`` parameters (within ``tolerance``)."""
    def build(**widths):
        return MODELS[name].from_preset("cpu", tag_names=tag_names, **widths)
    return widths_for_budget(build, preset_widths(name), budget, tolerance=tolerance)


def load_splits(settings: dict) -> dict[str, TaggedClips]:
    """The tagger chapters' synthetic splits, with the CPU presets' shared frontend."""
    frontend = MODELS["crnn_tagger"].from_preset("cpu", n_tags=1).frontend()
    return {split: TaggedClips(split, n_songs=settings["n_songs"][split], frontend=frontend, progress=False,
                               **settings["data"])
            for split in ("train", "valid", "test")}


def test_set(test: TaggedClips) -> dict:
    """The test clips' tag names, multi-hot tags (one '0'/'1' string per clip) and reference keys."""
    tags, keys = [], []
    for i in range(len(test)):
        _, hot, key = test[i]
        tags.append("".join(str(int(v)) for v in hot.tolist()))
        keys.append(KEY_LABELS[int(key)])
    return {"tag_names": list(test.tag_names), "tags": tags, "keys": keys}


def test_outputs(model, test: TaggedClips) -> tuple[dict, torch.Tensor, list[str]]:
    """``score_tagger``'s test scores with the tag probabilities and key estimates it scored, clip by clip."""
    tags, keys = [], []

    def keep(module, inputs, out):  # returns None, so the output goes on unchanged
        tags.append(torch.sigmoid(out.tags).cpu())  # as score_tagger scores them (float32 ties included)
        keys.append(out.key.argmax(1).cpu())
    hook = model.register_forward_hook(keep)
    try:
        result = score_tagger(model, test)
    finally:
        hook.remove()
    probabilities, estimates = torch.cat(tags), [KEY_LABELS[k] for k in torch.cat(keys).tolist()]
    targets = torch.stack([test[i][1] for i in range(len(test))])
    again = evaluate_tags(targets, probabilities, tag_names=test.tag_names)["ROC-AUC"]
    if abs(again - result["ROC-AUC"]) > 1e-9:  # the hook saw what score_tagger scored
        raise RuntimeError(f"captured outputs give ROC-AUC {again}, score_tagger {result['ROC-AUC']}")
    return result, probabilities, estimates


def train_run(name: str, budget: int, seed: int, lr: float, splits: dict, settings: dict) -> dict:
    """Train one tagger at one budget with one seed and learning rate; its record without provenance."""
    train, valid, test = splits["train"], splits["valid"], splits["test"]
    widths = budget_widths(name, budget, train.tag_names, settings["tolerance"])
    seed_everything(seed)
    model = MODELS[name].from_preset("cpu", tag_names=train.tag_names, **widths)
    if name != "conv1d_tagger":
        model = model.to(memory_format=torch.channels_last)  # same numbers, faster 2-D convolutions on a CPU
    start = time.perf_counter()
    history = fit(model, train, valid, epochs=settings["epochs"], batch_size=settings["batch_size"], lr=lr,
                  patience=None, schedule=settings["schedule"], seed=seed, device="cpu", progress=False)
    train_seconds = time.perf_counter() - start
    validation = score_tagger(model, valid)
    result, probabilities, key_estimates = test_outputs(model, test)
    return {"model": name, "budget": budget, "seed": seed, "lr": lr, "widths": widths,
            "parameters": count_parameters(model), "epochs": len(history["epoch"]),
            "best_epoch": history["best_epoch"], "train_seconds": round(train_seconds, 2),
            "metrics": {"roc_auc_macro": result["ROC-AUC"], "pr_auc_macro": result["PR-AUC"],
                        "key_weighted": result["Key Weighted Score"], "key_accuracy": result["Key Correct"]},
            "valid_metrics": {"roc_auc_macro": validation["ROC-AUC"],
                              "key_weighted": validation["Key Weighted Score"]},
            "test_tag_probabilities": encode_floats(probabilities.numpy()), "test_key_estimates": key_estimates,
            "state_sha256": state_sha256(model)}


def run_key(name: str, budget: int, seed: int, lr: float) -> str:
    """The key of a run in the records: ``"crnn_tagger 100000 0 0.003"``."""
    return f"{name} {budget} {seed} {lr:g}"


def provenance() -> dict:
    """Where the runs of this invocation come from (``mirbook.records``)."""
    record = {"benchmark_sha256": file_sha256(__file__), "package_sha256": package_sha256(),
              **git_state([ROOT / "mirbook", Path(__file__).resolve()], root=ROOT), **environment()}
    record["machine"]["torch_threads"] = torch.get_num_threads()
    return record


def is_current(run: dict, now: dict) -> bool:
    """Whether a stored run was made from committed code with the same code, versions and machine."""
    def get(record, path):
        for part in path:
            record = record.get(part, {}) if isinstance(record, dict) else {}
        return record
    return not run.get("dirty", True) and all(get(run, path) == get(now, path) for path in SAME)


def choose_lr(runs: dict, settings: dict) -> float:
    """The learning rate with the highest validation macro ROC-AUC, averaged over the models."""
    choice = settings["choice"]

    def mean_valid(lr):
        keys = [run_key(name, choice["budget"], choice["seed"], lr) for name in settings["models"]]
        return sum(runs[k]["valid_metrics"]["roc_auc_macro"] for k in keys) / len(keys)
    return max(settings["learning_rates"], key=mean_valid)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--epochs", type=int, default=SETTINGS["epochs"], help="a quick check only")
    parser.add_argument("--songs", type=int, nargs=3, metavar=("TRAIN", "VALID", "TEST"),
                        help="songs per split, a quick check only")
    args = parser.parse_args(argv)
    settings = json.loads(json.dumps(SETTINGS))
    settings["epochs"] = args.epochs
    if args.songs:
        settings["n_songs"] = dict(zip(("train", "valid", "test"), args.songs))

    torch.set_num_threads(1)  # one thread per run, as the tagger chapters train on a CPU
    now = provenance()
    splits = load_splits(settings)
    table = json.loads(args.output.read_text()) if args.output.exists() else {}
    same_setup = table.get("settings") == settings and table.get("test_set") == test_set(splits["test"])
    runs = {k: r for k, r in table.get("runs", {}).items() if same_setup and is_current(r, now)}
    table = {"settings": settings, "test_set": test_set(splits["test"]), "runs": runs}
    print(f"{len(runs)} current runs in {args.output}", flush=True)

    def run(name, budget, seed, lr):
        key = run_key(name, budget, seed, lr)
        if key in runs:
            return
        record = {**train_run(name, budget, seed, lr, splits, settings), **provenance()}
        runs[key] = record
        m = record["metrics"]
        print(f"{key}: {record['parameters']:,} parameters, ROC-AUC {m['roc_auc_macro']:.3f}, key "
              f"{m['key_weighted']:.3f}, valid ROC-AUC {record['valid_metrics']['roc_auc_macro']:.3f}, "
              f"best epoch {record['best_epoch']}, {record['train_seconds']:.0f} s, load "
              f"{record['machine']['load_average_1min']}", flush=True)
        write_atomically(args.output, (json.dumps(table, indent=1, sort_keys=True) + "\n").encode())

    choice = settings["choice"]
    for lr in settings["learning_rates"]:
        for name in settings["models"]:
            run(name, choice["budget"], choice["seed"], lr)
    lr = table["chosen_lr"] = choose_lr(runs, settings)
    print(f"learning rate chosen on validation: {lr:g}", flush=True)
    for seed in settings["seeds"]:
        for budget in settings["budgets"]:
            for name in settings["models"]:
                run(name, budget, seed, lr)
    write_atomically(args.output, (json.dumps(table, indent=1, sort_keys=True) + "\n").encode())
    print(f"wrote {args.output}")


if __name__ == "__main__":
    sys.exit(main())
