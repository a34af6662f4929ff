"""How fast the embedded music world renders: seconds of audio per CPU second, on one core.

Renders typical 30 s songs (every style, vocals and leads as the styles decide) with torch and
BLAS limited to one thread, timing CPU time (``time.process_time``) of ``render_song`` only.
Goal: at least 100x real time. For scale it also times librosa's CQT chroma of the
same audio, a cost every chord chapter pays anyway. Run: ``python benchmarks/data_generation.py``.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import time  # noqa: E402

import librosa  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from mirbook.data import STYLE_NAMES, render_song  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=20, help="number of songs to render (default 20)")
    parser.add_argument("--duration", type=float, default=30.0, help="song length in seconds (default 30)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    render_song(0, duration=args.duration)  # warm-up: imports, scipy filter design caches
    librosa.feature.chroma_cqt(y=render_song(0, duration=5.0).audio, sr=22050)
    per_style: dict[str, list[float]] = {name: [] for name in STYLE_NAMES}
    render_cpu = chroma_cpu = 0.0
    for seed in range(1, args.songs + 1):
        start = time.process_time()
        song = render_song(seed, duration=args.duration)
        elapsed = time.process_time() - start
        render_cpu += elapsed
        per_style[song.style].append(args.duration / elapsed)
        start = time.process_time()
        librosa.feature.chroma_cqt(y=song.audio, sr=song.sample_rate, hop_length=2048)
        chroma_cpu += time.process_time() - start
    audio_seconds = args.songs * args.duration
    print(f"rendered {args.songs} songs x {args.duration:.0f} s on one core")
    for name, speeds in per_style.items():
        if speeds:
            print(f"  {name:<11} {np.median(speeds):7.0f}x real time (median of {len(speeds)})")
    print(f"render_song: {audio_seconds / render_cpu:.0f} s of audio per CPU second (goal >= 100x)")
    print(f"librosa chroma_cqt of the same audio: {audio_seconds / chroma_cpu:.0f}x real time; "
          f"rendering costs {render_cpu / chroma_cpu:.2f}x the chroma")


if __name__ == "__main__":
    main()
