"""Threads and a busy core: mirbook's representations with and without their thread policy.

torch's CPU threads wait for each other at the end of every operation; when another process
holds one of the cores, the thread that waits for that core stalls the others, and a call made
of many short operations (an STFT in runs of frames, a CQT octave by octave) slows down many
times. ``mirbook.spectral_sums.thread_policy`` runs a representation's call on one thread below
``THREADED_MIN_SAMPLES`` input samples and otherwise on at most the free cores. This script
measures, in one process and interleaved (so that the load of other users hits every variant
alike), per representation and batch size:

* ``1 thread``: torch on one thread (the reference);
* ``N threads, no policy``: torch on N threads, the policy switched off;
* ``N threads, policy``: torch on N threads, the package as shipped;
* librosa on the same clips (one clip only; numpy/scipy's BLAS held to one thread),

each once with the machine as it is ("as is") and once while a Python busy loop that the
script starts in a subprocess holds a core ("busy"). It prints time ratios (never absolute
times: the machine may be shared) and writes them to ``benchmarks/results/threads.md`` and
``threads.json``.

    python benchmarks/threads.py                 # N = 2, 5 interleaved runs
    python benchmarks/threads.py --threads 4 --runs 9
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from representations import HOP, SR, make_batch  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
REPRESENTATIONS = ("stft", "mel", "cqt", "chroma")


@contextlib.contextmanager
def busy_core(busy: bool):
    """While the block runs, a subprocess spins on one core (if ``busy``); it is ended after."""
    if not busy:
        yield
        return
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)  # let the scheduler place it
        yield
    finally:
        spinner.kill()
        spinner.wait()


def modules():
    """name -> mirbook module with librosa's defaults (as in benchmarks/representations.py)."""
    from mirbook.representations import CQT, STFT, Chroma, MelSpectrogram

    return {"stft": STFT(n_fft=2048, hop_length=HOP), "mel": MelSpectrogram(hop_length=HOP),
            "cqt": CQT(hop_length=HOP), "chroma": Chroma(hop_length=HOP)}


def librosa_calls():
    """name -> the librosa call on one clip computing the same values."""
    import librosa

    return {
        "stft": lambda y: np.abs(librosa.stft(y, n_fft=2048, hop_length=HOP)),
        "mel": lambda y: librosa.feature.melspectrogram(y=y, sr=SR, hop_length=HOP),
        "cqt": lambda y: np.abs(librosa.cqt(y, sr=SR, hop_length=HOP)),
        "chroma": lambda y: librosa.feature.chroma_cqt(y=y, sr=SR, hop_length=HOP, tuning=0.0),
    }


def measure(batches: dict[int, np.ndarray], threads: int, runs: int) -> tuple[dict, list]:
    """Seconds per call: ``{(condition, clips, representation, variant): [runs]}`` and the
    free-core readings of the policy during each condition."""
    import torch

    from mirbook import spectral_sums

    shipped = spectral_sums.threads_for
    variants = {"1 thread": (1, shipped), f"{threads} threads, no policy": (threads, lambda n: torch.get_num_threads()),
                f"{threads} threads, policy": (threads, shipped)}
    mods, theirs = modules(), librosa_calls()
    tensors = {clips: torch.from_numpy(batch) for clips, batch in batches.items()}
    with torch.no_grad():  # warm-up: numba compilation, kernels, allocator, thread pools
        for threads_now, _ in variants.values():
            torch.set_num_threads(threads_now)
            for module in mods.values():
                module(tensors[min(tensors)][:1, : 4 * SR])
        for call in theirs.values():
            call(batches[min(batches)][0, : 4 * SR])
    samples: dict[tuple, list[float]] = {}
    readings = []
    order = list(variants)
    for run in range(runs):
        # rotate the variants, so none always follows the multi-threaded one (its threads spin on)
        rotated = order[run % len(order):] + order[: run % len(order)]
        for condition in ("as is", "busy"):
            with busy_core(condition == "busy"), torch.no_grad():
                readings.append((condition, spectral_sums.free_cores()))
                for clips, x in tensors.items():
                    for name, module in mods.items():
                        for variant in rotated:
                            threads_now, policy = variants[variant]
                            torch.set_num_threads(threads_now)
                            spectral_sums.threads_for = policy
                            try:
                                start = time.perf_counter()
                                module(x)
                                seconds = time.perf_counter() - start
                            finally:
                                spectral_sums.threads_for = shipped
                            samples.setdefault((condition, clips, name, variant), []).append(seconds)
                        if clips == 1:
                            start = time.perf_counter()
                            theirs[name](batches[1][0])
                            samples.setdefault((condition, clips, name, "librosa"), []).append(
                                time.perf_counter() - start)
    torch.set_num_threads(threads)
    return samples, readings


