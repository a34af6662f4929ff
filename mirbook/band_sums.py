"""Sparse band sums of a spectrum on the CPU: the mel filter bank of Eq. 3 without its zeros.

Section 3.2, Eq. 3; book chapter "MIR problems and audio representations". Each mel band is a
triangle over a few STFT bins, so of the 128 x 1025 weights of the default filter bank only about
2000 are not zero (every bin feeds at most its two neighbouring bands). torch has no fast product
for such a matrix on the CPU (its sparse formats, and dense products over each band group's bins,
measured 2-8x slower than the loop below on 16 clips of 30 s), so :class:`BandSums` runs one
compiled loop (numba, which librosa already depends on): per STFT frame it forms the power (or
magnitude) of each bin once and sums each band over its own bins, writing straight into the
``(batch, bands, frames)`` output. It is used by :class:`mirbook.representations.MelSpectrogram`
for float32 spectra on the CPU when no gradient is needed; autograd, CUDA and float64 use torch's
products. Results agree with the dense product to float32 rounding (tested).
"""

from __future__ import annotations

import concurrent.futures

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
    in the way of the compiler's vector loops (3x faster measured).
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


_POOL: dict[int, concurrent.futures.ThreadPoolExecutor] = {}


def _pool(workers: int) -> concurrent.futures.ThreadPoolExecutor:
    """A pool of ``workers`` threads, kept for later calls (the loop releases the GIL)."""
    if workers not in _POOL:
        _POOL[workers] = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mirbook-bands")
    return _POOL[workers]


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
        self.n_bands = bank.shape[1]
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
        target = out.numpy()
        rows = batch * frames
        workers = max(1, min(torch.get_num_threads(), rows // 32))
        bounds = [rows * i // workers for i in range(workers + 1)]
        args = (spectrum, self.power, self.starts, self.stops, self.offsets, self.weights, target, first_frame, frames)
        jobs = [_pool(workers - 1).submit(_band_sums, *args, bounds[i], bounds[i + 1]) for i in range(1, workers)]
        _band_sums(*args, bounds[0], bounds[1])  # the first share in this thread
        for job in jobs:
            job.result()
