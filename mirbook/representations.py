"""Audio representations of Section 3.2 (Figure 4, Eqs. 2-5) and Section 5.1's log compression.

Book chapter: ``book/representations.ipynb`` ("MIR problems and audio representations"); every
model chapter builds its input with a :class:`Frontend` from this module.

All representations are ``torch.nn.Module`` s mapping a batch of mono waveforms
``(batch, samples)`` (a 1-D input is a batch of one) to ``(batch, bins, frames)``. They are
float32, differentiable, run on CPU or CUDA (filter banks and kernels are registered buffers, so
``module.to("cuda")`` moves them) and, with their defaults, reproduce librosa 0.11:
frame ``i`` is centred at ``i * hop_length / sample_rate`` seconds (``center=True`` with zero
padding, librosa's ``pad_mode="constant"``). Each exposes the int attributes ``sample_rate``,
``hop_length`` and ``n_bins`` that the datasets and models rely on.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import librosa
import numpy as np
import torch
import torchaudio
from torch import nn

from mirbook import cqt_engine
from mirbook.checks import (
    FRONTEND_ATTRIBUTES,
    as_waveform_batch,
    check_choice,
    check_frontend,
    check_positive_int,
    check_sample_rate,
)
from mirbook.spectral_sums import BandSums, thread_policy

#: Version of how the modules below compute their values. Bump it with any change that alters the
#: output of a frontend without changing its weights (framing, padding, chunking, magnitude), so
#: that feature caches keyed by :func:`mirbook.data.cache.frontend_fingerprint` never serve values
#: computed by other code.
REPRESENTATION_VERSION = "3"

__all__ = [
    "REPRESENTATION_VERSION",
    "STFT",
    "MelSpectrogram",
    "CQT",
    "Chroma",
    "LogCompression",
    "Frontend",
    "cqt_frequencies",
]

# librosa.note_to_hz("C1"): the default lowest CQT bin, as in librosa.
C1_HZ = 32.70319566257483
# STFT frames per step on a CPU, per torch thread: a step's frames, spectra and powers stay in cache.
_CPU_FRAMES_PER_STEP = 128
# Neighbouring mel bands multiplied together with the STFT bins they cover (see MelSpectrogram).
_MEL_GROUP = 16


def _check_real(value, name: str, *, optional: bool = False) -> float | None:
    """Return ``value`` as float after checking it is a real number (``None`` too if ``optional``)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        expected = "a real number or None" if optional else "a real number"
        raise ValueError(f"{name} must be {expected}; got {value!r} ({type(value).__name__})")
    return float(value)


