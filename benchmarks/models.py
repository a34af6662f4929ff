"""Size and speed of the six reference models (paper Section 5.7): parameters and one training step.

For each model of ``mirbook.models.MODELS`` and each preset ("cpu", "paper") this prints the
number of trainable parameters, the input one example has (bins x frames), and the median time
of one training step (forward, backward, Adam update) on a batch of random representations on
the CPU, plus the frames per second of audio that the step processes relative to real time.
There is no peer library with these models, so the times are stated as they are, for one
machine; compare presets with each other, not with other machines.

Run: ``python benchmarks/models.py [--batch-size 16] [--repeats 5] [--threads 2] [--presets cpu paper]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from mirbook.models import MODELS, count_parameters

# Length of one tagger training clip: 10 s in the cpu chapters, 29.1 s (1366 frames) as published.
TAG_CLIP_SECONDS = {"cpu": 10.0, "paper": 29.1}


def example_frames(model, preset: str) -> int:
    """Frames of one training example: the model's window, 3 s for the BRNN, a clip for the taggers."""
    if model.task == "chords":
        return model.context
    if model.task == "voice":
        return getattr(model, "excerpt_frames", 0) or int(round(3.0 * model.sample_rate / model.hop_length))
    seconds = TAG_CLIP_SECONDS[preset]
    return max(model.min_frames, int(round(seconds * model.sample_rate / model.hop_length)))


def batch_for(model, frames: int, batch_size: int):
    """Random inputs and targets in the dataset format ``model.loss`` reads."""
    x = torch.randn(batch_size, model.n_bins, frames)
    if model.task == "chords":
        return [x, torch.randint(0, 2, (batch_size, 12)).float(), torch.randint(0, 25, (batch_size,))]
    if model.task == "voice":
        return [x, torch.randint(0, 2, (batch_size, frames)).float()]
    return [x, torch.randint(0, 2, (batch_size, model.n_tags)).float(), torch.randint(0, 24, (batch_size,))]


def time_step(model, batch, repeats: int) -> float:
    """Median seconds of one optimisation step (after one warm-up step)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for i in range(repeats + 1):
        start = time.perf_counter()
        loss = model.loss(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if i:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--presets", nargs="+", default=["cpu", "paper"], choices=["cpu", "paper"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"CPU, {args.threads} torch threads, batch size {args.batch_size}, median of {args.repeats} steps")
    header = f"{'model':<15}{'preset':<7}{'notation':<34}{'params':>12}{'input':>12}{'step (s)':>10}{'audio s/s':>11}"
    print(header)
    print("-" * len(header))
    for name, cls in MODELS.items():
        for preset in args.presets:
            model = cls.from_preset(preset).train()
            frames = example_frames(model, preset)
            seconds = time_step(model, batch_for(model, frames, args.batch_size), args.repeats)
            # audio seconds covered per second of training: chords/Conv2D voice label one frame per example
            labelled = frames if model.task != "chords" and name != "conv2d_voice" else 1
            audio_rate = args.batch_size * labelled * model.hop_length / model.sample_rate / seconds
            print(f"{name:<15}{preset:<7}{model.layer_notation:<34}{count_parameters(model):>12,}"
                  f"{f'{model.n_bins}x{frames}':>12}{seconds:>10.4f}{audio_rate:>11.1f}")


if __name__ == "__main__":
    main()
