"""The constant-Q transform's engine (Eq. 4): librosa's CQT as a few batched torch matrix products.

:class:`mirbook.representations.CQT` holds the options, the buffers and ``forward``; this module
plans the computation once (:func:`plan_cqt`) and runs it on a batch (:func:`cqt_power`).
Chapter: "MIR problems and audio representations".

The algorithm is librosa's: Brown & Puckette's FFT-domain kernels (``librosa.filters.wavelet``),
applied octave by octave to a signal decimated by two per octave. Rearranged for torch:

* an octave's kernel times a frame's FFT is linear in the frame, so it is one real
  ``(taps, 2 * bins)`` matrix (real parts, then imaginary) applied to the frames in place
  (strided views, :func:`frame_products` / :func:`clip_products`);
* decimation is a zero-phase Kaiser FIR designed from the kernels' bandwidth, applied as a banded
  matrix (:func:`decimation_matrix`). Its cost per input sample hardly depends on the factor, so
  the plan may compute an octave at the rate above with librosa's kernels taken to that rate
  (:func:`candidate_levels`) and keeps whichever plan needs fewer multiply-adds;
* neighbouring filters go in groups of :data:`GROUP_SIZE` over the span of their members'
  supports: outside its support librosa's sparsified kernel holds only a residue (-44 dB), which a
  shorter member keeps inside its group's span (values move by up to 0.3 % of the largest);
* without autograd the clips are read in place, decimated signals are written straight into the
  next level's layout, and the squared magnitudes straight into the output
  (:func:`mirbook.spectral_sums.squared_magnitudes` on the CPU); the NaN/inf test runs on the
  first decimated signal, which every input sample reaches.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import librosa
import numpy as np
import scipy.signal
import torch

from mirbook.checks import MAX_AMPLITUDE, check_finite, within_amplitude
from mirbook.spectral_sums import squared_magnitudes

__all__ = [
    "CHUNK_SAMPLES",
    "DECIMATION_BLOCK",
    "GROUP_SIZE",
    "Plan",
    "Product",
    "candidate_levels",
    "clip_products",
    "cqt_power",
    "decimation_lowpass",
    "decimation_matrix",
    "filter_lengths",
    "flat_batch",
    "frame_products",
    "framed_matmul",
    "octave_taps",
    "plan_cqt",
]

#: Neighbouring CQT filters (of similar lengths) applied together: fewer, larger products beat tighter spans.
GROUP_SIZE = 24
#: Laid-out samples (8 clips of 30 s) computed at once: the signal and its decimations stay in the
#: last-level cache, and long batches need bounded memory.
CHUNK_SAMPLES = 6 * 2**20
#: Outputs per frame of a decimation product.
DECIMATION_BLOCK = 32


def filter_lengths(freqs: np.ndarray, *, sample_rate: int, bins_per_octave: int,
                   filter_scale: float) -> tuple[np.ndarray, np.ndarray, float]:
    """librosa's relative bandwidths, filter lengths (samples) and highest frequency reached (Hz)."""
    ratio = 2.0 ** (2.0 / bins_per_octave)  # librosa's equal-tempered bandwidth (filters._relative_bandwidth)
    alpha = np.full(len(freqs), (ratio - 1.0) / (ratio + 1.0))
    lengths, cutoff = librosa.filters.wavelet_lengths(freqs=freqs, sr=sample_rate, filter_scale=filter_scale,
                                                      alpha=alpha)
    return alpha, lengths, float(cutoff)


def _count_twos(n: int) -> int:
    count = 0
    while n > 0 and n % 2 == 0:
        n //= 2
        count += 1
    return count


def decimation_lowpass(factor: int, pass_edge: float) -> np.ndarray:
    """Odd-length, zero-phase Kaiser FIR for keeping every ``factor``-th sample (unit DC gain, ~120 dB stopband).

    ``pass_edge`` is the highest frequency the kernels still read after decimation, in cycles per
    input sample; everything above ``1 / factor - pass_edge`` would alias onto it and is suppressed.
    """
    transition = max(1.0 / factor - 2.0 * pass_edge, 0.04 / factor)
    attenuation = 120.0
    numtaps = math.ceil((attenuation - 7.95) / (14.36 * transition)) + 1
    numtaps += 1 - numtaps % 2  # odd: a centred tap keeps frames aligned in time
    beta = 0.1102 * (attenuation - 8.7)
    return scipy.signal.firwin(numtaps, 1.0 / factor, window=("kaiser", beta))


