"""The deep chroma paper preset trained to a result with its authors' released recipe (paper Section 5.7.1).

Korzeniowski & Widmer's released configuration (fdlm/chordrec, ``experiments/ismir2016/deep_chroma.yaml``)
trains in two stages: the chroma network (three dense layers of 512 ReLU units, dropout 0.5,
15 frames, 12 sigmoid outputs) with Adam at learning rate 1e-4, an L2 penalty of 1e-4 on the
weights, batches of 512, early stopping after 20 epochs without a better validation loss, at most
500 epochs, no augmentation; then the chord classifier (logistic regression on the chroma) with
Adam at 1e-3 and the same penalty, batch size, patience and limit. The released chord stage stops
on validation accuracy; here both stages stop on validation loss (``mirbook.train.fit``).

Data: the deep chroma chapter's splits with ``PRESET = "paper"`` (seed 0: 48 synthetic and 48 real
training pieces, 8 + 24 validation, 16 + 40 test, 30 s each), read through the paper preset's
frontend (44.1 kHz, 10 frames per second, 178 CQT bins from 30 Hz). The smoothing of the chord
posteriors is chosen on validation, separately for each world, from the chapter's grid; the test
songs are scored once, and each test song's seconds of chords matched and comparable are kept, so
that the comparison page can set this preset beside the chapter's seed-0 record
(``mirbook/results/model_comparison.json``, the ``cpu`` preset and recipe), which holds out the
same songs, in a paired comparison.

Runs on a CPU in tens of minutes (one torch thread); stage one's weights are kept in the cache
folder, so an interrupted run restarts at stage two. Writes ``mirbook/results/paper_preset.json``.

Run: ``python benchmarks/paper_preset.py [--epochs 500] [--songs 48 8 16] [--output PATH]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from torch.utils.data import ConcatDataset

from mirbook.data.cache import content_hash, default_cache_dir
from mirbook.data.datasets import ChordFrames
from mirbook.io import write_atomically
from mirbook.models import MODELS, count_parameters
from mirbook.evaluate import chord_song_seconds, evaluate_chords
from mirbook.records import environment, file_sha256, git_state, package_sha256
from mirbook.runtime import seed_everything
from mirbook.scoring import chord_model_estimates, score_chord_model
from mirbook.train import fit, load_checkpoint, save_checkpoint

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "mirbook" / "results" / "paper_preset.json"

#: The released recipe, stage by stage (fdlm/chordrec experiments/ismir2016/deep_chroma.yaml).
RECIPE = {"chroma": {"lr": 1e-4, "l2": 1e-4, "batch_size": 512, "patience": 20, "epochs": 500},
          "chords": {"lr": 1e-3, "l2": 1e-4, "batch_size": 512, "patience": 20, "epochs": 500}}
SEED = 0
SONGS = {"train": 48, "valid": 8, "test": 16}
OUT_OF_WORLD = {"train": 48, "valid": 24, "test": 40}
SMOOTHS = (1, 3, 5, 7, 9, 11, 13, 15, 21, 31)  # the chapter's grid, in frames


def stage_loss(stage: str, l2: float):
    """The loss of one stage: chroma binary cross-entropy or chord cross-entropy, plus ``l2`` times
    the sum of squared weights (not biases, not the input normalisation) of the layers it trains."""
    import torch.nn.functional as F

    from mirbook.vocab import IGNORE_CHORD

    def weights(model):
        if stage == "chords":
            return [model.chord_classifier.weight]
        return [p for name, p in model.named_parameters()
                if name.endswith("weight") and not name.startswith(("input_norm", "chord_classifier"))
                and p.dim() > 1]

    def loss(model, batch):
        x, chroma, label = batch
        out = model(x)
        known = label != IGNORE_CHORD
        penalty = l2 * sum((w ** 2).sum() for w in weights(model))
        if not known.any():
            return penalty
        if stage == "chroma":
            data = F.binary_cross_entropy_with_logits(out.chroma[known, :, 0], chroma[known].float())
        else:
            data = F.cross_entropy(out.chords[known, :, 0], label[known].long())
        return data + penalty

    return loss


def load_splits(model, songs: dict, out_of_world: dict) -> dict:
    frontend = model.frontend()

    def frames(split, source, n):
        return ChordFrames(split, n_songs=n, seed=0, frontend=frontend, context=model.context, source=source,
                           duration=30.0)

    return {split: {"world": frames(split, "synthetic", songs[split]),
                    "real": frames(split, "out_of_world", out_of_world[split])} for split in songs}


def train(model, splits: dict, recipe: dict, work: Path) -> dict:
    """Both stages; stage one's result is reused from ``work`` when present (restart)."""
    train_data = ConcatDataset([splits["train"]["world"], splits["train"]["real"]])
    valid_data = ConcatDataset([splits["valid"]["world"], splits["valid"]["real"]])
    histories = {}
    for stage in ("chroma", "chords"):
        step = recipe[stage]
        done = work / f"{stage}.pt"
        if done.is_file():
            restored, histories[stage] = load_checkpoint(done)
            model.load_state_dict(restored.state_dict())
            print(f"stage {stage}: restored from {done}", flush=True)
            continue
        t0 = time.perf_counter()
        history = fit(model, train_data, valid_data, epochs=step["epochs"], batch_size=step["batch_size"],
                      lr=step["lr"], patience=step["patience"], seed=SEED, device="cpu",
                      loss_fn=stage_loss(stage, step["l2"]), progress="log")
        history["train_seconds"] = time.perf_counter() - t0
        save_checkpoint(done, model, history=history)
        histories[stage] = history
    return histories