def _check_bool(value, name: str) -> bool:
    """Return ``value`` after checking it is True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r} ({type(value).__name__})")
    return bool(value)


def cqt_frequencies(*, f_min: float = C1_HZ, n_bins: int = 84, bins_per_octave: int = 12) -> np.ndarray:
    """Centre frequencies ``f_min * 2 ** (k / bins_per_octave)`` of the CQT bins (Eq. 4), in Hz.

    Used by :class:`CQT` and plotted in the chapter "MIR problems and audio representations".
    """
    if not f_min > 0:
        raise ValueError(f"f_min must be a positive frequency in Hz; got {f_min!r}")
    n_bins = check_positive_int(n_bins, "n_bins")
    bins_per_octave = check_positive_int(bins_per_octave, "bins_per_octave")
    return float(f_min) * 2.0 ** (np.arange(n_bins) / bins_per_octave)


class STFT(nn.Module):
    """Magnitude (``power=1``) or power (``power=2``) short-time Fourier transform, Eq. 2.

    A periodic Hann window and ``torch.fft.rfft`` over the frames, like ``torch.stft``; with the
    defaults it equals ``np.abs(librosa.stft(y, n_fft=2048, hop_length=512)) ** power``. Output
    ``(batch, n_fft // 2 + 1, 1 + samples // hop_length)``; inputs shorter than one frame
    (:attr:`min_samples`) are refused. Chapter: "MIR problems and audio representations".
    :meth:`spectra` is the complex STFT step by step, which :class:`MelSpectrogram` reads.

    Keyword-only options (defaults): ``sample_rate=22050``, ``n_fft=2048``, ``hop_length=512``,
    ``win_length=None`` (= n_fft), ``power=1.0`` (``None`` returns the complex STFT),
    ``center=True``, ``pad_mode="constant"``.
    """

    def __init__(
        self,
        *,
        sample_rate: int = 22050,
        n_fft: int = 2048,
        hop_length: int = 512,
        win_length: int | None = None,
        power: float | None = 1.0,
        center: bool = True,
        pad_mode: str = "constant",
    ) -> None:
        super().__init__()
        self.sample_rate = check_sample_rate(sample_rate)
        self.n_fft = check_positive_int(n_fft, "n_fft")
        self.hop_length = check_positive_int(hop_length, "hop_length")
        self.win_length = self.n_fft if win_length is None else check_positive_int(win_length, "win_length")
        if self.win_length > self.n_fft:
            raise ValueError(f"win_length must be <= n_fft={self.n_fft}; got {self.win_length}")
        if _check_real(power, "power", optional=True) is not None and not power > 0:
            raise ValueError(f"power must be positive (1 magnitude, 2 power) or None; got {power!r}")
        check_choice(pad_mode, "pad_mode", ("constant", "reflect"))
        self.power = power
        self.center = _check_bool(center, "center")
        self.pad_mode = pad_mode
        self.n_bins = self.n_fft // 2 + 1
        # A shorter window sits in the middle of the n_fft samples, as in torch.stft and librosa.
        left = (self.n_fft - self.win_length) // 2
        window = torch.zeros(self.n_fft)
        window[left : left + self.win_length] = torch.hann_window(self.win_length, periodic=True)
        self.register_buffer("window", window, persistent=False)

    @property
    def settings(self) -> dict:
        """The constructor's options as this instance holds them (feature caches key on them)."""
        return {"sample_rate": self.sample_rate, "n_fft": self.n_fft, "hop_length": self.hop_length,
                "win_length": self.win_length, "power": self.power, "center": self.center, "pad_mode": self.pad_mode}

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        with thread_policy(waveform):
            chunks = [spec if self.power is None else _magnitude(spec, self.power) for spec in self.spectra(waveform)]
            return torch.cat(chunks, dim=1).transpose(1, 2)

    def spectra(self, waveform: torch.Tensor) -> Iterator[torch.Tensor]:
        """The complex spectra ``(batch, frames, n_fft // 2 + 1)`` of consecutive runs of frames.

        The input is checked here, at once. On a CPU a run holds about 128 frames per torch thread
        (all clips together), so each run's frames and spectra stay in cache.
        """
        x = as_waveform_batch(waveform, min_samples=self.min_samples).to(self.window.dtype)
        return self._spectra(x)

    @property
    def min_samples(self) -> int:
        """The shortest clip with one frame: ``n_fft`` samples uncentred; centred, ``win_length``
        and more than ``n_fft // 2`` for reflect padding."""
        if not self.center:
            return self.n_fft
        return max(self.win_length, self.n_fft // 2 + 1) if self.pad_mode == "reflect" else self.win_length

    def n_frames(self, n_samples: int) -> int:
        """Frames of a clip of ``n_samples`` samples (at least ``win_length`` of them)."""
        pad = self.n_fft // 2 if self.center else 0
        return 1 + (n_samples + 2 * pad - self.n_fft) // self.hop_length

    def _frame_pieces(self, x: torch.Tensor) -> list[torch.Tensor]:
        """All frames of ``x`` ``(batch, n)`` in order, as ``(batch, frames, n_fft)`` pieces.

        Frame ``i`` starts at sample ``i * hop_length - n_fft // 2`` of the padded clip
        (``center=True``). The middle piece is a strided view of ``x`` (the frames wholly inside
        the clip); the head and tail pieces come from padding only the clips' first and last
        ``n_fft + hop_length`` samples or so. A clip too short for that is padded whole.
        """
        n_fft, hop, n = self.n_fft, self.hop_length, x.shape[-1]
        pad = n_fft // 2 if self.center else 0
        n_frames = self.n_frames(n)
        first = -(-pad // hop)  # first frame wholly inside the clip
        last = min(n_frames - 1, (n + pad - n_fft) // hop)  # last one
        head_end = max((first - 1) * hop + n_fft - pad, pad + 1)  # reflect padding reads pad + 1 samples
        if last < first or head_end > n:
            padded = torch.nn.functional.pad(x, (pad, pad), mode=self.pad_mode) if pad else x
            return [padded.unfold(-1, n_fft, hop)]
        pieces = []
        if first > 0:
            head = torch.nn.functional.pad(x[:, :head_end], (pad, 0), mode=self.pad_mode)
            pieces.append(head.unfold(-1, n_fft, hop)[:, :first])
        pieces.append(x[:, first * hop - pad :].unfold(-1, n_fft, hop)[:, : last - first + 1])
        if last < n_frames - 1:
            start = (last + 1) * hop - pad  # where the first tail frame starts in the clip
            begin = min(start, n - pad - 1)
            tail = torch.nn.functional.pad(x[:, begin:], (0, pad), mode=self.pad_mode)
            pieces.append(tail[:, start - begin :].unfold(-1, n_fft, hop)[:, : n_frames - 1 - last])
        return pieces

    def _spectra(self, x: torch.Tensor) -> Iterator[torch.Tensor]:
        step = max(1, _CPU_FRAMES_PER_STEP * torch.get_num_threads() // x.shape[0]) if x.device.type == "cpu" else None
        for piece in self._frame_pieces(x):
            for start in range(0, piece.shape[1], step or piece.shape[1]):
                yield torch.fft.rfft(piece[:, start : start + (step or piece.shape[1])] * self.window)


def _magnitude(spec: torch.Tensor, power: float) -> torch.Tensor:
    """``|spec| ** power`` (``power=2`` without the square root)."""
    if power == 2.0:
        return torch.view_as_real(spec).square().sum(-1)
    magnitude = spec.abs()
    return magnitude if power == 1.0 else magnitude.pow(power)


class MelSpectrogram(nn.Module):
    """Mel spectrogram, Eq. 3: an STFT (power 2 by default) times a triangular mel filter bank.

    The filter bank comes from ``torchaudio.functional.melscale_fbanks``; with the defaults
    (Slaney scale and Slaney area normalisation) it equals ``librosa.feature.melspectrogram``.
    ``mel_scale="htk"`` uses Eq. 3 literally (``2595 log10(1 + f / 700)``). Output
    ``(batch, n_mels, frames)``. Chapter: "MIR problems and audio representations".

    Each triangle spans few STFT bins, so the product skips the zeros: on a CPU, for float32 and
    without autograd, :class:`mirbook.spectral_sums.BandSums` sums each band over its own bins;
    otherwise (autograd, CUDA, float64) groups of 16 neighbouring bands are each multiplied with
    the bins they cover (for ``power=2`` the squared real and imaginary parts enter that product
    directly, each weight twice). Both equal the dense product to float32 rounding.

    Keyword-only options (defaults): ``sample_rate=22050``, ``n_fft=2048``, ``hop_length=512``,
    ``n_mels=128``, ``f_min=0.0``, ``f_max=None`` (= sample_rate / 2), ``power=2.0``,
    ``mel_scale="slaney"``, ``norm="slaney"`` (or ``None``), ``center=True``,
    ``pad_mode="constant"``.
    """

    def __init__(
        self,
        *,
        sample_rate: int = 22050,
        n_fft: int = 2048,
        hop_length: int = 512,
        n_mels: int = 128,
        f_min: float = 0.0,
        f_max: float | None = None,
        power: float = 2.0,
        mel_scale: str = "slaney",
        norm: str | None = "slaney",
        center: bool = True,
        pad_mode: str = "constant",
    ) -> None:
        super().__init__()
        _check_real(power, "power")
        f_min = _check_real(f_min, "f_min")
        f_max = _check_real(f_max, "f_max", optional=True)
        self.stft = STFT(
            sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, power=power,
            center=center, pad_mode=pad_mode,
        )
        self.sample_rate = self.stft.sample_rate
        self.hop_length = self.stft.hop_length
        self.n_bins = check_positive_int(n_mels, "n_mels")
        f_max = self.sample_rate / 2 if f_max is None else float(f_max)
        if not 0.0 <= f_min < f_max <= self.sample_rate / 2:
            raise ValueError(
                f"need 0 <= f_min < f_max <= sample_rate / 2 = {self.sample_rate / 2} Hz; "
                f"got f_min={f_min}, f_max={f_max}"
            )
        check_choice(mel_scale, "mel_scale", ("slaney", "htk"))
        check_choice(norm, "norm", ("slaney", None))
        self.f_min, self.f_max, self.mel_scale, self.norm = float(f_min), f_max, mel_scale, norm
        fbank = torchaudio.functional.melscale_fbanks(
            self.stft.n_bins, self.f_min, self.f_max, self.n_bins, self.sample_rate,
            norm=norm, mel_scale=mel_scale,
        )
        self.register_buffer("filterbank", fbank.T.contiguous(), persistent=False)  # (n_mels, n_freqs)
        # (first band, last band + 1, first bin, last bin + 1) of each group of neighbouring bands
        groups = []
        for begin in range(0, self.n_bins, _MEL_GROUP):
            end = min(begin + _MEL_GROUP, self.n_bins)
            used = torch.nonzero(self.filterbank[begin:end].abs().sum(0)).flatten().tolist()
            groups.append((begin, end, used[0], used[-1] + 1) if used else (begin, end, None, None))
        # a group of empty filters (possible with many bands and a short n_fft) reads no bins
        low = min((g[2] for g in groups if g[2] is not None), default=0)
        self._groups = [g if g[2] is not None else (g[0], g[1], low, low) for g in groups]
        # Each group's weights (bins, bands) as one contiguous block; for power 2 every bin's
        # weight comes twice, once for its squared real part and once for its squared imaginary part.
        for index, (begin, end, first, stop) in enumerate(self._groups):
            block = fbank[first:stop, begin:end]
            block = block.repeat_interleave(2, dim=0) if power == 2.0 else block
            self.register_buffer(f"band_weights{index}", block.contiguous(), persistent=False)
        self._band_sums = BandSums(fbank, power=power)

    @property
    def settings(self) -> dict:
        """The constructor's options as this instance holds them (feature caches key on them)."""
        stft = self.stft.settings
        return {"sample_rate": self.sample_rate, "n_fft": stft["n_fft"], "hop_length": self.hop_length,
                "n_mels": self.n_bins, "f_min": self.f_min, "f_max": self.f_max, "power": stft["power"],
                "mel_scale": self.mel_scale, "norm": self.norm, "center": stft["center"], "pad_mode": stft["pad_mode"]}

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        with thread_policy(waveform):
            return self._bands(waveform)

    def _bands(self, waveform: torch.Tensor) -> torch.Tensor:
        spectra = self.stft.spectra(waveform)
        head = next(spectra)
        spectra = itertools.chain([head], spectra)
        if head.device.type != "cpu" or head.dtype != torch.complex64 or head.requires_grad:
            chunks = [self._project(spec) for spec in spectra]
            return torch.cat(chunks, dim=1).transpose(1, 2).contiguous()
        out = torch.empty(head.shape[0], self.n_bins, self.stft.n_frames(waveform.shape[-1]), dtype=torch.float32)
        first = 0
        for spec in spectra:
            self._band_sums.write(spec, out, first)
            first += spec.shape[1]
        return out

    def _project(self, spec: torch.Tensor) -> torch.Tensor:
        """Mel bands ``(batch, frames, n_mels)`` of complex spectra ``(batch, frames, n_freqs)``."""
        rows = spec.shape[0] * spec.shape[1]
        if self.stft.power == 2.0:
            # |X|^2 = re^2 + im^2: the squares side by side, summed by the (doubled) filter weights;
            # squared in place over all bins (contiguous, no copy), each product reads its columns
            values, width = torch.view_as_real(spec).square_().view(rows, -1), 2
        else:
            values, width = _magnitude(spec, self.stft.power).reshape(rows, -1), 1
        bands = [
            values[:, width * first : width * stop] @ getattr(self, f"band_weights{index}")
            for index, (_, _, first, stop) in enumerate(self._groups)
        ]
        return torch.cat(bands, dim=1).view(spec.shape[0], spec.shape[1], self.n_bins)


class CQT(nn.Module):
    """Constant-Q transform magnitude, Eq. 4: bins at ``f_min * 2 ** (k / bins_per_octave)``.

    torchaudio has no CQT, and the GPU-ready alternatives (nnAudio) are neither a dependency nor
    equal to librosa, so this is librosa's own algorithm (Brown & Puckette's FFT-domain kernels on
    a signal decimated octave by octave) run as batched torch matrix products by
    :mod:`mirbook.cqt_engine`. With the defaults it reproduces ``np.abs(librosa.cqt(y, sr=22050,
    hop_length=512, n_bins=84, bins_per_octave=12))``: per-frame correlation > 0.999, and away
    from the clip ends differences below 0.5 % of the largest value (librosa's soxr resampler
    ends a clip differently). Output ``(batch, n_bins, 1 + samples // hop_length)``, lowest bin
    first; inputs shorter than ``hop_length`` samples are refused. Differentiable.
    Chapter: "MIR problems and audio representations"; used by :class:`Chroma`.

    Keyword-only options (defaults): ``sample_rate=22050``, ``hop_length=512``,
    ``f_min=32.70319566257483`` (C1), ``n_bins=84``, ``bins_per_octave=12``, ``tuning=0.0``
    (deviation from A440 in fractions of a bin), ``filter_scale=1.0``, ``sparsity=0.01``.
    """

    def __init__(
        self,
        *,
        sample_rate: int = 22050,
        hop_length: int = 512,
        f_min: float = C1_HZ,
        n_bins: int = 84,
        bins_per_octave: int = 12,
        tuning: float = 0.0,
        filter_scale: float = 1.0,
        sparsity: float = 0.01,
    ) -> None:
        super().__init__()
        self.sample_rate = check_sample_rate(sample_rate)
        self.hop_length = check_positive_int(hop_length, "hop_length")
        self.n_bins = check_positive_int(n_bins, "n_bins")
        self.bins_per_octave = check_positive_int(bins_per_octave, "bins_per_octave")
        if not -0.5 <= _check_real(tuning, "tuning") <= 0.5:
            raise ValueError(f"tuning must be in [-0.5, 0.5] bins; got {tuning!r}")
        if not _check_real(filter_scale, "filter_scale") > 0:
            raise ValueError(f"filter_scale must be positive; got {filter_scale!r}")
        if not 0.0 <= _check_real(sparsity, "sparsity") < 1.0:
            raise ValueError(f"sparsity must be in [0, 1); got {sparsity!r}")
        self.f_min, self.tuning = _check_real(f_min, "f_min"), float(tuning)
        self.filter_scale, self.sparsity = float(filter_scale), float(sparsity)
        tuned_f_min = self.f_min * 2.0 ** (self.tuning / self.bins_per_octave)
        freqs = cqt_frequencies(f_min=tuned_f_min, n_bins=self.n_bins, bins_per_octave=self.bins_per_octave)
        self.register_buffer("frequencies", torch.from_numpy(freqs.astype(np.float32)), persistent=False)
        alpha, lengths, cutoff = cqt_engine.filter_lengths(
            freqs, sample_rate=self.sample_rate, bins_per_octave=self.bins_per_octave, filter_scale=filter_scale
        )
        if cutoff > self.sample_rate / 2:
            raise ValueError(
                f"the highest CQT filter reaches {cutoff:.0f} Hz, above the Nyquist frequency "
                f"{self.sample_rate / 2:.0f} Hz; lower n_bins or f_min (top bin now {freqs[-1]:.0f} Hz)"
            )
        self._plan, weights, decimators = cqt_engine.plan_cqt(
            freqs, alpha, lengths, cutoff, sample_rate=self.sample_rate, hop_length=self.hop_length,
            bins_per_octave=self.bins_per_octave, filter_scale=filter_scale, sparsity=sparsity,
        )
        for index, weight in enumerate(weights):
            self.register_buffer(f"weight{index}", torch.from_numpy(weight), persistent=False)
        for factor, decimator in decimators.items():
            self.register_buffer(f"decimator{factor}", torch.from_numpy(decimator), persistent=False)

    @property
    def settings(self) -> dict:
        """The constructor's options as this instance holds them (feature caches key on them)."""
        return {"sample_rate": self.sample_rate, "hop_length": self.hop_length, "f_min": self.f_min,
                "n_bins": self.n_bins, "bins_per_octave": self.bins_per_octave, "tuning": self.tuning,
                "filter_scale": self.filter_scale, "sparsity": self.sparsity}

    def power(self, waveform: torch.Tensor) -> torch.Tensor:
        """Squared magnitudes ``(batch, n_bins, frames)``: the CQT before its square root (Chroma folds it)."""
        x = as_waveform_batch(waveform, min_samples=self.hop_length, finite=False).to(self.frequencies.dtype)
        buffers = dict(self.named_buffers(recurse=False))
        with thread_policy(x):
            return torch.cat([cqt_engine.cqt_power(clips, self._plan, buffers) for clips in self._plan.chunks(x)])

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        with thread_policy(waveform):
            power = self.power(waveform)
            return power.sqrt() if power.requires_grad else power.sqrt_()


class Chroma(nn.Module):
    """Chromagram, Eq. 5: a CQT folded onto the 12 pitch classes (index 0 = C), then normalised.

    Computes a :class:`CQT` with ``n_octaves * bins_per_octave`` bins from ``f_min`` and sums
    each pitch class over octaves with librosa's fold matrix (``librosa.filters.cq_to_chroma``,
    which with 36 bins per octave also merges the three bins around each semitone). Then, as
    ``librosa.feature.chroma_cqt``: values below ``threshold`` are zeroed and each frame is
    divided by its ``norm`` (``inf``: the loudest class becomes 1; silent frames stay 0).
    With the defaults it reproduces ``librosa.feature.chroma_cqt(y=y, sr=22050, tuning=0.0)``.
    Output ``(batch, 12, frames)``. Chapters: "MIR problems and audio representations" and the
    deep-chroma model; :meth:`fold` shows the folding step on its own.

    Keyword-only options (defaults): ``sample_rate=22050``, ``hop_length=512``,
    ``f_min=32.70319566257483`` (C1), ``n_octaves=7``, ``bins_per_octave=36``, ``tuning=0.0``,
    ``norm=math.inf`` (or 1, 2, ``None`` for none), ``threshold=0.0``.
    """

    def __init__(
        self,
        *,
        sample_rate: int = 22050,
        hop_length: int = 512,
        f_min: float = C1_HZ,
        n_octaves: int = 7,
        bins_per_octave: int = 36,
        tuning: float = 0.0,
        norm: float | None = math.inf,
        threshold: float | None = 0.0,
    ) -> None:
        super().__init__()
        n_octaves = check_positive_int(n_octaves, "n_octaves")
        bins_per_octave = check_positive_int(bins_per_octave, "bins_per_octave")
        if bins_per_octave % 12:
            raise ValueError(f"bins_per_octave must be a multiple of 12; got {bins_per_octave}")
        if norm is not None and (isinstance(norm, bool) or norm not in (1, 2, math.inf)):
            raise ValueError(f"norm must be 1, 2, math.inf or None; got {norm!r}")
        _check_real(threshold, "threshold", optional=True)
        self.cqt = CQT(
            sample_rate=sample_rate, hop_length=hop_length, f_min=f_min,
            n_bins=n_octaves * bins_per_octave, bins_per_octave=bins_per_octave, tuning=tuning,
        )
        self.sample_rate, self.hop_length, self.n_bins = self.cqt.sample_rate, self.cqt.hop_length, 12
        self.norm, self.threshold = norm, threshold
        self.n_octaves, self.bins_per_octave = n_octaves, bins_per_octave
        fold = librosa.filters.cq_to_chroma(
            self.cqt.n_bins, bins_per_octave=bins_per_octave, n_chroma=12, fmin=f_min
        )
        self.register_buffer("fold_matrix", torch.from_numpy(fold.astype(np.float32)), persistent=False)

    @property
    def settings(self) -> dict:
        """The constructor's options as this instance holds them (feature caches key on them)."""
        return {"sample_rate": self.sample_rate, "hop_length": self.hop_length, "f_min": self.cqt.f_min,
                "n_octaves": self.n_octaves, "bins_per_octave": self.bins_per_octave, "tuning": self.cqt.tuning,
                "norm": self.norm, "threshold": self.threshold}

    def fold(self, cqt_magnitude: torch.Tensor) -> torch.Tensor:
        """Fold a CQT magnitude ``(batch, n_octaves * bins_per_octave, frames)`` to chroma (Eq. 5)."""
        if cqt_magnitude.dim() != 3 or cqt_magnitude.shape[1] != self.fold_matrix.shape[1]:
            raise ValueError(
                f"expected a CQT magnitude of shape (batch, {self.fold_matrix.shape[1]}, frames); "
                f"got {tuple(cqt_magnitude.shape)}"
            )
        return self._normalise(torch.matmul(self.fold_matrix, cqt_magnitude))

    def _normalise(self, chroma: torch.Tensor) -> torch.Tensor:
        """Threshold and per-frame norm of a folded chroma ``(batch, 12, frames)``."""
        if self.threshold is not None:
            chroma = torch.where(chroma < self.threshold, torch.zeros_like(chroma), chroma)
        if self.norm is None:
            return chroma
        if self.norm == math.inf:  # the same values as vector_norm's, which is slow on 12 rows
            length = chroma.abs().amax(dim=1, keepdim=True)
        else:
            length = torch.linalg.vector_norm(chroma, ord=self.norm, dim=1, keepdim=True)
        tiny = torch.finfo(chroma.dtype).tiny
        return chroma / torch.where(length < tiny, torch.ones_like(length), length)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        with thread_policy(waveform):
            power = self.cqt.power(waveform)
            magnitude = power.sqrt() if power.requires_grad else power.sqrt_()
            # fold() with frames as the rows of the product
            return self._normalise((magnitude.transpose(1, 2) @ self.fold_matrix.T).transpose(1, 2))


class LogCompression(nn.Module):
    """Log compression of magnitudes, Section 5.1: ``log(X + eps)`` or decibels.

    ``mode="log"``: natural ``log(X + eps)``, the paper's ``X -> log(X + eps)``.
    ``mode="db"``: decibels, ``(20 / input_power) * log10(max(X, eps))``: for a power
    spectrogram (``input_power=2``) ``10 log10(max(X, eps))``, for a magnitude
    (``input_power=1``) ``20 log10(max(X, eps))``; equal to ``librosa.power_to_db`` /
    ``librosa.amplitude_to_db`` with ``ref=1.0, amin=eps, top_db=None``.
    Shape-preserving; no ``sample_rate`` of its own (use it after a representation inside a
    :class:`Frontend`). Chapter: "MIR problems and audio representations", section on log
    compression; every model chapter's frontend.

    Keyword-only options (defaults): ``mode="log"``, ``eps=1e-6``, ``input_power=2.0``
    (only used by ``mode="db"``).
    """

    def __init__(self, *, mode: str = "log", eps: float = 1e-6, input_power: float = 2.0) -> None:
        super().__init__()
        check_choice(mode, "mode", ("log", "db"))
        if not _check_real(eps, "eps") > 0:
            raise ValueError(f"eps must be positive; got {eps!r}")
        if not _check_real(input_power, "input_power") > 0:
            raise ValueError(f"input_power must be positive (1 magnitude, 2 power); got {input_power!r}")
        self.mode, self.eps, self.input_power = mode, float(eps), float(input_power)

    @property
    def settings(self) -> dict:
        """The constructor's options as this instance holds them (feature caches key on them)."""
        return {"mode": self.mode, "eps": self.eps, "input_power": self.input_power}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise ValueError(f"LogCompression expects a float tensor of magnitudes; got {type(x).__name__}"
                             + (f" of dtype {x.dtype}" if isinstance(x, torch.Tensor) else ""))
        if self.mode == "log":
            return torch.log(x + self.eps)
        return (20.0 / self.input_power) * torch.log10(torch.clamp(x, min=self.eps))


class Frontend(nn.Sequential):
    """A representation followed by post-processing modules, e.g. ``Frontend(MelSpectrogram(),
    LogCompression(mode="db"))``: the input stage of every model (Section 5.1, 5.4).

    An ``nn.Sequential`` that forwards ``sample_rate``, ``hop_length`` and ``n_bins`` from its
    first module, so datasets and models can read the frame rate and the number of bins.
    Used by ``mirbook.data`` datasets and each model's ``frontend()``.
    """

    def __init__(self, representation: nn.Module, *post: nn.Module) -> None:
        check_frontend(representation, name="Frontend's first module")
        for module in post:
            if not isinstance(module, nn.Module):
                raise ValueError(f"Frontend takes torch nn.Modules; got {type(module).__name__}")
        super().__init__(representation, *post)
        for attribute in FRONTEND_ATTRIBUTES:
            setattr(self, attribute, int(getattr(representation, attribute)))
