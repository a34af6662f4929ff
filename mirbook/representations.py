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
import torch
import torchaudio
from torch import nn

from mirbook.checks import as_waveform_batch, check_sample_rate

#: Version of how the modules below compute their values. Bump it with any change that alters the
#: output of a frontend without changing its weights (framing, padding, chunking, magnitude), so
#: that feature caches keyed by :func:`mirbook.data.cache.frontend_fingerprint` never serve values
#: computed by earlier code. 2: the CQT's trimmed filter support and chunked batches of session 2.
REPRESENTATION_VERSION = "2"

__all__ = [
    "REPRESENTATION_VERSION",
    "STFT",
    "MelSpectrogram",
    "CQT",
    "Chroma",
    "LogCompression",
    "Frontend",
    "frame_times",
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
# (fewer, larger products beat tighter spans: 18 measured fastest for 36 bins per octave).
_CQT_GROUP = 18
# Samples (of the padded per-clip layout) a CQT works on at once: 8 clips of 30 s. Measured 15 %
# faster than a whole batch of 16 such clips in one layout (the signal and its decimations stay
# in the last-level cache), and it bounds the memory for long batches.
_CQT_CHUNK_SAMPLES = 6 * 2**20


def frame_times(n_frames: int, *, sample_rate: int, hop_length: int) -> np.ndarray:
    """Centre time in seconds of each of ``n_frames`` frames (``i * hop_length / sample_rate``).

    The convention of every representation here (librosa's ``center=True``); used to align
    frame-wise predictions with mir_eval annotations in the time-varying chapters.
    """
    if isinstance(n_frames, bool) or not isinstance(n_frames, (int, np.integer)) or n_frames < 0:
        raise ValueError(f"n_frames must be a non-negative int; got {n_frames!r}")
    sample_rate = check_sample_rate(sample_rate)
    hop_length = _check_positive_int(hop_length, "hop_length")
    return np.arange(int(n_frames)) * (hop_length / sample_rate)


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

    def _frame_pieces(self, x: torch.Tensor) -> list[torch.Tensor]:
        """All frames of ``x`` ``(batch, n)`` in order, as ``(batch, frames, n_fft)`` pieces.

        Frame ``i`` starts at sample ``i * hop_length - n_fft // 2`` of the padded clip
        (``center=True``). The middle piece is a strided view of ``x`` (the frames wholly inside
        the clip); the head and tail pieces come from padding only the clips' first and last
        ``n_fft + hop_length`` samples or so. A clip too short for that is padded whole.
        """
        n_fft, hop, n = self.n_fft, self.hop_length, x.shape[-1]
        pad = n_fft // 2 if self.center else 0
        n_frames = 1 + (n + 2 * pad - n_fft) // hop
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

    Each triangle spans few STFT bins, so the product skips the zeros: the bands go in groups of
    16 neighbours, each multiplied only with the bins its filters cover (about 1/8 of the dense
    product for 128 bands). For ``power=2`` the squared real and imaginary parts enter that
    product directly (each filter weight twice), so ``|X|^2`` is never formed on its own.

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
        spans = [g[2:] for g in groups if g[2] is not None] or [(0, 0)]
        self._bins = (min(s[0] for s in spans), max(s[1] for s in spans))  # bins any band reads
        # a group of empty filters (possible with many bands and a short n_fft) reads no bins
        self._groups = [g if g[2] is not None else (g[0], g[1], self._bins[0], self._bins[0]) for g in groups]
        # Each group's weights (bins, bands) as one contiguous block; for power 2 every bin's
        # weight comes twice, once for its squared real part and once for its squared imaginary part.
        for index, (begin, end, first, stop) in enumerate(self._groups):
            block = fbank[first:stop, begin:end]
            block = block.repeat_interleave(2, dim=0) if power == 2.0 else block
            self.register_buffer(f"band_weights{index}", block.contiguous(), persistent=False)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        x = as_waveform_batch(waveform, min_samples=self.stft.win_length)
        chunks = [self._project(spec) for spec in self.stft._spectra(x)]
        return torch.cat(chunks, dim=1).transpose(1, 2).contiguous()

    def _project(self, spec: torch.Tensor) -> torch.Tensor:
        """Mel bands ``(batch, frames, n_mels)`` of complex spectra ``(batch, frames, n_freqs)``."""
        low, high = self._bins
        rows = spec.shape[0] * spec.shape[1]
        if self.stft.power == 2.0:
            # |X|^2 = re^2 + im^2: the squares side by side, summed by the (doubled) filter weights
            values, width = torch.view_as_real(spec[..., low:high]).square().reshape(rows, -1), 2
        else:
            values, width = _magnitude(spec[..., low:high], self.stft.power).reshape(rows, -1), 1
        bands = [
            values[:, width * (first - low) : width * (stop - low)] @ getattr(self, f"band_weights{index}")
            for index, (_, _, first, stop) in enumerate(self._groups)
        ]
        return torch.cat(bands, dim=1).view(spec.shape[0], spec.shape[1], self.n_bins)
def _count_twos(n: int) -> int:
    count = 0
    while n > 0 and n % 2 == 0:
        n //= 2
        count += 1
    return count


def _halfband_lowpass(pass_edge: float) -> np.ndarray:
    """Odd-length, zero-phase Kaiser FIR for decimating by 2 (unit DC gain, ~120 dB stopband).

    ``pass_edge`` is the highest frequency the CQT kernels still read after decimation, in
    cycles per input sample; everything above ``0.5 - pass_edge`` would alias onto it and is
    suppressed. Short when the kernels sit low (the usual case), longer near Nyquist.
    """
    import scipy.signal

    transition = max(0.5 - 2.0 * pass_edge, 0.02)
    attenuation = 120.0
    numtaps = int(math.ceil((attenuation - 7.95) / (14.36 * transition))) + 1
    numtaps += 1 - numtaps % 2  # odd: a centred tap keeps frames aligned in time
    beta = 0.1102 * (attenuation - 8.7)
    return scipy.signal.firwin(numtaps, 0.5, window=("kaiser", beta))


def _framed_matmul(flat: torch.Tensor, weight: torch.Tensor, *, batch: int, segment: int, margin: int,
                   hop: int, left_pad: int, n_frames: int | None = None,
                   out: torch.Tensor | None = None) -> torch.Tensor:
    """Apply ``weight`` ``(N, C)`` to every ``hop``-spaced, ``N``-long frame of a flat batch.

    ``flat`` holds ``margin`` zeros, then ``batch`` segments of ``segment`` samples (each a
    clip followed by zeros), then at least ``margin`` zeros. Frame ``j`` of clip ``b`` starts
    ``left_pad`` samples before sample ``j * hop`` of the clip (librosa's ``center=True``).
    Returns ``(batch, segment // hop, C)``. The frames are never copied out: with
    ``m = ceil(N / hop)``, every m-th frame forms a matrix whose rows are ``m * hop >= N``
    samples apart, i.e. a strided view that BLAS reads in place, so the whole batch costs ``m``
    large matrix products. This is what makes the CQT below fast on a CPU. With ``n_frames``,
    only the first ``n_frames`` frames of each clip are computed (``m`` batched products over
    the clips, each a strided view too) and ``(batch, n_frames, C)`` returned. Without autograd,
    ``out`` (a contiguous tensor of ``batch * segment // hop * C`` values) receives the result
    in place, sparing a copy.
    """
    n_taps, n_out = weight.shape
    m = 1 << (-(-n_taps // hop) - 1).bit_length()  # a power of two keeps segment sizes small
    stride = m * hop
    base = margin - left_pad
    if n_frames is not None:
        rows = -(-n_frames // m)
        weights = weight.expand(batch, n_taps, n_out)
        phases = [torch.bmm(flat.as_strided((batch, rows, n_taps), (segment, stride, 1), base + b * hop), weights)
                  for b in range(m)]
        framed = phases[0] if m == 1 else torch.stack(phases, dim=2).view(batch, rows * m, n_out)
        return framed[:, :n_frames]
    rows = batch * segment // stride
    frames = [flat.as_strided((rows, n_taps), (stride, 1), base + b * hop) for b in range(m)]
    if out is None:
        return torch.stack([phase @ weight for phase in frames], dim=1).view(batch, segment // hop, n_out)
    target = out.view(rows, m, n_out)
    for b, phase in enumerate(frames):
        torch.mm(phase, weight, out=target[:, b])
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


class CQT(nn.Module):
    """Constant-Q transform magnitude, Eq. 4: bins at ``f_min * 2 ** (k / bins_per_octave)``.

    Why implemented here: torchaudio has no CQT, and the GPU-ready alternatives (nnAudio) are
    neither a dependency of this project nor equal to librosa. This is librosa's own algorithm
    (Brown & Puckette's FFT-domain kernels, applied octave by octave with downsampling by two
    between octaves), rearranged for batched torch:

    * the kernels are librosa's wavelet filters (``librosa.filters.wavelet``: Hann window, L1
      norm, FFT-domain sparsity 0.01, librosa's length scaling), built once at construction;
    * librosa multiplies each frame's FFT by the sparse kernel. Both steps are linear, so they
      are folded into one real ``(n_fft, 2 * bins)`` matrix (the sparse kernel taken back to
      the time domain, real and imaginary parts), registered as a buffer. An octave then costs
      a few strided matrix products over all frames of the batch (see ``_framed_matmul``), at
      BLAS speed instead of many small FFTs;
    * decimation by two between octaves is a zero-phase Kaiser FIR designed from the kernels'
      actual bandwidth (flat where the kernels read, ~120 dB down where aliases would land),
      applied the same way as a banded matrix product;
    * each filter keeps only the taps of its own support (its Hann window, librosa's filter
      length): outside it librosa's sparsified kernel holds just the sparsification's residue,
      at most 4e-5 of the filter's energy (-44 dB). Filters go in groups of up to 18
      neighbours, each group over the span of its members' supports: with 36 bins per octave
      this halves the work of the kernels padded to a power of two. Only the frames each clip
      needs are computed (batched products over the clips).

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

        # The downsampling plan of librosa.vqt: early decimation while all filters sit far below
        # Nyquist, then one halving after each octave as long as the hop stays an integer.
        n_octaves = math.ceil(self.n_bins / self.bins_per_octave)
        self._n_early = min(
            max(0, int(math.ceil(math.log2(nyquist / cutoff))) - 2),
            max(0, _count_twos(self.hop_length) - n_octaves + 1),
        )
        # (n_fft, hop, groups of filters, halve after); a group is (first bin, n_filters, first tap)
        self._octaves: list[tuple[int, int, list[tuple[int, int, int]], bool]] = []
        decimation = 2**self._n_early
        pass_edges = []  # highest kernel frequency after each halving, in cycles/sample before it
        top = self.n_bins
        for octave in range(n_octaves):
            rows = slice(max(0, top - self.bins_per_octave), top)
            top = rows.start
            sr_oct = self.sample_rate / decimation
            basis, oct_lengths = librosa.filters.wavelet(
                freqs=freqs[rows], sr=sr_oct, filter_scale=filter_scale, norm=1,
                pad_fft=True, alpha=alpha[rows], dtype=np.complex128,
            )
            n_fft = basis.shape[1]
            basis *= oct_lengths[:, None] / n_fft
            kernel = np.fft.fft(basis, n=n_fft, axis=1)[:, : n_fft // 2 + 1]
            kernel = librosa.util.sparsify_rows(kernel, quantile=sparsity).toarray()
            # librosa scales the response by sqrt(sr / sr_oct) (filters) and 1/sqrt(length)
            # (scale=True), and its resampler by sqrt(2) per halving: together decimation/sqrt(len).
            kernel *= decimation / np.sqrt(lengths[rows])[:, None]
            # kernel . rfft(frame) == frame . taps, with taps[t] = sum_k kernel[k] exp(-2 pi i k t / n_fft)
            taps = kernel @ np.exp(-2j * np.pi * np.outer(np.arange(n_fft // 2 + 1), np.arange(n_fft)) / n_fft)
            # Filter k's wavelet fills oct_sizes[k] samples centred in the n_fft-long basis (librosa's
            # pad_center); its taps are that support mirrored. Outside it the taps hold only the
            # residue of the FFT-domain sparsification (at most 4e-5 of a filter's energy, -44 dB):
            # they are dropped, and each group of _CQT_GROUP neighbouring filters (similar lengths)
            # reads only the span of its members' supports.
            oct_sizes = np.array([len(np.arange(-n // 2, n // 2)) for n in oct_lengths])
            ends = n_fft - (n_fft - oct_sizes) // 2 + 1  # one past each support, in taps
            starts = ends - oct_sizes
            groups = []
            for first in range(0, len(taps), _CQT_GROUP):
                members = slice(first, min(first + _CQT_GROUP, len(taps)))
                start, end = int(starts[members].min()), int(ends[members].max())
                if end > n_fft:  # a support as long as the basis wraps around: keep every tap
                    start, end = 0, n_fft
                weight = np.concatenate([taps[members, start:end].real, taps[members, start:end].imag]).T
                self.register_buffer(f"weight{octave}_{len(groups)}",
                                     torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32)), persistent=False)
                groups.append((rows.start + first, members.stop - members.start, start))
            hop_oct = self.hop_length // decimation
            halve = octave < n_octaves - 1 and hop_oct % 2 == 0
            self._octaves.append((n_fft, hop_oct, groups, halve))
            used = np.flatnonzero(np.abs(kernel).sum(axis=0) > 0)
            top_hz = used[-1] * sr_oct / n_fft
            if octave == 0:
                pass_edges += [top_hz * 2**k / self.sample_rate for k in range(1, self._n_early + 1)]
            elif self._octaves[octave - 1][3]:
                pass_edges.append(top_hz / (2 * sr_oct))
            decimation *= 2 if halve else 1

        # Decimation as a banded matrix: a block of 2q input samples gives q output samples.
        fir = _halfband_lowpass(max(pass_edges, default=0.1))
        self._fir_pad, q = (len(fir) - 1) // 2, 32
        band = np.zeros((len(fir) + 2 * q - 2, q))
        for u in range(q):
            band[2 * u : 2 * u + len(fir), u] = fir
        self.register_buffer("decimator", torch.from_numpy(band.astype(np.float32)), persistent=False)
        # Segment lengths must split into whole frame rows at every level of decimation.
        n_levels = self._n_early + sum(halve for *_, halve in self._octaves)
        step = 2 * q * (1 << (-(-band.shape[0] // (2 * q)) - 1).bit_length())
        for n_fft, hop, _, _ in self._octaves:
            step = math.lcm(step, hop * (1 << (-(-n_fft // hop) - 1).bit_length()))
        self._segment_step = step * 2**n_levels
        self._margin = max(band.shape[0], max(n for n, *_ in self._octaves))  # zeros around the flat batch
        self._segment_extra = 2**n_levels * (self._margin + band.shape[0] + self.hop_length)

    def _segment(self, n_samples: int) -> int:
        """Per-clip segment length at full rate: room for the clip, the frames' reach and FIR tails."""
        return -(-(n_samples + self._segment_extra) // self._segment_step) * self._segment_step

    def _halve(self, flat: torch.Tensor, *, batch: int, segment: int, n_samples: int) -> torch.Tensor:
        """Low-pass and keep every second sample of each clip of a flat batch (next level's layout)."""
        half, margin = segment // 2, self._margin
        options = dict(batch=batch, segment=segment, margin=margin, hop=2 * self.decimator.shape[1], left_pad=self._fir_pad)
        if torch.is_grad_enabled() and flat.requires_grad:
            y = _framed_matmul(flat, self.decimator, **options).reshape(batch, half)
            y[:, (n_samples + 1) // 2 :] = 0.0  # each clip ends at ceil(n / 2), as after librosa's resampling
            return torch.nn.functional.pad(y.reshape(-1), (margin, margin))
        out = flat.new_empty(2 * margin + batch * half)  # inference: write straight into the next layout
        out[:margin] = 0.0
        out[margin + batch * half :] = 0.0
        _framed_matmul(flat, self.decimator, out=out[margin : margin + batch * half], **options)
        out[margin : margin + batch * half].view(batch, half)[:, (n_samples + 1) // 2 :] = 0.0
        return out

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        x = as_waveform_batch(waveform, min_samples=self.hop_length)
        parts = []
        for part in self._chunks(x):
            pieces = sorted(self._magnitudes(part), key=lambda piece: piece[0])
            parts.append(torch.cat([magnitude for _, magnitude in pieces], dim=2).transpose(1, 2).contiguous())
        return parts[0] if len(parts) == 1 else torch.cat(parts)

    def _chunks(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The clips of ``x`` in groups of about ``_CQT_CHUNK_SAMPLES`` laid-out samples."""
        return x.split(max(1, _CQT_CHUNK_SAMPLES // self._segment(x.shape[-1])))

    def _magnitudes(self, x: torch.Tensor):
        """Yield ``(first bin, magnitude (batch, frames, n))`` for each group of filters, top octave first."""
        x = x.to(self.decimator.dtype)
        batch, n_samples = x.shape
        n_frames = 1 + n_samples // self.hop_length
        segment = self._segment(n_samples)
        flat = _flat_batch(x, segment=segment, margin=self._margin)
        for _ in range(self._n_early):
            flat = self._halve(flat, batch=batch, segment=segment, n_samples=n_samples)
            segment, n_samples = segment // 2, (n_samples + 1) // 2
        for octave, (n_fft, hop, groups, halve_after) in enumerate(self._octaves):
            for group, (first_bin, n_filters, first_tap) in enumerate(groups):
                out = _framed_matmul(flat, getattr(self, f"weight{octave}_{group}"), batch=batch, segment=segment,
                                     margin=self._margin, hop=hop, left_pad=n_fft // 2 - first_tap, n_frames=n_frames)
                yield first_bin, torch.hypot(out[..., :n_filters], out[..., n_filters:])
            if halve_after:
                flat = self._halve(flat, batch=batch, segment=segment, n_samples=n_samples)
                segment, n_samples = segment // 2, (n_samples + 1) // 2


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
        length = torch.linalg.vector_norm(chroma, ord=self.norm, dim=1, keepdim=True)
        tiny = torch.finfo(chroma.dtype).tiny
        return chroma / torch.where(length < tiny, torch.ones_like(length), length)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        # The same as self.fold(self.cqt(waveform)), folding each group of CQT bins as it comes
        # (the fold is linear): the full log-frequency spectrogram is never assembled.
        x = as_waveform_batch(waveform, min_samples=self.cqt.hop_length)
        parts = []
        for clips in self.cqt._chunks(x):
            chroma = None
            for first, magnitude in self.cqt._magnitudes(clips):
                part = magnitude @ self.fold_matrix[:, first : first + magnitude.shape[-1]].T
                chroma = part if chroma is None else chroma + part
            parts.append(chroma.transpose(1, 2))
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
