"""Time mirbook's representations against librosa (and nnAudio when installed) on the CPU.

The paper's efficiency argument (Section 3.2) in numbers: one batch of 16 clips of 30 s at
22050 Hz, every method after a warm-up, several interleaved runs, medians. Prints, per
representation, the time ratio librosa / mirbook (goals: mel >= 3x, CQT and chroma >= 10x).

    python benchmarks/representations.py            # speed
    python benchmarks/representations.py --memory   # peak memory, one subprocess per method

librosa is timed twice: on one clip at a time (the clips in a loop, its documented usage) and
on the whole batch in one call (librosa >= 0.9 accepts multichannel arrays; that is faster for
the CQT and chroma, slower for mel); mirbook takes the batch as one tensor. Each ratio is printed
against both, and a goal counts as met only against librosa's faster way. Both libraries get the same parameters (librosa's
defaults, which are mirbook's: n_fft 2048, 128 Slaney mel bands, 84 CQT bins from C1 at 12 per
octave, chroma from 252 bins at 36 per octave, tuning 0) and float32 audio, so both compute in
float32. By default torch runs on one thread, as librosa's FFTs do, and numpy/scipy's BLAS (the
mel product in librosa) is held to the same number of threads, so the ratio compares the
algorithms core for core and stays meaningful on a shared or busy machine (on an
oversubscribed CPU, multi-threaded kernels wait for each other and lose far more than they
gain; ``benchmarks/threads.py`` measures it). ``--threads N`` gives torch and the BLAS N threads each. The load average before and
after the runs is printed: quote it with the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

SR, N_CLIPS, SECONDS, HOP = 22050, 16, 30.0, 512


def make_batch(n_clips: int = N_CLIPS, seconds: float = SECONDS, seed: int = 0) -> np.ndarray:
    """Music-like clips: random triads of harmonic tones changing every half second, plus noise."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    clips = np.zeros((n_clips, n), dtype=np.float64)
    seg = SR // 2
    for c in range(n_clips):
        for start in range(0, n, seg):
            root = 48 + rng.integers(0, 12)
            for midi in (root, root + 4 - rng.integers(0, 2), root + 7):
                f0 = 440.0 * 2 ** ((midi - 69) / 12)
                sl = slice(start, min(start + seg, n))
                for h in range(1, 6):
                    clips[c, sl] += np.sin(2 * np.pi * h * f0 * t[sl]) / h
        clips[c] += 0.05 * rng.standard_normal(n)
        clips[c] /= np.abs(clips[c]).max()
    return clips.astype(np.float32)


def methods():
    """name -> (representation key, library, builder returning a callable on the numpy batch)."""
    import librosa
    import torch

    from mirbook.representations import CQT, STFT, Chroma, MelSpectrogram

    def torch_fn(module):
        def run(batch):
            with torch.no_grad():
                return module(torch.from_numpy(batch))

        return run

    table = {
        "stft/librosa": ("stft", lambda: lambda b: [np.abs(librosa.stft(y, n_fft=2048, hop_length=HOP)) for y in b]),
        "stft/librosa-1call": ("stft", lambda: lambda b: np.abs(librosa.stft(b, n_fft=2048, hop_length=HOP))),
        "stft/mirbook": ("stft", lambda: torch_fn(STFT(n_fft=2048, hop_length=HOP))),
        "mel/librosa": ("mel", lambda: lambda b: [librosa.feature.melspectrogram(y=y, sr=SR, hop_length=HOP) for y in b]),
        "mel/librosa-1call": ("mel", lambda: lambda b: librosa.feature.melspectrogram(y=b, sr=SR, hop_length=HOP)),
        "mel/mirbook": ("mel", lambda: torch_fn(MelSpectrogram(hop_length=HOP))),
        "cqt/librosa": ("cqt", lambda: lambda b: [np.abs(librosa.cqt(y, sr=SR, hop_length=HOP)) for y in b]),
        "cqt/librosa-1call": ("cqt", lambda: lambda b: np.abs(librosa.cqt(b, sr=SR, hop_length=HOP))),
        "cqt/mirbook": ("cqt", lambda: torch_fn(CQT(hop_length=HOP))),
        "chroma/librosa": ("chroma", lambda: lambda b: [librosa.feature.chroma_cqt(y=y, sr=SR, hop_length=HOP, tuning=0.0) for y in b]),
        "chroma/librosa-1call": ("chroma", lambda: lambda b: librosa.feature.chroma_cqt(y=b, sr=SR, hop_length=HOP, tuning=0.0)),
        "chroma/mirbook": ("chroma", lambda: torch_fn(Chroma(hop_length=HOP))),
    }
    try:
        import nnAudio.features as nn_features

        table["stft/nnAudio"] = ("stft", lambda: torch_fn(nn_features.STFT(n_fft=2048, hop_length=HOP, output_format="Magnitude", verbose=False)))
        table["mel/nnAudio"] = ("mel", lambda: torch_fn(nn_features.MelSpectrogram(sr=SR, n_fft=2048, hop_length=HOP, verbose=False)))
        table["cqt/nnAudio"] = ("cqt", lambda: torch_fn(nn_features.CQT(sr=SR, hop_length=HOP, n_bins=84, verbose=False)))
    except ImportError:
        pass
    return table


