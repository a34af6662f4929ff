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

import math

import librosa
import numpy as np
import scipy.signal
import torch
import torchaudio
from torch import nn

from mirbook.checks import as_waveform_batch, check_finite, check_sample_rate
from mirbook.cpu_loops import BandSums, squared_magnitudes

#: Version of how the modules below compute their values. Bump it with any change that alters the
#: output of a frontend without changing its weights (framing, padding, chunking, magnitude), so
#: that feature caches keyed by :func:`mirbook.data.cache.frontend_fingerprint` never serve values
#: computed by earlier code. 2: the CQT's trimmed filter support and chunked batches of session 2.
#: 3: the CQT's decimation plans (session 6), the mel's compiled band sums and CQT filter groups
#: of 24 (session 7).
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
# Frames (all clips together) transformed per step on a CPU, per torch thread: the windowed
# frames, their spectrum and its power then stay in each core's cache from one step to the next
# (about 1 MB each with n_fft=2048) instead of streaming the whole batch through memory once per
# step; with more threads a step grows so that each thread still gets as many frames.
_CPU_FRAMES_PER_STEP = 128
# Neighbouring mel bands multiplied together with the STFT bins they cover (see MelSpectrogram).
_MEL_GROUP = 16
# Neighbouring CQT filters (of similar lengths) applied together, each group over its own taps
# (fewer, larger products beat tighter spans; for 36 bins per octave groups of 24 and 12 measured
# 7 % faster than 18 and 18, and 12 / 36 slower: MKL runs a 48-column product at about the
# time of a 36-column one).
_CQT_GROUP = 24
# Samples (of the padded per-clip layout) a CQT works on at once: 8 clips of 30 s. Measured 15 %
# faster than a whole batch of 16 such clips in one layout (the signal and its decimations stay
# in the last-level cache), and it bounds the memory for long batches.
_CQT_CHUNK_SAMPLES = 6 * 2**20
# Outputs per frame of a decimation product (see _decimation_matrix): measured fastest.
_DECIMATION_BLOCK = 32


def cqt_frequencies(*, f_min: float = C1_HZ, n_bins: int = 84, bins_per_octave: int = 12) -> np.ndarray:
    """Centre frequencies ``f_min * 2 ** (k / bins_per_octave)`` of the CQT bins (Eq. 4), in Hz.

    Used by :class:`CQT` and plotted in the chapter "MIR problems and audio representations".
    """
    if not f_min > 0:
        raise ValueError(f"f_min must be a positive frequency in Hz; got {f_min!r}")
    n_bins = _check_positive_int(n_bins, "n_bins")
    bins_per_octave = _check_positive_int(bins_per_octave, "bins_per_octave")
    return float(f_min) * 2.0 ** (np.arange(n_bins) / bins_per_octave)


def _check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive int; got {value!r}")
    return int(value)


def _check_choice(value, name: str, choices: tuple) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}; got {value!r}")


