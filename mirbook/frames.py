"""Frames and intervals: the bridge between frame-wise outputs and mir_eval's annotations.

Every representation in ``mirbook.representations`` centres frame ``i`` at ``i * hop_length /
sample_rate`` seconds (librosa's ``center=True``); as an interval, a frame covers half a hop on
either side (from 0 for the first). The time-varying chapters (deep chroma, both voice chapters),
the datasets' frame targets, the metrics and ``mirbook.predict`` all convert through here.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from mirbook.checks import check_intervals, check_positive_int, check_sample_rate

__all__ = ["frame_times", "frame_intervals", "merge_frame_labels", "intervals_to_frames"]


def frame_times(n_frames: int, *, sample_rate: int, hop_length: int) -> np.ndarray:
    """Centre time in seconds of each of ``n_frames`` frames (``i * hop_length / sample_rate``).

    The convention of every representation here (librosa's ``center=True``); used to align
    frame-wise predictions with mir_eval annotations in the time-varying chapters.
    """
    if isinstance(n_frames, bool) or not isinstance(n_frames, (int, np.integer)) or n_frames < 0:
        raise ValueError(f"n_frames must be a non-negative int; got {n_frames!r}")
    sample_rate = check_sample_rate(sample_rate)
    hop_length = check_positive_int(hop_length, "hop_length")
    return np.arange(int(n_frames)) * (hop_length / sample_rate)


def frame_intervals(n_frames: int, *, sample_rate: int, hop_length: int) -> np.ndarray:
    """Interval ``(n_frames, 2)`` in seconds covered by each frame: centre +- half a hop, from 0.

    The bridge from frame-wise outputs (time-varying problems, Section 5.7.1) to mir_eval's
    interval annotations; used by the deep chroma and voice chapters via the functions below.
    """
    centres = frame_times(n_frames, sample_rate=sample_rate, hop_length=hop_length)
    # one shared edge between neighbours, so intervals are exactly contiguous (mir_eval checks)
    edges = np.append(centres, n_frames * hop_length / sample_rate) - hop_length / sample_rate / 2
    edges[0] = 0.0
    return np.stack([edges[:-1], edges[1:]], axis=1)


def merge_frame_labels(labels: Sequence[str], *, sample_rate: int, hop_length: int) -> tuple[np.ndarray, list[str]]:
    """Merge runs of equal per-frame labels into ``(intervals (n, 2), labels)`` (mir_eval's format).

    Used by :func:`decode_chords` (deep chroma chapter) and :func:`voiced_intervals` (voice chapters).
    """
    labels = list(labels)
    if not labels:
        raise ValueError("labels is empty: at least one frame expected")
    spans = frame_intervals(len(labels), sample_rate=sample_rate, hop_length=hop_length)
    starts = [0] + [i for i in range(1, len(labels)) if labels[i] != labels[i - 1]]
    ends = starts[1:] + [len(labels)]
    intervals = np.array([[spans[s, 0], spans[e - 1, 1]] for s, e in zip(starts, ends)])
    return intervals, [labels[s] for s in starts]


def intervals_to_frames(intervals, n_frames: int, *, sample_rate: int, hop_length: int) -> np.ndarray:
    """Boolean ``(n_frames,)``: frame ``i`` is True when its centre lies in one of ``intervals``.

    ``intervals``: ``(n, 2)`` start and end times in seconds, each ending at or after its start.
    Frame-wise voicing targets and references (voice chapters; ``mirbook.data.VoiceExcerpts``).
    """
    intervals = check_intervals(intervals)
    times = frame_times(n_frames, sample_rate=sample_rate, hop_length=hop_length)
    if len(intervals) == 0:
        return np.zeros(n_frames, dtype=bool)
    inside = (times[:, None] >= intervals[None, :, 0]) & (times[:, None] < intervals[None, :, 1])
    return inside.any(axis=1)