def ratio_rows(samples: dict, threads: int) -> list[dict]:
    """One row per condition, batch and representation: medians over the runs, as ratios."""
    rows = []
    keys = sorted({key[:3] for key in samples}, key=lambda k: (k[0] != "as is", k[1], REPRESENTATIONS.index(k[2])))
    for condition, clips, name in keys:
        median = {variant: float(np.median(s)) for (c, b, n, variant), s in samples.items()
                  if (c, b, n) == (condition, clips, name)}
        one, off, on = median["1 thread"], median[f"{threads} threads, no policy"], median[f"{threads} threads, policy"]
        row = {"condition": condition, "clips": clips, "representation": name,
               "no policy / 1 thread": off / one, "policy / 1 thread": on / one, "no policy / policy": off / on}
        if "librosa" in median:
            row["librosa / mirbook 1 thread"] = median["librosa"] / one
            row["librosa / mirbook no policy"] = median["librosa"] / off
            row["librosa / mirbook policy"] = median["librosa"] / on
        rows.append(row)
    return rows


def markdown(rows: list[dict], header: str) -> str:
    """The rows as a Markdown table (ratios with two decimals; '-' where librosa was not run)."""
    columns = list(rows[0].keys())
    for row in rows:
        columns += [c for c in row if c not in columns]
    lines = [header, "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [f"{row[c]:.2f}" if isinstance(row.get(c), float) else str(row.get(c, "-")) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads of the multi-threaded variants")
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs (medians reported)")
    parser.add_argument("--clips", type=int, nargs="+", default=[1, 2],
                        help="batch sizes of 30 s clips (one clip is below the policy's threshold, two above)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave benchmarks/results alone")
    args = parser.parse_args()

    import torch
    from threadpoolctl import threadpool_limits

    from mirbook import spectral_sums

    threadpool_limits(limits=1, user_api="blas")  # librosa's mel product on one thread, like its FFTs
    batch = make_batch(max(args.clips))
    batches = {clips: batch[:clips] for clips in sorted(args.clips)}
    load_before = os.getloadavg()
    samples, readings = measure(batches, args.threads, args.runs)
    load_after = os.getloadavg()
    rows = ratio_rows(samples, args.threads)
    free = {c: [f for cond, f in readings if cond == c] for c in ("as is", "busy")}
    header = (
        f"Time ratios (medians of {args.runs} interleaved runs; above 1: the numerator is slower). Clips of "
        f"30 s at {SR} Hz (hop {HOP}); {os.cpu_count()} logical cores; torch {torch.__version__}; "
        f"policy threshold {spectral_sums.THREADED_MIN_SAMPLES} samples. 'busy': a Python busy loop in a "
        f"subprocess holds a core. Load average (1 min) {load_before[0]:.1f} before, {load_after[0]:.1f} after. "
        f"free_cores() read {free['as is']} as is, {free['busy']} busy."
    )
    table = markdown(rows, header)
    print(table)
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        title = "# Threads and a busy core (`python benchmarks/threads.py`)\n\n"
        (RESULTS / "threads.md").write_text(title + table)
        record = {"threads": args.threads, "runs": args.runs, "threshold_samples": spectral_sums.THREADED_MIN_SAMPLES,
                  "load_before": load_before, "load_after": load_after, "free_cores": free, "rows": rows}
        (RESULTS / "threads.json").write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