class STFT(nn.Module):
    """Magnitude (``power=1``) or power (``power=2``) short-time Fourier transform, Eq. 2.

    A periodic Hann window and ``torch.fft.rfft`` over the frames, like ``torch.stft``; with the
    defaults it equals ``np.abs(librosa.stft(y, n_fft=2048, hop_length=512)) ** power``. Output
    ``(batch, n_fft // 2 + 1, 1 + samples // hop_length)``; inputs shorter than one window
    (``win_length`` samples) are refused. Chapter: "MIR problems and audio representations".

    On a CPU the frames go through in steps of about 128 per torch thread (all clips together), so each step's
    frames, spectrum and magnitude stay in cache; the frames that lie wholly inside a clip are
    strided views of it (no padded copy of the batch), only the few frames that overlap the
    padding at either end are built from a padded copy of the clips' ends.

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
        self.n_fft = _check_positive_int(n_fft, "n_fft")
        self.hop_length = _check_positive_int(hop_length, "hop_length")
        self.win_length = self.n_fft if win_length is None else _check_positive_int(win_length, "win_length")
        if self.win_length > self.n_fft:
            raise ValueError(f"win_length must be <= n_fft={self.n_fft}; got {self.win_length}")
        if power is not None and not power > 0:
            raise ValueError(f"power must be positive (1 magnitude, 2 power) or None; got {power!r}")
        _check_choice(pad_mode, "pad_mode", ("constant", "reflect"))
        self.power = power
        self.center = bool(center)
        self.pad_mode = pad_mode
        self.n_bins = self.n_fft // 2 + 1
        # A shorter window sits in the middle of the n_fft samples, as in torch.stft and librosa.
        left = (self.n_fft - self.win_length) // 2
        window = torch.zeros(self.n_fft)
        window[left : left + self.win_length] = torch.hann_window(self.win_length, periodic=True)
        self.register_buffer("window", window, persistent=False)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        x = as_waveform_batch(waveform, min_samples=self.win_length)
        return self._spectrogram(x)

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

    def _spectra(self, x: torch.Tensor):
        """Yield the complex spectra ``(batch, frames, n_bins)`` of consecutive runs of frames."""
        x = x.to(self.window.dtype)
        step = max(1, _CPU_FRAMES_PER_STEP * torch.get_num_threads() // x.shape[0]) if x.device.type == "cpu" else None
        for piece in self._frame_pieces(x):
            for start in range(0, piece.shape[1], step or piece.shape[1]):
                yield torch.fft.rfft(piece[:, start : start + (step or piece.shape[1])] * self.window)

    def _spectrogram(self, x: torch.Tensor) -> torch.Tensor:
        """The transform of an already checked ``(batch, samples)`` float tensor."""
        chunks = [spec if self.power is None else _magnitude(spec, self.power) for spec in self._spectra(x)]
        return torch.cat(chunks, dim=1).transpose(1, 2)


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

    Each triangle spans few STFT bins, so the product skips the zeros. On a CPU, for float32 and
    without autograd, :class:`mirbook.cpu_loops.BandSums` sums each band over its own bins only
    (about 2000 weights instead of 128 x 1025 for the defaults). Otherwise (autograd, CUDA,
    float64) the bands go in groups of 16 neighbours, each multiplied only with the bins its
    filters cover (about 1/8 of the dense product for 128 bands); for ``power=2`` the squared real
    and imaginary parts enter that product directly (each filter weight twice). Both agree with
    the dense product to float32 rounding.

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
        if power is None:
            raise ValueError("power must be positive (1 magnitude, 2 power); got None")
        self.stft = STFT(
            sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, power=power,
            center=center, pad_mode=pad_mode,
        )
        self.sample_rate = self.stft.sample_rate
        self.hop_length = self.stft.hop_length
        self.n_bins = _check_positive_int(n_mels, "n_mels")
        f_max = self.sample_rate / 2 if f_max is None else float(f_max)
        if not 0.0 <= f_min < f_max <= self.sample_rate / 2:
            raise ValueError(
                f"need 0 <= f_min < f_max <= sample_rate / 2 = {self.sample_rate / 2} Hz; "
                f"got f_min={f_min}, f_max={f_max}"
            )
        _check_choice(mel_scale, "mel_scale", ("slaney", "htk"))
        _check_choice(norm, "norm", ("slaney", None))
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

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        x = as_waveform_batch(waveform, min_samples=self.stft.win_length)
        graph = torch.is_grad_enabled() and x.requires_grad
        if x.device.type == "cpu" and self.filterbank.dtype == torch.float32 and not graph:
            out = torch.empty(x.shape[0], self.n_bins, self.stft.n_frames(x.shape[-1]), dtype=torch.float32)
            first = 0
            for spec in self.stft._spectra(x):
                self._band_sums.write(spec, out, first)
                first += spec.shape[1]
            return out
        chunks = [self._project(spec) for spec in self.stft._spectra(x)]
        return torch.cat(chunks, dim=1).transpose(1, 2).contiguous()

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


def _count_twos(n: int) -> int:
    count = 0
    while n > 0 and n % 2 == 0:
        n //= 2
        count += 1
    return count


def _decimation_lowpass(factor: int, pass_edge: float) -> np.ndarray:
    """Odd-length, zero-phase Kaiser FIR for keeping every ``factor``-th sample (unit DC gain, ~120 dB stopband).

    ``pass_edge`` is the highest frequency the CQT kernels still read after decimation, in
    cycles per input sample; everything above ``1 / factor - pass_edge`` would alias onto it and
    is suppressed. Short when the kernels sit low (the usual case), longer near the new Nyquist.
    """
    transition = max(1.0 / factor - 2.0 * pass_edge, 0.04 / factor)
    attenuation = 120.0
    numtaps = int(math.ceil((attenuation - 7.95) / (14.36 * transition))) + 1
    numtaps += 1 - numtaps % 2  # odd: a centred tap keeps frames aligned in time
    beta = 0.1102 * (attenuation - 8.7)
    return scipy.signal.firwin(numtaps, 1.0 / factor, window=("kaiser", beta))


def _decimation_matrix(fir: np.ndarray, factor: int) -> np.ndarray:
    """The FIR as a banded matrix: a frame of ``len(fir) + factor * (q - 1)`` samples gives ``q`` outputs."""
    band = np.zeros((len(fir) + factor * (_DECIMATION_BLOCK - 1), _DECIMATION_BLOCK))
    for u in range(_DECIMATION_BLOCK):
        band[factor * u : factor * u + len(fir), u] = fir
    return band


def _octave_taps(freqs: np.ndarray, alpha: np.ndarray, lengths: np.ndarray, *, sample_rate: int, level: int,
                 filter_scale: float, sparsity: float) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, float]:
    """librosa's CQT kernels for one octave, at ``sample_rate / 2 ** level``, as time-domain taps.

    Returns ``(n_fft, taps (n_filters, n_fft) complex, first tap of each filter's support, one
    past its last, highest frequency any kernel reads in Hz)``; ``frame . taps[k]`` equals
    librosa's ``kernel[k] . rfft(frame)`` for an ``n_fft``-long frame.
    """
    sr_level = sample_rate / 2**level
    basis, level_lengths = librosa.filters.wavelet(
        freqs=freqs, sr=sr_level, filter_scale=filter_scale, norm=1, pad_fft=True, alpha=alpha,
        dtype=np.complex128,
    )
    n_fft = basis.shape[1]
    basis *= level_lengths[:, None] / n_fft
    kernel = np.fft.fft(basis, n=n_fft, axis=1)[:, : n_fft // 2 + 1]
    kernel = librosa.util.sparsify_rows(kernel, quantile=sparsity).toarray()
    # librosa scales the response by sqrt(sr / sr_level) (filters) and 1/sqrt(length)
    # (scale=True), and its resampler by sqrt(2) per halving: together 2**level / sqrt(length).
    kernel *= 2**level / np.sqrt(lengths)[:, None]
    # kernel . rfft(frame) == frame . taps with taps[t] = sum_k kernel[k] exp(-2 pi i k t / n_fft): an FFT
    taps = np.fft.fft(kernel, n=n_fft, axis=1)
    # Filter k's wavelet fills sizes[k] samples centred in the n_fft-long basis (librosa's
    # pad_center); its taps are that support mirrored. Outside it the taps hold only the residue
    # of the FFT-domain sparsification (at most 4e-5 of a filter's energy, -44 dB): the callers
    # keep only the taps inside each group's span.
    sizes = np.array([len(np.arange(-n // 2, n // 2)) for n in level_lengths])
    ends = n_fft - (n_fft - sizes) // 2 + 1
    used = np.flatnonzero(np.abs(kernel).sum(axis=0) > 0)
    return n_fft, taps, ends - sizes, ends, float(used[-1] * sr_level / n_fft)


def _phases(n_taps: int, hop: int) -> int:
    """The least ``m`` with ``m * hop >= n_taps`` (frames that far apart do not overlap), as a power of two."""
    return 1 << (-(-n_taps // hop) - 1).bit_length()


def _frame_products(flat: torch.Tensor, weight: torch.Tensor, *, batch: int, segment: int, margin: int,
                    hop: int, left_pad: int) -> torch.Tensor:
    """``weight`` ``(N, C)`` applied to every ``hop``-spaced, ``N``-long frame of each clip of a flat batch.

    ``flat`` holds ``margin`` zeros, then ``batch`` segments of ``segment`` samples (each a clip
    followed by zeros), then at least ``margin`` zeros. Frame ``j`` of clip ``b`` starts
    ``left_pad`` samples before sample ``j * hop`` of the clip (librosa's ``center=True``).
    The frames are never copied out: with ``m = ceil(N / hop)`` (rounded up to a power of two,
    ``segment`` a multiple of ``m * hop``), frames ``p, p + m, p + 2m, ...`` of all clips are
    ``m * hop >= N`` samples apart, i.e. the rows of a strided view that BLAS reads in place,
    and the ``m`` such views are the batch of one batched product. Returns a ``(batch, segment //
    (m * hop), m, C)`` view: entry ``[b, r, p]`` is frame ``r * m + p`` of clip ``b``.
    """
    n_taps, n_out = weight.shape
    m = _phases(n_taps, hop)
    rows = segment // (m * hop)
    frames = flat.as_strided((m, batch * rows, n_taps), (hop, m * hop, 1), margin - left_pad)
    return torch.bmm(frames, weight.expand(m, n_taps, n_out)).view(m, batch, rows, n_out).permute(1, 2, 0, 3)


def _clip_products(x: torch.Tensor, weight: torch.Tensor, *, hop: int, left_pad: int, n_frames: int,
                   out: torch.Tensor | None = None) -> torch.Tensor:
    """``weight`` ``(N, C)`` applied to the first ``n_frames`` frames of each clip of ``x`` ``(batch, n)``.

    The layout-free twin of :func:`_frame_products` for the full-rate signal, which is thus never
    copied: frame ``j`` starts ``left_pad`` samples before sample ``j * hop`` and samples outside
    the clip count as zeros. The frames wholly inside a clip are strided views of ``x`` (rows
    ``m * hop`` apart, clips ``n`` apart: one batched product per phase, written in place); the
    few that reach past either end are taken from zero-padded copies of what they read, and
    those starting past the end are zero. ``n_frames`` must be a multiple of ``m``. Returns
    ``(batch, n_frames // m, m, C)`` (into ``out`` if given): entry ``[b, r, p]`` is frame ``r * m + p``.
    """
    x = x.contiguous()
    batch, n = x.shape
    n_taps, n_out = weight.shape
    m = _phases(n_taps, hop)
    if out is None:
        out = x.new_empty(batch, n_frames // m, m, n_out)
    frames = out.view(batch, n_frames, n_out)
    weights = weight.expand(batch, n_taps, n_out)

    def from_copy(begin: int, end: int) -> None:  # frames begin .. end - 1 from a padded copy
        start, stop = begin * hop - left_pad, (end - 1) * hop - left_pad + n_taps
        piece = x.new_zeros(batch, stop - start)
        low, high = max(start, 0), min(stop, n)
        if high > low:
            piece[:, low - start : high - start] = x[:, low:high]
        torch.bmm(piece.unfold(-1, n_taps, hop), weights, out=frames[:, begin:end])

    first = -(-left_pad // hop)  # the first frame that starts inside the clip
    last = min((n - n_taps + left_pad) // hop, n_frames - 1)  # the last that ends inside it
    zero = min(n_frames, -(-(n + left_pad) // hop))  # frames from here on start past the end
    if last < first:  # a clip shorter than a frame or two
        from_copy(0, zero)
    else:
        for phase in range(m):
            begin, end = -(-max(first - phase, 0) // m), (last - phase) // m + 1
            if end > begin:
                body = x.as_strided((batch, end - begin, n_taps), (n, m * hop, 1),
                                    x.storage_offset() + (begin * m + phase) * hop - left_pad)
                torch.bmm(body, weights, out=out[:, begin:end, phase])
        if first > 0:
            from_copy(0, first)
        if zero > last + 1:
            from_copy(last + 1, zero)
    frames[:, zero:] = 0.0
    return out


def _framed_matmul(flat: torch.Tensor, weight: torch.Tensor, *, batch: int, segment: int, margin: int,
                   hop: int, left_pad: int, out: torch.Tensor | None = None) -> torch.Tensor:
    """Every frame of a flat batch (see :func:`_frame_products`) times ``weight``: ``(batch, segment // hop, C)``.

    All clips and their zero padding go through together: ``m`` large matrix products over the
    whole flat batch. Without autograd, ``out`` (a contiguous tensor of ``batch * segment // hop
    * C`` values) receives the result in place, sparing a copy.
    """
    n_taps, n_out = weight.shape
    m = _phases(n_taps, hop)
    stride = m * hop
    rows = batch * segment // stride
    frames = [flat.as_strided((rows, n_taps), (stride, 1), margin - left_pad + p * hop) for p in range(m)]
    if out is None:
        return torch.stack([phase @ weight for phase in frames], dim=1).view(batch, segment // hop, n_out)
    target = out.view(rows, m, n_out)
    for p, phase in enumerate(frames):
        torch.mm(phase, weight, out=target[:, p])
    return out.view(batch, segment // hop, n_out)


def _flat_batch(x: torch.Tensor, *, segment: int, margin: int) -> torch.Tensor:
    """Lay out ``x`` ``(batch, n)`` as ``margin`` zeros + per-clip zero-padded segments + ``margin`` zeros."""
    batch, n_samples = x.shape
    flat = x.new_empty(2 * margin + batch * segment)
    flat[:margin] = 0.0
    flat[margin + batch * segment :] = 0.0
    clips = flat[margin : margin + batch * segment].view(batch, segment)
    clips[:, :n_samples] = x
    clips[:, n_samples:] = 0.0
    return flat


def _candidate_levels(n_octaves: int, early: int, deepest: int) -> list[list[int]]:
    """Decimation levels of the octaves (top first) to choose from: librosa's plan, then a variant.

    librosa's plan: ``early`` halvings, then one after each octave (``early + o`` for octave
    ``o``), never beyond ``deepest`` (the hop must stay an integer). The variant computes the
    second octave at the first one's rate, with its kernels taken to that rate, and then
    decimates by four: a decimation product costs about the same per *input* sample whatever
    its factor, so skipping a level can be cheaper than the longer kernels it implies.

    Measured and left out: computing every pair of octaves at one rate (up to 2.6 % of the
    largest value from librosa in the first and last frames, where librosa's resampler cuts each
    decimated signal at the clip's ends, which kernels taken to a higher rate do not see), and
    any octave at a *lower* rate than librosa's (its kernels, sparsified at that rate's
    resolution, differ from librosa's: 1-1.6 % of the largest value with 36 bins per octave).
    """
    plans = [[min(early + o, deepest) for o in range(n_octaves)]]
    if n_octaves > 1 and plans[0][1] > plans[0][0]:
        plans.append(plans[0][:1] * 2 + plans[0][2:])
    return plans


class CQT(nn.Module):
    """Constant-Q transform magnitude, Eq. 4: bins at ``f_min * 2 ** (k / bins_per_octave)``.

    Why implemented here: torchaudio has no CQT, and the GPU-ready alternatives (nnAudio) are
    neither a dependency of this project nor equal to librosa. This is librosa's own algorithm
    (Brown & Puckette's FFT-domain kernels, applied octave by octave to a signal decimated by
    two per octave), rearranged for batched torch:

    * the kernels are librosa's wavelet filters (``librosa.filters.wavelet``: Hann window, L1
      norm, FFT-domain sparsity 0.01, librosa's length scaling), built once at construction;
    * librosa multiplies each frame's FFT by the sparse kernel. Both steps are linear, so they
      are folded into one real ``(n_fft, 2 * bins)`` matrix (the sparse kernel taken back to
      the time domain, real and imaginary parts), registered as a buffer. An octave then costs
      a few strided matrix products over all frames of the batch (see ``_frame_products``), at
      BLAS speed instead of many small FFTs;
    * decimation is a zero-phase Kaiser FIR designed from the kernels' actual bandwidth (flat
      where the kernels read, ~120 dB down where aliases would land), applied the same way as a
      banded matrix product. Such a product costs about the same per input sample whatever its
      factor, so the module may skip a halving: it then computes the octave at the rate above,
      with librosa's kernels taken to that rate through the halving's filter (zero-stuffed and
      filtered, twice as long), and decimates by four afterwards. At construction it counts the
      multiply-adds of librosa's plan and of this variant (decimation counted twice: its narrow
      products run at about half the speed) and keeps the cheaper (see ``_candidate_levels``).
      Both give the same transform to float32 rounding away from the clip ends (tested). With
      the defaults the second octave is computed at the full rate (measured 17-20 % faster); for
      :class:`Chroma`'s 36 bins per octave, whose kernels dominate, librosa's plan stays;
    * outside a filter's own support (its Hann window, librosa's filter length) librosa's
      sparsified kernel holds just the sparsification's residue, at most 4e-5 of a filter's
      energy (-44 dB). Filters go in groups of up to 24 neighbours, each group over the span of
      its members' supports (so a shorter member keeps the residue inside that span, the rest
      is dropped): with 36 bins per octave this halves the work of the kernels padded to a
      power of two. The grouping therefore moves values by up to 0.3 % of the largest (as
      close to librosa either way). Octaves that share a level go into one product;
    * without autograd the full-rate clips are read in place (``_clip_products``: only the
      frames at a clip's ends come from padded copies), decimated signals are written straight
      into the next level's layout, and each product's squared magnitudes (by a compiled loop,
      :func:`mirbook.cpu_loops.squared_magnitudes`, on the CPU) straight into the
      output; the NaN/inf test of the input runs on the first decimated signal, which every
      input sample reaches (tested), at a fraction of the cost.

    With the defaults it reproduces ``np.abs(librosa.cqt(y, sr=22050, hop_length=512,
    n_bins=84, bins_per_octave=12))`` (per-frame correlation > 0.999, and away from the clip
    ends differences below 0.5 % of the largest value, about the size of the dropped residue;
    the rest is librosa's soxr resampler, which also ends a clip differently, so the frames
    within half the longest filter of the end agree less closely; against librosa with
    ``res_type="polyphase"`` they agree there too). Output ``(batch, n_bins, 1 + samples // hop_length)``, lowest
    bin first; inputs shorter than ``hop_length`` samples are refused. Differentiable.
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
        self.hop_length = _check_positive_int(hop_length, "hop_length")
        self.n_bins = _check_positive_int(n_bins, "n_bins")
        self.bins_per_octave = _check_positive_int(bins_per_octave, "bins_per_octave")
        if not -0.5 <= tuning <= 0.5:
            raise ValueError(f"tuning must be in [-0.5, 0.5] bins; got {tuning!r}")
        if not filter_scale > 0:
            raise ValueError(f"filter_scale must be positive; got {filter_scale!r}")
        if not 0.0 <= sparsity < 1.0:
            raise ValueError(f"sparsity must be in [0, 1); got {sparsity!r}")
        self.f_min, self.tuning = float(f_min), float(tuning)
        tuned_f_min = self.f_min * 2.0 ** (self.tuning / self.bins_per_octave)
        freqs = cqt_frequencies(f_min=tuned_f_min, n_bins=self.n_bins, bins_per_octave=self.bins_per_octave)
        self.register_buffer("frequencies", torch.from_numpy(freqs.astype(np.float32)), persistent=False)

        # librosa's relative bandwidth of equal-tempered bins (filters._relative_bandwidth)
        ratio = 2.0 ** (2.0 / self.bins_per_octave)
        alpha = np.full(self.n_bins, (ratio - 1.0) / (ratio + 1.0))
        lengths, cutoff = librosa.filters.wavelet_lengths(
            freqs=freqs, sr=self.sample_rate, filter_scale=filter_scale, alpha=alpha
        )
        nyquist = self.sample_rate / 2
        if cutoff > nyquist:
            raise ValueError(
                f"the highest CQT filter reaches {cutoff:.0f} Hz, above the Nyquist frequency "
                f"{nyquist:.0f} Hz; lower n_bins or f_min (top bin now {freqs[-1]:.0f} Hz)"
            )

        # Octave o (0 = the top one) holds these bins; it is computed at decimation level
        # levels[o] (the signal decimated by 2 ** levels[o]); the hop must stay an integer.
        n_octaves = math.ceil(self.n_bins / self.bins_per_octave)
        rows = [slice(max(0, self.n_bins - (o + 1) * self.bins_per_octave), self.n_bins - o * self.bins_per_octave)
                for o in range(n_octaves)]
        deepest = _count_twos(self.hop_length)
        early = min(  # librosa.vqt's early decimation while all filters sit far below Nyquist
            max(0, int(math.ceil(math.log2(nyquist / cutoff))) - 2), max(0, deepest - n_octaves + 1)
        )
        # librosa's plan: octave o's kernels are built at level natural[o], as librosa.vqt builds them.
        plans = _candidate_levels(n_octaves, early, deepest)
        natural = plans[0]
        kernels = [
            _octave_taps(freqs[rows[o]], alpha[rows[o]], lengths[rows[o]], sample_rate=self.sample_rate,
                         level=natural[o], filter_scale=filter_scale, sparsity=sparsity)
            for o in range(n_octaves)
        ]

        def edge(o: int, level: int) -> float:
            """Highest frequency octave ``o`` reads, in cycles per sample at ``level``."""
            return kernels[o][4] * 2**level / self.sample_rate

        weights: dict[tuple[int, int], list] = {}

        def groups(o: int, level: int) -> list[tuple[int, int, int, np.ndarray]]:
            """(first filter, n filters, left pad, complex taps (n, span)) of each group of neighbours.

            At a level above ``natural[o]`` a group's taps are librosa's kernels taken to that rate
            through the decimation they replace: zero-stuffed and filtered by the halving FIR, the
            product "halve, then apply the kernel" written as one filter at the higher rate. So every
            plan computes librosa's octave, and plans differ only in speed (and in rounding).
            """
            if (o, level) in weights:
                return weights[o, level]
            n_fft, taps, starts, ends, _ = kernels[o]
            found = []
            for first in range(0, len(taps), _CQT_GROUP):
                members = slice(first, min(first + _CQT_GROUP, len(taps)))
                start, end = int(starts[members].min()), int(ends[members].max())
                if end > n_fft:  # a support as long as the basis wraps around: keep every tap
                    start, end = 0, n_fft
                group, left_pad = taps[members, start:end], n_fft // 2 - start
                for above in range(natural[o] - 1, level - 1, -1):  # from level above + 1 to level above
                    fir = _decimation_lowpass(2, edge(o, above))
                    stuffed = np.zeros((len(group), 2 * group.shape[1] - 1), dtype=group.dtype)
                    stuffed[:, ::2] = group
                    group = scipy.signal.fftconvolve(stuffed, fir[None, :], axes=1)
                    left_pad = 2 * left_pad + (len(fir) - 1) // 2
                found.append((first, members.stop - members.start, left_pad, group))
            weights[o, level] = found
            return found

        def steps(levels: list[int]) -> list[tuple[int, int, float]]:
            """(input level, factor, pass edge in cycles per input sample) of each decimation."""
            found, level = [], 0
            for o, target in enumerate(levels):
                if target > level:
                    found.append((level, 2 ** (target - level), edge(o, level)))
                    level = target
            return found

        def cost(levels: list[int]) -> float:
            """Multiply-adds per input sample: kernel products, plus decimation counted twice."""
            products = sum(2 * n * group.shape[1] for o, level in enumerate(levels)
                           for _, n, _, group in groups(o, level)) / self.hop_length
            decimation = sum(
                (len(_decimation_lowpass(factor, pass_edge)) + factor * (_DECIMATION_BLOCK - 1)) / factor / 2**level
                for level, factor, pass_edge in steps(levels)
            )
            return products + 2.0 * decimation

        levels = min(plans, key=cost)
        self._levels = tuple(levels)

        # The products, in order: (level, hop at that level, first bin, n bins, left pad), each with
        # its taps as a real (span, 2 * n) matrix (real parts, then imaginary) in buffer weight{i}.
        # Octaves of one group each that share a level go into one product (lower bins first, taps
        # aligned on their frames' start): one pass over that signal, twice as many columns.
        found = []  # (level, first bin, n bins, left pad, complex taps, may take the next octave)
        for o, level in enumerate(levels):
            single = len(groups(o, level)) == 1
            for first, n, left_pad, taps in groups(o, level):
                first += rows[o].start
                if single and found and found[-1][5] and found[-1][0] == level:
                    _, _, upper_n, upper_pad, upper, _ = found.pop()
                    pad = max(left_pad, upper_pad)
                    span = max(pad - left_pad + taps.shape[1], pad - upper_pad + upper.shape[1])
                    merged = np.zeros((n + upper_n, span), dtype=taps.dtype)
                    merged[:n, pad - left_pad : pad - left_pad + taps.shape[1]] = taps
                    merged[n:, pad - upper_pad : pad - upper_pad + upper.shape[1]] = upper
                    found.append((level, first, n + upper_n, pad, merged, False))
                else:
                    found.append((level, first, n, left_pad, taps, single))
        self._products: list[tuple[int, int, int, int, int]] = []
        for index, (level, first, n, left_pad, taps, _) in enumerate(found):
            weight = np.concatenate([taps.real, taps.imag]).T
            self.register_buffer(f"weight{index}", torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32)),
                                 persistent=False)
            self._products.append((level, self.hop_length // 2**level, first, n, left_pad))

        # One anti-alias filter per decimation factor, for the widest band any of its steps keeps.
        edges: dict[int, float] = {}
        for _, factor, pass_edge in steps(levels):
            edges[factor] = max(pass_edge, edges.get(factor, 0.0))
        self._fir_pads: dict[int, int] = {}
        for factor, pass_edge in edges.items():
            fir = _decimation_lowpass(factor, pass_edge)
            band = _decimation_matrix(fir, factor)
            self.register_buffer(f"decimator{factor}", torch.from_numpy(band.astype(np.float32)), persistent=False)
            self._fir_pads[factor] = (len(fir) - 1) // 2
        # Segment lengths (at full rate) split into whole frame rows of every product at its level;
        # the room after a clip holds the reach of its frames and FIR tails at every level.
        spans = [getattr(self, f"decimator{factor}").shape[0] for factor in edges]
        step, reach = 2 ** levels[-1], 0
        for level, factor, _ in steps(levels):
            taps, hop = getattr(self, f"decimator{factor}").shape[0], factor * _DECIMATION_BLOCK
            step = math.lcm(step, hop * _phases(taps, hop) * 2**level)
            reach = max(reach, taps * 2**level)
        for index, (level, hop, _, _, left_pad) in enumerate(self._products):
            taps = getattr(self, f"weight{index}").shape[0]
            step = math.lcm(step, hop * _phases(taps, hop) * 2**level)
            reach = max(reach, (hop + taps) * 2**level)
            spans += [taps, left_pad]
        self._segment_step = step
        self._segment_extra = reach + 2 ** levels[-1]
        # zeros around the flat batch: the reach of frames and filters before the first clip and,
        # after the last one, of the rows that fill out its segment
        self._margin = max(spans)

    def _segment(self, n_samples: int) -> int:
        """Per-clip segment length at full rate: room for the clip, the frames' reach and FIR tails."""
        return -(-(n_samples + self._segment_extra) // self._segment_step) * self._segment_step

    def _decimate(self, flat: torch.Tensor, factor: int, *, batch: int, segment: int, n_samples: int) -> torch.Tensor:
        """Low-pass and keep every ``factor``-th sample of each clip (the next level's flat layout).

        ``flat`` is a flat batch, or (without autograd) the clips ``(batch, n_samples)`` themselves.
        """
        decimator = getattr(self, f"decimator{factor}")
        short, margin, kept = segment // factor, self._margin, -(-n_samples // factor)
        hop = factor * decimator.shape[1]
        if flat.dim() == 2:  # the clips, read in place
            out = flat.new_empty(2 * margin + batch * short)
            out[:margin] = 0.0
            out[margin + batch * short :] = 0.0
            rows = segment // (hop * _phases(decimator.shape[0], hop))
            _clip_products(flat, decimator, hop=hop, left_pad=self._fir_pads[factor], n_frames=segment // hop,
                           out=out[margin : margin + batch * short].view(batch, rows, -1, decimator.shape[1]))
            out[margin : margin + batch * short].view(batch, short)[:, kept:] = 0.0
            return out
        options = dict(batch=batch, segment=segment, margin=margin, hop=hop, left_pad=self._fir_pads[factor])
        if torch.is_grad_enabled() and flat.requires_grad:
            y = _framed_matmul(flat, decimator, **options).reshape(batch, short)
            y[:, kept:] = 0.0  # each clip ends at ceil(n / factor), as after librosa's halvings
            return torch.nn.functional.pad(y.reshape(-1), (margin, margin))
        out = flat.new_empty(2 * margin + batch * short)  # inference: write straight into the next layout
        out[:margin] = 0.0
        out[margin + batch * short :] = 0.0
        _framed_matmul(flat, decimator, out=out[margin : margin + batch * short], **options)
        out[margin : margin + batch * short].view(batch, short)[:, kept:] = 0.0
        return out

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        x = as_waveform_batch(waveform, min_samples=self.hop_length, finite=False).to(self.frequencies.dtype)
        chunks = self._chunks(x)
        if torch.is_grad_enabled() and x.requires_grad:
            return torch.cat([self._powers(part).sqrt() for part in chunks])
        out = x.new_empty(x.shape[0], self.n_bins, 1 + x.shape[1] // self.hop_length)
        start = 0
        for part in chunks:
            torch.sqrt(self._powers(part), out=out[start : start + len(part)])
            start += len(part)
        return out

    def _chunks(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The clips of ``x`` in groups of about ``_CQT_CHUNK_SAMPLES`` laid-out samples."""
        return x.split(max(1, _CQT_CHUNK_SAMPLES // self._segment(x.shape[-1])))

    def _powers(self, x: torch.Tensor) -> torch.Tensor:
        """Squared magnitudes ``(batch, n_bins, frames)`` of the clips ``x`` ``(batch, samples)``.

        Also the finiteness test of ``x`` (skipped by ``forward``): without autograd it runs on
        the first decimated signal, where every input sample has entered a product (so a NaN or
        infinity anywhere turns up there), at a fraction of the cost.
        """
        batch, n_samples = x.shape
        n_frames = 1 + n_samples // self.hop_length
        segment = self._segment(n_samples)
        slots = segment // self.hop_length  # frames computed per clip, n_frames of them kept
        inference = not (torch.is_grad_enabled() and x.requires_grad)
        if not inference or self._products[-1][0] == 0:
            check_finite(x, name="waveform")
        # without autograd the full-rate clips are read in place, else laid out as a flat batch
        source = x if inference else _flat_batch(x, segment=segment, margin=self._margin)
        power = x.new_empty(batch, self.n_bins, slots) if inference else None
        columns, level = [], 0
        for index, (target, hop, first, n, left_pad) in enumerate(self._products):
            if target > level:
                factor = 2 ** (target - level)
                source = self._decimate(source, factor, batch=batch, segment=segment, n_samples=n_samples)
                if inference and level == 0 and not bool(torch.isfinite(source.sum())):
                    check_finite(x, name="waveform")  # raises, unless finite values overflowed the sum
                segment, n_samples, level = segment // factor, -(-n_samples // factor), target
            weight = getattr(self, f"weight{index}")
            if source is x:
                products = _clip_products(x, weight, hop=hop, left_pad=left_pad, n_frames=slots)
            else:
                products = _frame_products(source, weight, batch=batch, segment=segment, margin=self._margin,
                                           hop=hop, left_pad=left_pad)
            m = products.shape[2]
            if inference:  # |.|^2 straight into the output: frame r * m + p of clip b from products[b, r, p]
                target = power.view(batch, self.n_bins, slots // m, m)
                if power.device.type == "cpu" and power.dtype == torch.float32:
                    squared_magnitudes(products, target, first)
                else:
                    products = products.square_().permute(0, 3, 1, 2)
                    torch.add(products[:, :n], products[:, n:], out=target[:, first : first + n])
            else:
                framed = products.reshape(batch, slots, 2 * n)[:, :n_frames].square()
                columns.append((first, framed[..., :n] + framed[..., n:]))
        if inference:
            return power[:, :, :n_frames]
        return torch.cat([values for _, values in sorted(columns, key=lambda column: column[0])], dim=2).transpose(1, 2)


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
        n_octaves = _check_positive_int(n_octaves, "n_octaves")
        bins_per_octave = _check_positive_int(bins_per_octave, "bins_per_octave")
        if bins_per_octave % 12:
            raise ValueError(f"bins_per_octave must be a multiple of 12; got {bins_per_octave}")
        if norm is not None and norm not in (1, 2, math.inf):
            raise ValueError(f"norm must be 1, 2, math.inf or None; got {norm!r}")
        self.cqt = CQT(
            sample_rate=sample_rate, hop_length=hop_length, f_min=f_min,
            n_bins=n_octaves * bins_per_octave, bins_per_octave=bins_per_octave, tuning=tuning,
        )
        self.sample_rate, self.hop_length, self.n_bins = self.cqt.sample_rate, self.cqt.hop_length, 12
        self.norm, self.threshold = norm, threshold
        fold = librosa.filters.cq_to_chroma(
            self.cqt.n_bins, bins_per_octave=bins_per_octave, n_chroma=12, fmin=f_min
        )
        self.register_buffer("fold_matrix", torch.from_numpy(fold.astype(np.float32)), persistent=False)

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
        if self.norm == math.inf:  # the same values as vector_norm's, which takes 30x longer on (batch, 12, frames)
            length = chroma.abs().amax(dim=1, keepdim=True)
        else:
            length = torch.linalg.vector_norm(chroma, ord=self.norm, dim=1, keepdim=True)
        tiny = torch.finfo(chroma.dtype).tiny
        return chroma / torch.where(length < tiny, torch.ones_like(length), length)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        # The same as self.fold(self.cqt(waveform)), folding each chunk of clips' CQT as it comes.
        x = as_waveform_batch(waveform, min_samples=self.cqt.hop_length, finite=False).to(self.fold_matrix.dtype)
        parts = []
        for clips in self.cqt._chunks(x):
            power = self.cqt._powers(clips)  # (batch, bins, frames)
            magnitude = power.sqrt() if power.requires_grad else power.sqrt_()
            parts.append((magnitude.transpose(1, 2) @ self.fold_matrix.T).transpose(1, 2))
        return self._normalise(parts[0] if len(parts) == 1 else torch.cat(parts))


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
        _check_choice(mode, "mode", ("log", "db"))
        if not eps > 0:
            raise ValueError(f"eps must be positive; got {eps!r}")
        if not input_power > 0:
            raise ValueError(f"input_power must be positive (1 magnitude, 2 power); got {input_power!r}")
        self.mode, self.eps, self.input_power = mode, float(eps), float(input_power)

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
        missing = [a for a in ("sample_rate", "hop_length", "n_bins") if not isinstance(getattr(representation, a, None), int)]
        if missing:
            raise ValueError(
                "Frontend's first module must be a representation with int attributes sample_rate, "
                f"hop_length and n_bins; {type(representation).__name__} lacks {missing}"
            )
        for module in (representation, *post):
            if not isinstance(module, nn.Module):
                raise ValueError(f"Frontend takes torch nn.Modules; got {type(module).__name__}")
        super().__init__(representation, *post)
        self.sample_rate = representation.sample_rate
        self.hop_length = representation.hop_length
        self.n_bins = representation.n_bins