def decimation_matrix(fir: np.ndarray, factor: int) -> np.ndarray:
    """The FIR as a banded matrix: a frame of ``len(fir) + factor * (q - 1)`` samples gives ``q`` outputs."""
    band = np.zeros((len(fir) + factor * (DECIMATION_BLOCK - 1), DECIMATION_BLOCK))
    for u in range(DECIMATION_BLOCK):
        band[factor * u : factor * u + len(fir), u] = fir
    return band


def octave_taps(freqs: np.ndarray, alpha: np.ndarray, lengths: np.ndarray, *, sample_rate: int, level: int,
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
    # pad_center); its taps are that support mirrored, and outside it they hold only the residue
    # of the FFT-domain sparsification.
    sizes = np.array([len(np.arange(-n // 2, n // 2)) for n in level_lengths])
    ends = n_fft - (n_fft - sizes) // 2 + 1
    used = np.flatnonzero(np.abs(kernel).sum(axis=0) > 0)
    return n_fft, taps, ends - sizes, ends, float(used[-1] * sr_level / n_fft)


def candidate_levels(n_octaves: int, early: int, deepest: int) -> list[list[int]]:
    """Decimation levels of the octaves (top first) to choose from: librosa's plan, then a variant.

    librosa's plan: ``early`` halvings, then one after each octave (``early + o`` for octave
    ``o``), never beyond ``deepest`` (the hop must stay an integer). The variant computes the
    second octave at the first one's rate, with its kernels taken to that rate, and then
    decimates by four. No octave goes below librosa's rate: its kernels would differ from librosa's.
    """
    plans = [[min(early + o, deepest) for o in range(n_octaves)]]
    if n_octaves > 1 and plans[0][1] > plans[0][0]:
        plans.append(plans[0][:1] * 2 + plans[0][2:])
    return plans


class _Octaves:
    """librosa's kernels octave by octave (top first), and their filter groups at any level."""

    def __init__(self, freqs, alpha, lengths, cutoff: float, *, sample_rate: int, hop_length: int,
                 bins_per_octave: int, filter_scale: float, sparsity: float) -> None:
        n_bins, self.sample_rate, self.hop_length = len(freqs), sample_rate, hop_length
        n_octaves = math.ceil(n_bins / bins_per_octave)
        self.rows = [slice(max(0, n_bins - (o + 1) * bins_per_octave), n_bins - o * bins_per_octave)
                     for o in range(n_octaves)]
        deepest = _count_twos(hop_length)
        early = min(  # librosa.vqt's early decimation while all filters sit far below Nyquist
            max(0, math.ceil(math.log2(sample_rate / 2 / cutoff)) - 2), max(0, deepest - n_octaves + 1)
        )
        self.plans = candidate_levels(n_octaves, early, deepest)
        self.natural = self.plans[0]  # the level librosa.vqt builds each octave's kernels at
        self.kernels = [
            octave_taps(freqs[rows], alpha[rows], lengths[rows], sample_rate=sample_rate, level=self.natural[o],
                        filter_scale=filter_scale, sparsity=sparsity)
            for o, rows in enumerate(self.rows)
        ]
        self._groups: dict[tuple[int, int], list] = {}

    def edge(self, o: int, level: int) -> float:
        """Highest frequency octave ``o`` reads, in cycles per sample at ``level``."""
        return self.kernels[o][4] * 2**level / self.sample_rate

    def groups(self, o: int, level: int) -> list[tuple[int, int, int, np.ndarray]]:
        """(first filter, n filters, left pad, complex taps (n, span)) of each group of neighbours.

        Above ``natural[o]`` a group's taps are librosa's kernels taken to that rate through the
        decimation they replace (zero-stuffed, then filtered by the halving FIR), so every plan
        computes librosa's octave.
        """
        if (o, level) in self._groups:
            return self._groups[o, level]
        n_fft, taps, starts, ends, _ = self.kernels[o]
        found = []
        for first in range(0, len(taps), GROUP_SIZE):
            members = slice(first, min(first + GROUP_SIZE, len(taps)))
            start, end = int(starts[members].min()), int(ends[members].max())
            if end > n_fft:  # a support as long as the basis wraps around: keep every tap
                start, end = 0, n_fft
            group, left_pad = taps[members, start:end], n_fft // 2 - start
            for above in range(self.natural[o] - 1, level - 1, -1):  # from level above + 1 to level above
                fir = decimation_lowpass(2, self.edge(o, above))
                stuffed = np.zeros((len(group), 2 * group.shape[1] - 1), dtype=group.dtype)
                stuffed[:, ::2] = group
                group = scipy.signal.fftconvolve(stuffed, fir[None, :], axes=1)
                left_pad = 2 * left_pad + (len(fir) - 1) // 2
            found.append((first, members.stop - members.start, left_pad, group))
        self._groups[o, level] = found
        return found

    def steps(self, levels: list[int]) -> list[tuple[int, int, float]]:
        """(input level, factor, pass edge in cycles per input sample) of each decimation."""
        found, level = [], 0
        for o, target in enumerate(levels):
            if target > level:
                found.append((level, 2 ** (target - level), self.edge(o, level)))
                level = target
        return found

    def cost(self, levels: list[int]) -> float:
        """Multiply-adds per input sample: kernel products, plus decimation counted twice (its
        narrow products run at about half the speed)."""
        products = sum(2 * n * group.shape[1] for o, level in enumerate(levels)
                       for _, n, _, group in self.groups(o, level)) / self.hop_length
        decimation = sum(
            (len(decimation_lowpass(factor, pass_edge)) + factor * (DECIMATION_BLOCK - 1)) / factor / 2**level
            for level, factor, pass_edge in self.steps(levels)
        )
        return products + 2.0 * decimation

    def products(self, levels: list[int]) -> list[tuple[int, int, int, int, np.ndarray]]:
        """(level, first bin, n bins, left pad, complex taps) of each product, in order.

        Octaves of one group each that share a level go into one product (lower bins first, taps
        aligned on their frames' start): one pass over that signal, twice as many columns.
        """
        found = []  # (level, first bin, n bins, left pad, complex taps, may take the next octave)
        for o, level in enumerate(levels):
            single = len(self.groups(o, level)) == 1
            for first, n, left_pad, taps in self.groups(o, level):
                first += self.rows[o].start
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
        return [entry[:5] for entry in found]


@dataclass(frozen=True)
class Product:
    """One kernel product: bins ``first .. first + n - 1`` at decimation ``level``."""

    level: int
    hop: int
    first: int
    n: int
    left_pad: int


@dataclass(frozen=True)
class Plan:
    """What a :class:`~mirbook.representations.CQT` computes, in order, and the batch layout it needs.

    Product ``i`` reads buffer ``weight{i}`` (taps ``(span, 2 n)``, real then imaginary parts);
    decimation by ``f`` reads buffer ``decimator{f}``. Clips are laid out in segments of a
    multiple of ``segment_step`` samples with ``segment_extra`` after each clip, and ``margin``
    zeros around the flat batch.
    """

    n_bins: int
    hop_length: int
    levels: tuple[int, ...]
    products: tuple[Product, ...]
    fir_pads: tuple[tuple[int, int], ...]  # (factor, left pad) of each decimator
    segment_step: int
    segment_extra: int
    margin: int

    def segment(self, n_samples: int) -> int:
        """Per-clip segment length at full rate: room for the clip, the frames' reach and FIR tails."""
        return -(-(n_samples + self.segment_extra) // self.segment_step) * self.segment_step

    def chunks(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The clips of ``x`` ``(batch, samples)`` in groups of about :data:`CHUNK_SAMPLES` laid-out samples."""
        return x.split(max(1, CHUNK_SAMPLES // self.segment(x.shape[-1])))


def plan_cqt(freqs: np.ndarray, alpha: np.ndarray, lengths: np.ndarray, cutoff: float, *, sample_rate: int,
             hop_length: int, bins_per_octave: int, filter_scale: float,
             sparsity: float) -> tuple[Plan, list[np.ndarray], dict[int, np.ndarray]]:
    """Plan the CQT of bins ``freqs``: choose the decimation levels, build the kernels and decimators.

    Returns the :class:`Plan`, the float32 kernel matrices (``weight{i}``) and the float32
    decimation matrices by factor (``decimator{f}``).
    """
    octaves = _Octaves(freqs, alpha, lengths, cutoff, sample_rate=sample_rate, hop_length=hop_length,
                       bins_per_octave=bins_per_octave, filter_scale=filter_scale, sparsity=sparsity)
    levels = min(octaves.plans, key=octaves.cost)
    products, weights = [], []
    for level, first, n, left_pad, taps in octaves.products(levels):
        weights.append(np.ascontiguousarray(np.concatenate([taps.real, taps.imag]).T, dtype=np.float32))
        products.append(Product(level, hop_length // 2**level, first, n, left_pad))
    decimators, fir_pads = _decimators(octaves.steps(levels))
    step, extra, margin = _layout(levels, octaves.steps(levels), products, weights, decimators)
    plan = Plan(len(freqs), hop_length, tuple(levels), tuple(products), tuple(fir_pads.items()), step, extra, margin)
    return plan, weights, decimators


def _decimators(steps: list[tuple[int, int, float]]) -> tuple[dict[int, np.ndarray], dict[int, int]]:
    """One anti-alias filter per decimation factor, for the widest band any of its steps keeps."""
    edges: dict[int, float] = {}
    for _, factor, pass_edge in steps:
        edges[factor] = max(pass_edge, edges.get(factor, 0.0))
    decimators, pads = {}, {}
    for factor, pass_edge in edges.items():
        fir = decimation_lowpass(factor, pass_edge)
        decimators[factor] = decimation_matrix(fir, factor).astype(np.float32)
        pads[factor] = (len(fir) - 1) // 2
    return decimators, pads


def _layout(levels, steps, products, weights, decimators) -> tuple[int, int, int]:
    """(segment step, room after a clip, margin) of the flat batch layout.

    Segments split into whole frame rows of every product at its level; the room after a clip
    holds the reach of its frames and FIR tails at every level; the margin holds the reach of
    frames and filters before the first clip and of the rows that fill out the last segment.
    """
    spans = [decimator.shape[0] for decimator in decimators.values()]
    step, reach = 2 ** levels[-1], 0
    for level, factor, _ in steps:
        taps, hop = decimators[factor].shape[0], factor * DECIMATION_BLOCK
        step = math.lcm(step, hop * _phases(taps, hop) * 2**level)
        reach = max(reach, taps * 2**level)
    for product, weight in zip(products, weights):
        taps = weight.shape[0]
        step = math.lcm(step, product.hop * _phases(taps, product.hop) * 2**product.level)
        reach = max(reach, (product.hop + taps) * 2**product.level)
        spans += [taps, product.left_pad]
    return step, reach + 2 ** levels[-1], max(spans)


def _phases(n_taps: int, hop: int) -> int:
    """The least ``m`` with ``m * hop >= n_taps`` (frames that far apart do not overlap), as a power of two."""
    return 1 << (-(-n_taps // hop) - 1).bit_length()


def frame_products(flat: torch.Tensor, weight: torch.Tensor, *, batch: int, segment: int, margin: int,
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


def clip_products(x: torch.Tensor, weight: torch.Tensor, *, hop: int, left_pad: int, n_frames: int,
                  out: torch.Tensor | None = None) -> torch.Tensor:
    """``weight`` ``(N, C)`` applied to the first ``n_frames`` frames of each clip of ``x`` ``(batch, n)``.

    The layout-free twin of :func:`frame_products` for the full-rate signal, which is thus never
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


def framed_matmul(flat: torch.Tensor, weight: torch.Tensor, *, batch: int, segment: int, margin: int,
                  hop: int, left_pad: int, out: torch.Tensor | None = None) -> torch.Tensor:
    """Every frame of a flat batch (see :func:`frame_products`) times ``weight``: ``(batch, segment // hop, C)``.

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


def flat_batch(x: torch.Tensor, *, segment: int, margin: int) -> torch.Tensor:
    """Lay out ``x`` ``(batch, n)`` as ``margin`` zeros + per-clip zero-padded segments + ``margin`` zeros."""
    batch, n_samples = x.shape
    flat = x.new_empty(2 * margin + batch * segment)
    flat[:margin] = 0.0
    flat[margin + batch * segment :] = 0.0
    clips = flat[margin : margin + batch * segment].view(batch, segment)
    clips[:, :n_samples] = x
    clips[:, n_samples:] = 0.0
    return flat


def _empty_layout(like: torch.Tensor, *, batch: int, segment: int, margin: int) -> torch.Tensor:
    """A flat batch whose margins are zeros and whose segments are yet to be written."""
    out = like.new_empty(2 * margin + batch * segment)
    out[:margin] = 0.0
    out[margin + batch * segment :] = 0.0
    return out


def _decimate(source: torch.Tensor, decimator: torch.Tensor, factor: int, left_pad: int, *, batch: int,
              segment: int, n_samples: int, margin: int) -> torch.Tensor:
    """Low-pass and keep every ``factor``-th sample of each clip (the next level's flat layout).

    ``source`` is a flat batch, or (without autograd) the clips ``(batch, n_samples)`` themselves.
    Each clip ends at ``ceil(n_samples / factor)``, as after librosa's halvings.
    """
    short, kept = segment // factor, -(-n_samples // factor)
    hop = factor * decimator.shape[1]
    if source.dim() == 2:  # the clips, read in place
        out = _empty_layout(source, batch=batch, segment=short, margin=margin)
        rows = segment // (hop * _phases(decimator.shape[0], hop))
        clip_products(source, decimator, hop=hop, left_pad=left_pad, n_frames=segment // hop,
                      out=out[margin : margin + batch * short].view(batch, rows, -1, decimator.shape[1]))
        out[margin : margin + batch * short].view(batch, short)[:, kept:] = 0.0
        return out
    options = {"batch": batch, "segment": segment, "margin": margin, "hop": hop, "left_pad": left_pad}
    if torch.is_grad_enabled() and source.requires_grad:
        y = framed_matmul(source, decimator, **options).reshape(batch, short)
        y[:, kept:] = 0.0
        return torch.nn.functional.pad(y.reshape(-1), (margin, margin))
    out = _empty_layout(source, batch=batch, segment=short, margin=margin)
    framed_matmul(source, decimator, out=out[margin : margin + batch * short], **options)
    out[margin : margin + batch * short].view(batch, short)[:, kept:] = 0.0
    return out


def cqt_power(x: torch.Tensor, plan: Plan, buffers: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Squared CQT magnitudes ``(batch, n_bins, frames)`` of the clips ``x`` ``(batch, samples)``.

    ``buffers`` holds the plan's ``weight{i}`` and ``decimator{f}`` (a CQT's buffers). Also the
    finiteness test of ``x``: without autograd it runs on the first decimated signal, where every
    input sample has entered a product, at a fraction of the cost.
    """
    batch, n_samples = x.shape
    n_frames = 1 + n_samples // plan.hop_length
    segment = plan.segment(n_samples)
    slots = segment // plan.hop_length  # frames computed per clip, n_frames of them kept
    inference = not (torch.is_grad_enabled() and x.requires_grad)
    if not inference or plan.products[-1].level == 0:
        check_finite(x, name="waveform", max_amplitude=MAX_AMPLITUDE)
    # without autograd the full-rate clips are read in place, else laid out as a flat batch
    source = x if inference else flat_batch(x, segment=segment, margin=plan.margin)
    power = x.new_empty(batch, plan.n_bins, slots) if inference else None
    fir_pads, columns, level = dict(plan.fir_pads), [], 0
    for index, product in enumerate(plan.products):
        if product.level > level:
            factor = 2 ** (product.level - level)
            source = _decimate(source, buffers[f"decimator{factor}"], factor, fir_pads[factor], batch=batch,
                               segment=segment, n_samples=n_samples, margin=plan.margin)
            if inference and level == 0 and not within_amplitude(source):
                # raises, unless only the decimator's overshoot crossed the limit
                check_finite(x, name="waveform", max_amplitude=MAX_AMPLITUDE)
            segment, n_samples, level = segment // factor, -(-n_samples // factor), product.level
        weight, first, n = buffers[f"weight{index}"], product.first, product.n
        if source is x:
            products = clip_products(x, weight, hop=product.hop, left_pad=product.left_pad, n_frames=slots)
        else:
            products = frame_products(source, weight, batch=batch, segment=segment, margin=plan.margin,
                                      hop=product.hop, left_pad=product.left_pad)
        m = products.shape[2]
        if inference:  # |.|^2 straight into the output: frame r * m + p of clip b from products[b, r, p]
            target = power.view(batch, plan.n_bins, slots // m, m)
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
