"""How fast the out-of-world source renders: seconds of audio per CPU second, on one core.

Reads pieces of the out-of-world validation split (music21 corpus, ``mirbook.data.corpus``) and
plays them with the General MIDI SoundFont (``mirbook.data.soundfont``, numpy) as the source does, timing
CPU time (``time.process_time``) of the score reading and of the rendering apart. Goal: the
renderer at least 20x real time on one core. For scale it also times the synthetic world's
``render_song`` on songs of the same length. Run: ``python benchmarks/out_of_world.py``.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import time  # noqa: E402

import torch  # noqa: E402

from mirbook.data import render_song  # noqa: E402
from mirbook.data.corpus import read_score  # noqa: E402
from mirbook.data.out_of_world import MAX_TEMPO, OutOfWorld, arrangement, render_piece  # noqa: E402
from mirbook.data.soundfont import render_notes  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=9, help="number of pieces (default 9)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per piece (default 30)")
    parser.add_argument("--sample-rate", type=int, default=22050)
    args = parser.parse_args()
    torch.set_num_threads(1)
    render_notes([(0, 60, 0.0, 0.5)], sample_rate=args.sample_rate, duration=1.0, programs={0: 0})  # compile, load
    pieces = OutOfWorld.pieces("valid")[: args.songs]
    read = render = audio = world = 0.0
    for index, piece in enumerate(pieces):
        start = time.process_time()
        score = read_score(piece, max_beats=args.duration * MAX_TEMPO / 60.0)
        read += time.process_time() - start
        start = time.process_time()
        song = render_piece(score, arrangement(piece, index, len(score.parts), seed=0),
                            sample_rate=args.sample_rate, duration=args.duration, track_id=piece)
        render += time.process_time() - start
        audio += song.duration
        start = time.process_time()
        render_song(index, duration=song.duration, sample_rate=args.sample_rate)
        world += time.process_time() - start
    print(f"{len(pieces)} pieces, {audio:.0f} s of audio at {args.sample_rate} Hz, one thread (CPU seconds):")
    print(f"  rendering with the SoundFont: {render:.2f} s = {audio / render:.0f}x real time (goal: 20x)")
    print(f"  reading the scores (music21): {read:.2f} s = {audio / read:.0f}x real time")
    print(f"  both: {audio / (read + render):.0f}x real time; the synthetic world's render_song: {audio / world:.0f}x")


if __name__ == "__main__":
    main()