def time_all(batch: np.ndarray, runs: int) -> dict[str, float]:
    """Median seconds per method; runs are interleaved so load changes hit all methods alike."""
    table = {name: builder() for name, (_, builder) in methods().items()}
    for fn in table.values():  # warm-up: numba compilation, filter caches, allocator
        fn(batch[:2])
    samples: dict[str, list[float]] = {name: [] for name in table}
    for _ in range(runs):
        for name, fn in table.items():
            start = time.perf_counter()
            fn(batch)
            samples[name].append(time.perf_counter() - start)
    return {name: float(np.median(s)) for name, s in samples.items()}


def peak_memory(name: str, threads: int | None, batch_file: str) -> dict:
    """Run one method in a fresh interpreter; report its peak resident memory (ru_maxrss).

    The child loads the saved batch (so building it leaves no high-water mark of its own) and
    reports the peak before and after the call: the difference is what the method needs.
    """
    code = (
        "import sys, json, resource; sys.path.insert(0, %r);"
        "import numpy as np, torch, representations as b;"
        "from threadpoolctl import threadpool_limits;"
        "%s"
        "fn = b.methods()[%r][1](); batch = np.load(%r); fn(batch[:1]);"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; fn(batch);"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss;"
        "print(json.dumps({'before_mb': before / 1024, 'peak_mb': after / 1024}))"
    ) % (os.path.dirname(os.path.abspath(__file__)), f"torch.set_num_threads({threads}); threadpool_limits(limits={threads}, user_api='blas');" if threads else "", name, batch_file)
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory", action="store_true", help="report peak memory instead of time")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per method (median reported)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1, like librosa's FFTs)")
    args = parser.parse_args()

    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    if args.threads:
        torch.set_num_threads(args.threads)
        threadpool_limits(limits=args.threads, user_api="blas")
    blas = sorted({f"{i['internal_api']} {i['num_threads']}" for i in threadpool_info() if i["user_api"] == "blas"})
    print(f"batch: {N_CLIPS} clips x {SECONDS:.0f} s at {SR} Hz, hop {HOP}; CPU with {os.cpu_count()} "
          f"logical cores; torch {torch.__version__} using {torch.get_num_threads()} threads; "
          f"numpy/scipy BLAS threads: {', '.join(blas) or 'none found'}")
    names = list(methods())
    if args.memory:
        with tempfile.TemporaryDirectory() as tmp:
            batch_file = os.path.join(tmp, "batch.npy")
            np.save(batch_file, make_batch())
            print(f"{'method':<22}{'peak RSS (MB)':>15}{'before the call':>17}{'needed by the call':>20}")
            for name in names:
                mem = peak_memory(name, args.threads, batch_file)
                extra = mem["peak_mb"] - mem["before_mb"]
                print(f"{name:<22}{mem['peak_mb']:>15.0f}{mem['before_mb']:>17.0f}{extra:>20.0f}")
        print(f"(the input batch itself: {N_CLIPS * SECONDS * SR * 4 / 2**20:.0f} MB of float32; "
              "'before' includes a warm-up call on one clip)")
        return

    batch = make_batch()
    load_before = os.getloadavg()
    seconds = time_all(batch, args.runs)
    load_after = os.getloadavg()
    print("load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}; after: {:.2f} {:.2f} {:.2f}".format(*load_before, *load_after))
    print(f"{'method':<22}{'median s':>10}")
    for name in names:
        print(f"{name:<22}{seconds[name]:>10.3f}")
    goals = {"stft": None, "mel": 3.0, "cqt": 10.0, "chroma": 10.0}
    print("\nspeed-up librosa / mirbook (same batch, same run), librosa clip by clip | in one call:")
    for rep, goal in goals.items():
        loop = seconds[f"{rep}/librosa"] / seconds[f"{rep}/mirbook"]
        one_call = seconds[f"{rep}/librosa-1call"] / seconds[f"{rep}/mirbook"]
        verdict = "" if goal is None else f"  (goal >= {goal:.0f}x: {'met' if min(loop, one_call) >= goal else 'MISSED'})"
        print(f"  {rep:<7}{loop:6.1f}x |{one_call:6.1f}x{verdict}")
        if f"{rep}/nnAudio" in seconds:
            print(f"  {'':<7}nnAudio / mirbook: {seconds[f'{rep}/nnAudio'] / seconds[f'{rep}/mirbook']:.1f}x")


if __name__ == "__main__":
    main()