def score(model, splits: dict) -> dict:
    """Per world: smoothing chosen on validation, the test scores at that smoothing and the test songs'
    majmin seconds matched and comparable (``mirbook.evaluate.chord_song_seconds``)."""
    result = {}
    for world in ("world", "real"):
        valid = {s: score_chord_model(model, splits["valid"][world], smooth=s)["majmin"] for s in SMOOTHS}
        smooth = max(valid, key=valid.get)
        chords = chord_model_estimates(model, splits["test"][world], smooth=smooth)
        result[world] = {"smooth": smooth, "valid_majmin_wcsr": valid,
                         "test": {k: float(v) for k, v in evaluate_chords(*chords).items()},
                         "test_song_seconds": chord_song_seconds(*chords).tolist()}
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--epochs", type=int, default=500, help="most epochs per stage (a quick check: 2)")
    parser.add_argument("--songs", type=int, nargs=3, metavar=("TRAIN", "VALID", "TEST"),
                        help="synthetic and real pieces per split (a quick check only)")
    args = parser.parse_args(argv)
    recipe = {stage: {**step, "epochs": args.epochs} for stage, step in RECIPE.items()}
    songs = dict(zip(SONGS, args.songs)) if args.songs else SONGS
    out_of_world = dict(zip(OUT_OF_WORLD, args.songs)) if args.songs else OUT_OF_WORLD

    torch.set_num_threads(1)
    seed_everything(SEED)
    model = MODELS["deep_chroma"].from_preset("paper")
    settings = {"recipe": recipe, "seed": SEED, "songs": songs, "out_of_world": out_of_world,
                "config": model.config, "smooths": SMOOTHS}
    work = default_cache_dir() / "paper_preset" / content_hash({**settings, "benchmark": file_sha256(__file__)})
    splits = load_splits(model, songs, out_of_world)
    for split, worlds in splits.items():
        print(f"{split}: " + ", ".join(f"{w} {d.n_songs} pieces, {len(d)} frames" for w, d in worlds.items()),
              flush=True)
    histories = train(model, splits, recipe, work)
    scores = score(model, splits)
    record = {"model": "deep_chroma", "preset": "paper", "settings": settings, "parameters": count_parameters(model),
              "histories": histories, "scores": scores,
              "benchmark_sha256": file_sha256(__file__), "package_sha256": package_sha256(),
              **git_state([ROOT / "mirbook", Path(__file__).resolve()], root=ROOT), **environment()}
    record["machine"]["torch_threads"] = torch.get_num_threads()
    write_atomically(args.output, (json.dumps(record, indent=1, sort_keys=True) + "\n").encode())
    for world, s in scores.items():
        print(f"{world}: smoothing {s['smooth']}, test majmin WCSR {s['test']['majmin']:.3f}")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
