"""Time per epoch and peak GPU memory of the six models' "paper" presets (paper Section 5.7).

Each model is built with its published configuration (``from_preset("paper")``) and trained for a
few epochs on songs of the book's synthetic world, with the batch size its chapter uses (the
world renders at 16 kHz or more: a preset that reads lower-rate audio, such as the 12 kHz FCN and
CRNN taggers, trains on random features of exactly its input shape instead). The
first epoch (CUDA start-up, cuDNN autotuning) is left out of the time; the result is the median
of the other epochs, also given per 1,000 training examples so a reader can scale it to a real
dataset's size. Peak memory is ``torch.cuda.max_memory_allocated`` over the whole run.

Needs a CUDA GPU. Writes ``mirbook/results/gpu_presets.json`` (or ``--output``): package data that
``mirbook.records.gpu_timing`` reads and the model chapters quote.

Run: ``python benchmarks/gpu_presets.py [--models deep_chroma brnn_voice] [--epochs 3]``
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
from torch.utils.data import TensorDataset

import mirbook
from mirbook.data import TAG_NAMES, ChordFrames, TaggedClips, VoiceExcerpts
from mirbook.io import write_atomically
from mirbook.models import MODELS, count_parameters
from mirbook.train import fit

OUTPUT = Path(__file__).resolve().parents[1] / "mirbook" / "results" / "gpu_presets.json"

#: The chapters' batch sizes and a small synthetic training set for each model.
BATCH_SIZE = {"deep_chroma": 256, "conv2d_voice": 32, "brnn_voice": 32,
              "conv1d_tagger": 32, "conv2d_tagger": 32, "crnn_tagger": 32}


#: The lowest sample rate the synthetic world renders (mirbook.data.render_song).
WORLD_MIN_SAMPLE_RATE = 16000
CLIP_SECONDS = 29.0


def random_clips(model, n: int) -> TensorDataset:
    """``n`` random (features, tags, key) clips of the shape a tagger reads from 29-second audio."""
    g = torch.Generator().manual_seed(n)
    frames = int(CLIP_SECONDS * model.sample_rate) // model.hop_length + 1
    return TensorDataset(torch.randn(n, model.n_bins, frames, generator=g),
                         (torch.rand(n, model.n_tags, generator=g) < 0.2).float(),
                         torch.randint(0, 24, (n,), generator=g))


def datasets(name: str, model, *, n_train: int, n_valid: int, cache_dir: Path):
    """Training and validation sets for model ``name``: synthetic songs read by its frontend."""
    if model.sample_rate < WORLD_MIN_SAMPLE_RATE:
        return random_clips(model, n_train), random_clips(model, n_valid)
    frontend = model.frontend()
    common = dict(frontend=frontend, cache_dir=cache_dir, progress=False)
    if name == "deep_chroma":
        make = lambda split, n: ChordFrames(split, n_songs=n, context=model.context, **common)  # noqa: E731
    elif name == "conv2d_voice":
        make = lambda split, n: VoiceExcerpts(split, n_songs=n, excerpt_frames=model.excerpt_frames, **common)  # noqa: E731
    elif name == "brnn_voice":
        make = lambda split, n: VoiceExcerpts(split, n_songs=n, excerpt_frames=115, **common)  # noqa: E731
    else:  # the taggers: one 29-second clip per song, as the published models read
        make = lambda split, n: TaggedClips(split, n_songs=n, duration=30.0, clip_seconds=CLIP_SECONDS,  # noqa: E731
                                            clips_per_song=1, **common)
    return make("train", n_train), make("valid", n_valid)


def measure(name: str, *, epochs: int, n_train: int, n_valid: int, cache_dir: Path) -> dict:
    """Train ``name``'s paper preset for ``epochs`` on CUDA; return its times and memory."""
    # the taggers' output layer holds the world's tags instead of the published 50
    options = {"tag_names": list(TAG_NAMES), "n_tags": len(TAG_NAMES)} if name.endswith("tagger") else {}
    torch.manual_seed(0)
    model = MODELS[name].from_preset("paper", **options)
    start = time.perf_counter()
    train, valid = datasets(name, model, n_train=n_train, n_valid=n_valid, cache_dir=cache_dir)
    features_seconds = time.perf_counter() - start
    torch.cuda.reset_peak_memory_stats()
    history = fit(model, train, valid, epochs=epochs, batch_size=BATCH_SIZE[name], patience=None,
                  device="cuda", progress=False)
    torch.cuda.synchronize()
    epoch_seconds = statistics.median(history["seconds"][1:])
    inputs = "synthetic songs" if model.sample_rate >= WORLD_MIN_SAMPLE_RATE else "random features"
    return {"model": name, "notation": model.layer_notation, "parameters": count_parameters(model),
            "inputs": inputs, "input_shape": list(train[0][0].shape),
            "train_examples": len(train), "batch_size": BATCH_SIZE[name], "epochs": epochs,
            "epoch_seconds": round(epoch_seconds, 3),
            "seconds_per_1000_examples": round(1000 * epoch_seconds / len(train), 4),
            "first_epoch_seconds": round(history["seconds"][0], 3),
            "peak_memory_mib": round(torch.cuda.max_memory_allocated() / 2**20, 1),
            "feature_seconds": round(features_seconds, 1),
            "train_loss": [round(x, 4) for x in history["train_loss"]]}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-songs", type=int, default=32)
    parser.add_argument("--valid-songs", type=int, default=4)
    parser.add_argument("--cache-dir", type=Path, default=Path("data/cache"))
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        sys.exit("gpu_presets.py measures the GPU path: no CUDA device is available here")
    if args.epochs < 2:
        sys.exit("--epochs must be at least 2 (the first epoch is left out of the time)")
    runs = []
    for name in args.models:
        run = measure(name, epochs=args.epochs, n_train=args.train_songs, n_valid=args.valid_songs,
                      cache_dir=args.cache_dir)
        print(json.dumps(run), flush=True)
        runs.append(run)
    record = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "gpu": torch.cuda.get_device_name(), "python": platform.python_version(),
              "torch": torch.__version__, "mirbook": mirbook.__version__, "runs": runs}
    write_atomically(args.output, (json.dumps(record, indent=1) + "\n").encode())
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
