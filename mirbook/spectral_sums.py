"""Compiled CPU loops (numba) for the mel band sums (Eq. 3) and the CQT's squared magnitudes (Eq. 4),
and the thread policy of the representations' CPU work.

Each serves the CPU, float32, no-autograd case of one representation in
:mod:`mirbook.representations`; autograd, CUDA and float64 keep torch's operations, and tests
hold the two to float32 rounding (the squared magnitudes to equality). numba comes with librosa.
Chapter: "MIR problems and audio representations".

* :class:`BandSums`: the mel filter bank without its zeros. Each band is a triangle over a few
  STFT bins (about 2000 of the default 128 x 1025 weights are not zero) and torch has no fast CPU
  product for such a matrix, so per frame the loop forms each bin's power once and sums each band
  over its own bins, straight into the ``(batch, bands, frames)`` output.
* :func:`squared_magnitudes`: ``re ** 2 + im ** 2`` of a CQT product's columns into a few rows of
  the output, where torch's elementwise operations pay per short row.
* :func:`threads_for`: a representation's CPU call runs its torch operations and these loops on
  one thread below :data:`THREADED_MIN_SAMPLES` input samples, and otherwise on no more threads
  than there are free cores (:func:`free_cores`). torch's threads wait for each other at the end
  of every operation, so a thread whose core another process holds stalls the rest:
  ``benchmarks/threads.py`` measures the cost and the policy (``benchmarks/results/threads.md``).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import math
import os

import numba
import numpy as np
import torch


@numba.njit(cache=True, nogil=True, boundscheck=False, fastmath={"reassoc", "contract"})
def _band_sums(spectrum, power, starts, stops, offsets, weights, out, first_frame, frames_per_clip, first_row, end_row):
    """Bands of ``spectrum`` rows ``first_row .. end_row - 1`` into ``out[clip, band, frame]``.

    ``spectrum`` is ``(clips * frames_per_clip, 2 * n_freqs)`` float32 (real and imaginary parts
    side by side); row ``r`` is frame ``first_frame + r % frames_per_clip`` of clip
    ``r // frames_per_clip``. Band ``b`` sums ``weights[offsets[b] + i] * |X[starts[b] + i]| ** power``
    over ``i < stops[b] - starts[b]``. Indices are unsigned so that no negative-index test stands
    in the way of the compiler's vector loops.
    """
    n_freqs = spectrum.shape[1] // 2
    values = np.empty(n_freqs, np.float32)
    half_power = np.float32(power / 2)
    for row in range(first_row, end_row):
        for k in range(n_freqs):
            re, im = spectrum[row, 2 * k], spectrum[row, 2 * k + 1]
            values[k] = re * re + im * im
        if power == 1.0:
            for k in range(n_freqs):
                values[k] = np.sqrt(values[k])
        elif power != 2.0:
            for k in range(n_freqs):
                values[k] = values[k] ** half_power
        clip, frame = row // frames_per_clip, first_frame + row % frames_per_clip
        for band in range(starts.shape[0]):
            start, offset = starts[band], offsets[band]
            total = np.float32(0.0)
            for i in range(np.uint64(0), stops[band] - start):
                total += weights[offset + i] * values[start + i]
            out[clip, band, frame] = total


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _squared_magnitudes(products, target, first, first_row, end_row):
    """``target[b, first + k, r, p] = products[b, r, p, k] ** 2 + products[b, r, p, n + k] ** 2`` for ``k < n``.

    ``products`` is ``(batch, rows, phases, 2 n)`` (real parts, then imaginary), ``target``
    ``(batch, bins, rows, phases)``; rows ``first_row .. end_row - 1``.
    """
    n = products.shape[3] // 2
    for b in range(products.shape[0]):
        for r in range(first_row, end_row):
            for p in range(products.shape[2]):
                row = products[b, r, p]
                for k in range(n):
                    re, im = row[k], row[n + k]
                    target[b, first + k, r, p] = re * re + im * im


_POOLS: dict[int, concurrent.futures.ThreadPoolExecutor] = {}

#: Input samples (all clips of a call together) below which a representation runs on one thread:
#: such a call is a chain of short operations, and one wait for a busy core costs more than a
#: second thread saves.
THREADED_MIN_SAMPLES = 2**20


def _own_running() -> int:
    """Threads of this process that are running or runnable now (Linux ``/proc``; else 1)."""
    count = 0
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 1
    for task in tasks:
        try:
            with open(f"/proc/self/task/{task}/stat", "rb") as stat:
                line = stat.read()
        except OSError:  # the thread ended meanwhile
            continue
        count += line[line.rindex(b")") + 2 : line.rindex(b")") + 3] == b"R"
    return max(count, 1)


def _runnable() -> int | None:
    """Tasks running or runnable on the whole machine now, this thread included (Linux; else None)."""
    try:
        with open("/proc/loadavg") as loadavg:
            return int(loadavg.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return None


def free_cores() -> int:
    """Usable cores that no other process is running on now.

    Linux counts the runnable tasks of the whole machine in ``/proc/loadavg``; those of other
    processes, as a share of the machine's cores, are subtracted from the cores this process may
    use (``os.sched_getaffinity``). Elsewhere every usable core counts as free.
    """
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    runnable = _runnable()
    if runnable is None:
        return usable

    def free(others: int) -> int:
        return max(0, usable - math.ceil(others * usable / (os.cpu_count() or usable)))

    # besides this thread, at most torch's other threads (spinning after an operation) are ours
    fewest, most = free(runnable - 1), free(max(0, runnable - torch.get_num_threads()))
    return fewest if fewest == most else free(max(0, runnable - _own_running()))


def threads_for(n_samples: int) -> int:
    """Threads for a representation's CPU call on ``n_samples`` input samples: 1 below
    :data:`THREADED_MIN_SAMPLES`, else ``torch.get_num_threads()`` capped at :func:`free_cores` (at least 1)."""
    threads = torch.get_num_threads()
    if threads == 1 or n_samples < THREADED_MIN_SAMPLES:
        return 1
    return max(1, min(threads, free_cores()))


@contextlib.contextmanager
def thread_policy(x):
    """Run the block with torch (and so the loops here) on :func:`threads_for` threads when the
    waveform ``x`` (a tensor or an array) is on the CPU; torch's thread count is restored after."""
    previous = torch.get_num_threads()
    if previous == 1 or (isinstance(x, torch.Tensor) and x.device.type != "cpu"):
        yield
        return
    threads = threads_for(x.numel() if isinstance(x, torch.Tensor) else np.size(x))
    if threads == previous:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _in_threads(loop, args: tuple, n_rows: int, *, min_rows: int) -> None:
    """``loop(*args, start, end)`` over ``0 .. n_rows`` split into one share per torch thread.

    The loops release the GIL, so the shares run in parallel (a kept pool of threads runs all
    but the first, which runs in the calling thread); at least ``min_rows`` rows per share.
    """
    workers = max(1, min(torch.get_num_threads(), n_rows // min_rows))
    bounds = [n_rows * i // workers for i in range(workers + 1)]
    if workers > 1 and workers - 1 not in _POOLS:
        _POOLS[workers - 1] = concurrent.futures.ThreadPoolExecutor(workers - 1, thread_name_prefix="mirbook")
    jobs = [_POOLS[workers - 1].submit(loop, *args, bounds[i], bounds[i + 1]) for i in range(1, workers)]
    loop(*args, bounds[0], bounds[1])
    for job in jobs:
        job.result()


def squared_magnitudes(products: torch.Tensor, target: torch.Tensor, first: int) -> None:
    """Write ``|products|^2`` (``(batch, rows, phases, 2 n)``, real parts then imaginary) into bins
    ``first .. first + n - 1`` of ``target`` (``(batch, bins, rows, phases)``), float32 CPU tensors."""
    if products.dtype != torch.float32 or target.dtype != torch.float32 or products.device.type != "cpu":
        raise ValueError(f"need float32 CPU tensors; got {products.dtype} and {target.dtype} on {products.device}")
    _in_threads(_squared_magnitudes, (products.numpy(), target.numpy(), first), products.shape[1], min_rows=16)


class BandSums:
    """``out[:, b, t] = sum_k weights[k, b] |X[:, t, k]| ** power`` for a ``(n_freqs, n_bands)`` filter bank.

    Only each band's nonzero span of bins is stored and summed. :meth:`write` fills frames of a
    preallocated ``(batch, n_bands, frames)`` float32 CPU tensor from a run of complex64 spectra;
    with ``torch.get_num_threads() > 1`` the frames are split over as many threads.
    """

    def __init__(self, filterbank: torch.Tensor, *, power: float) -> None:
        bank = filterbank.detach().to("cpu", torch.float32).numpy()  # (n_freqs, n_bands)
        spans = []
        for band in bank.T:
            used = np.flatnonzero(band)
            spans.append((used[0], used[-1] + 1) if used.size else (0, 0))  # an empty filter sums nothing
        self.power = float(power)
        self.starts = np.array([s for s, _ in spans], dtype=np.uint64)
        self.stops = np.array([e for _, e in spans], dtype=np.uint64)
        lengths = (self.stops - self.starts).astype(np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.uint64)
        self.weights = np.concatenate(
            [bank[s:e, b] for b, (s, e) in enumerate(spans)] + [np.zeros(0, np.float32)]
        ).astype(np.float32)

    def write(self, spectra: torch.Tensor, out: torch.Tensor, first_frame: int) -> None:
        """Bands of ``spectra`` ``(batch, frames, n_freqs)`` into ``out[:, :, first_frame:first_frame + frames]``."""
        batch, frames, n_freqs = spectra.shape
        if spectra.dtype != torch.complex64 or out.dtype != torch.float32 or spectra.device.type != "cpu":
            raise ValueError(f"need complex64 spectra and a float32 output on the CPU; got {spectra.dtype}, {out.dtype}")
        spectrum = torch.view_as_real(spectra.contiguous()).numpy().reshape(batch * frames, 2 * n_freqs)
        args = (spectrum, self.power, self.starts, self.stops, self.offsets, self.weights, out.numpy(), first_frame, frames)
        _in_threads(_band_sums, args, batch * frames, min_rows=32)
