"""Parity of mirbook.representations with librosa 0.11 on musical signals, and input checks.

Tolerances (stated once, used below):
* STFT and mel: max |mirbook - librosa| <= 1e-5 x the largest value (float32 precision of the
  same computation; observed ~2e-7 and ~2e-6).
* CQT and chroma: per-frame Pearson correlation >= 0.999 on every frame that carries energy in
  the analysed band (>= 1e-3 of the loudest frame's), against librosa with
  ``res_type="polyphase"`` (a zero-padded FIR decimator, like mirbook's). Against librosa's
  default soxr resampler the same holds except in the last frames, where the longest filter
  overhangs the end of the clip: soxr ends a signal differently from every FIR (librosa's own
  resamplers disagree with each other there as much); those frames are left out. Away from both
  edges the largest difference is <= 1 % of the largest value (chroma: <= 0.01 after the
  per-frame max normalisation, on all frames but the end ones).
* Pure tones: the loudest CQT bin / chroma class equals librosa's and the tone's own.
"""

from __future__ import annotations

import functools
import math

import librosa
import numpy as np
import pytest
import scipy.signal
import torch

from mirbook.frames import frame_times
from mirbook.representations import (
    CQT,
    STFT,
    Chroma,
    Frontend,
    LogCompression,
    MelSpectrogram,
    cqt_frequencies,
)

SR = 22050
EXACT = 1e-5
CORRELATION = 0.999


def harmonic_tone(midi: float, seconds: float, n_harmonics: int = 6) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    tone = sum(np.sin(2 * np.pi * h * f0 * t) / h for h in range(1, n_harmonics + 1) if h * f0 < SR / 2)
    return tone * np.exp(-1.5 * t)


def signals() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    n = int(1.5 * SR)
    chords = np.concatenate([
        sum(harmonic_tone(m, 0.75) for m in (60, 64, 67)),  # C major
        sum(harmonic_tone(m, 0.75) for m in (57, 60, 64)),  # A minor
    ])
    chirp = scipy.signal.chirp(np.arange(n) / SR, f0=40, t1=n / SR, f1=8000, method="logarithmic")
    noise = rng.standard_normal(n)
    out = {"chords": chords, "chirp": chirp, "noise": noise}
    return {k: (0.5 * v / np.abs(v).max()).astype(np.float32) for k, v in out.items()}


SIGNALS = signals()


def frame_correlations(ours: np.ndarray, ref: np.ndarray) -> np.ndarray:
    assert ours.shape == ref.shape
    a = ours - ours.mean(axis=0)
    b = ref - ref.mean(axis=0)
    return (a * b).sum(axis=0) / np.sqrt((a**2).sum(axis=0) * (b**2).sum(axis=0))


@functools.cache
def default(cls):
    """One instance per representation class with default options, shared by the tests."""
    return cls()


def run(module: torch.nn.Module, y: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        out = module(torch.from_numpy(y))
    assert out.shape[0] == 1 and out.dtype == torch.float32
    return out[0].numpy()


@pytest.mark.parametrize("name", SIGNALS)
def test_stft_matches_librosa(name):
    y = SIGNALS[name]
    ref = np.abs(librosa.stft(y, n_fft=2048, hop_length=512))
    ours = run(STFT(), y)
    assert ours.shape == ref.shape == (1025, 1 + len(y) // 512)
    assert np.abs(ours - ref).max() <= EXACT * ref.max()
    power = run(STFT(n_fft=1024, hop_length=256, power=2.0), y)
    ref_power = np.abs(librosa.stft(y, n_fft=1024, hop_length=256)) ** 2
    assert np.abs(power - ref_power).max() <= EXACT * ref_power.max()


def test_stft_complex_output():
    y = SIGNALS["chords"]
    with torch.no_grad():
        spec = STFT(power=None)(torch.from_numpy(y))[0].numpy()
    ref = librosa.stft(y)
    assert np.iscomplexobj(spec)
    assert np.abs(spec - ref).max() <= EXACT * np.abs(ref).max()


@pytest.mark.parametrize("name", SIGNALS)
def test_mel_matches_librosa(name):
    y = SIGNALS[name]
    ref = librosa.feature.melspectrogram(y=y, sr=SR)
    ours = run(MelSpectrogram(), y)
    assert ours.shape == ref.shape == (128, 1 + len(y) // 512)
    assert np.abs(ours - ref).max() <= EXACT * ref.max()
    # Eq. 3 literally (HTK scale), no area normalisation, a band and a magnitude input
    kwargs = dict(n_fft=1024, hop_length=256, n_mels=64, power=1.0)
    ours = run(MelSpectrogram(sample_rate=SR, f_min=30.0, f_max=8000.0, mel_scale="htk", norm=None, **kwargs), y)
    ref = librosa.feature.melspectrogram(y=y, sr=SR, fmin=30.0, fmax=8000.0, htk=True, norm=None, **kwargs)
    assert np.abs(ours - ref).max() <= EXACT * ref.max()


def edge_frames(module: CQT) -> int:
    """Frames within half the longest CQT filter of a clip edge."""
    longest = librosa.filters.wavelet_lengths(
        freqs=module.frequencies[:1].double().numpy(), sr=module.sample_rate,
        alpha=(2 ** (2 / module.bins_per_octave) - 1) / (2 ** (2 / module.bins_per_octave) + 1),
    )[0][0]
    return math.ceil(longest / 2 / module.hop_length)


def assert_cqt_like(ours: np.ndarray, ref: np.ndarray, *, skip_end: int = 0, skip_edges: int = 0) -> None:
    assert ours.shape == ref.shape
    energy = (ref**2).sum(axis=0)
    frames = energy >= 1e-3 * energy.max()
    frames[len(frames) - skip_end :] = False
    assert frames.sum() > len(frames) // 3
    assert frame_correlations(ours[:, frames], ref[:, frames]).min() >= CORRELATION
    interior = slice(skip_edges, len(frames) - skip_edges)
    assert np.abs(ours - ref)[:, interior].max() <= 0.01 * ref.max()


@pytest.mark.parametrize("name", SIGNALS)
@pytest.mark.parametrize(
    "options",
    [dict(), dict(hop_length=256, f_min=55.0, n_bins=72, bins_per_octave=24)],
    ids=["default", "24bpo"],
)
def test_cqt_matches_librosa(name, options):
    y = SIGNALS[name]
    module = CQT(**options)
    ours = run(module, y)
    lib = {("fmin" if k == "f_min" else k): v for k, v in options.items()}
    edges = edge_frames(module)
    assert_cqt_like(ours, np.abs(librosa.cqt(y, sr=SR, res_type="polyphase", **lib)), skip_edges=edges)
    assert_cqt_like(ours, np.abs(librosa.cqt(y, sr=SR, **lib)), skip_end=edges, skip_edges=edges)


@pytest.mark.parametrize("name", SIGNALS)
def test_chroma_matches_librosa(name):
    y = SIGNALS[name]
    module = Chroma()
    ours = run(module, y)
    ref = librosa.feature.chroma_cqt(y=y, sr=SR, tuning=0.0)
    assert ours.shape == ref.shape == (12, 1 + len(y) // 512)
    kept = slice(0, ref.shape[1] - edge_frames(module.cqt))  # soxr's end of clip, see above
    assert frame_correlations(ours, ref)[kept].min() >= CORRELATION
    assert np.abs(ours - ref)[:, kept].max() <= 0.01


@pytest.mark.parametrize("midi", [29, 57, 76, 100])
def test_pure_tones_peak_on_their_bin_and_pitch_class(midi):
    t = np.arange(SR) / SR
    y = (0.5 * np.sin(2 * np.pi * 440.0 * 2 ** ((midi - 69) / 12) * t)).astype(np.float32)
    middle = slice(10, -10)
    ours = run(default(CQT), y)[:, middle].argmax(axis=0)
    ref = np.abs(librosa.cqt(y, sr=SR))[:, middle].argmax(axis=0)
    np.testing.assert_array_equal(ours, ref)
    assert set(ours.tolist()) == {midi - 24}  # bin 0 is C1 = MIDI 24
    chroma = run(default(Chroma), y)[:, middle].argmax(axis=0)
    ref_chroma = librosa.feature.chroma_cqt(y=y, sr=SR, tuning=0.0)[:, middle].argmax(axis=0)
    np.testing.assert_array_equal(chroma, ref_chroma)
    assert set(chroma.tolist()) == {midi % 12}  # index 0 = C


def test_chroma_fold_is_eq5_on_a_12_bin_cqt():
    """With 12 bins per octave, folding is exactly the octave sum of Eq. 5 (before norm)."""
    chroma = Chroma(bins_per_octave=12, norm=None)
    magnitude = torch.rand(2, 84, 5)
    folded = chroma.fold(magnitude)
    expected = magnitude.view(2, 7, 12, 5).sum(dim=1)
    torch.testing.assert_close(folded, expected)


def test_batch_items_are_independent_of_each_other():
    """A batch gives each clip exactly what it gets alone (the CQT packs clips side by side)."""
    n = min(len(v) for v in SIGNALS.values())
    y = np.stack([SIGNALS["chords"][:n], SIGNALS["noise"][:n], SIGNALS["chirp"][:n]])
    for module in map(default, (STFT, MelSpectrogram, CQT, Chroma)):
        with torch.no_grad():
            together = module(torch.from_numpy(y))
            for i in range(len(y)):
                alone = module(torch.from_numpy(y[i]))[0]
                torch.testing.assert_close(together[i], alone, rtol=1e-4, atol=1e-5 * float(alone.abs().max()))


def test_contract_attributes_and_shapes():
    y = torch.from_numpy(SIGNALS["chords"])
    n_frames = 1 + y.shape[-1] // 512
    for cls, n_bins in ((STFT, 1025), (MelSpectrogram, 128), (CQT, 84), (Chroma, 12)):
        module = default(cls)
        assert (module.sample_rate, module.hop_length, module.n_bins) == (22050, 512, n_bins)
        assert all(isinstance(v, int) for v in (module.sample_rate, module.hop_length, module.n_bins))
        assert module(y).shape == (1, n_bins, n_frames)
        assert module(torch.stack([y, y])).shape == (2, n_bins, n_frames)
    np.testing.assert_allclose(
        frame_times(n_frames, sample_rate=22050, hop_length=512),
        librosa.frames_to_time(np.arange(n_frames), sr=22050, hop_length=512),
    )
    np.testing.assert_allclose(cqt_frequencies(), librosa.cqt_frequencies(n_bins=84, fmin=librosa.note_to_hz("C1")))


def test_frontend_forwards_contract_and_composes():
    frontend = Frontend(MelSpectrogram(n_mels=96, hop_length=256), LogCompression(mode="db"))
    assert (frontend.sample_rate, frontend.hop_length, frontend.n_bins) == (22050, 256, 96)
    y = torch.from_numpy(SIGNALS["chirp"])
    with torch.no_grad():
        expected = LogCompression(mode="db")(MelSpectrogram(n_mels=96, hop_length=256)(y))
        torch.testing.assert_close(frontend(y), expected)
    with pytest.raises(ValueError, match="positive int attribute 'sample_rate'"):
        Frontend(LogCompression())
    with pytest.raises(ValueError, match="nn.Module"):
        Frontend(CQT(), np.log)


def test_log_compression_matches_numpy_and_librosa():
    power = run(default(MelSpectrogram), SIGNALS["chords"])
    x = torch.from_numpy(power)
    np.testing.assert_allclose(LogCompression(mode="log", eps=1e-6)(x).numpy(), np.log(power + 1e-6), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        LogCompression(mode="db", eps=1e-10)(x).numpy(),
        librosa.power_to_db(power, ref=1.0, amin=1e-10, top_db=None), rtol=1e-5, atol=1e-4,
    )
    magnitude = np.sqrt(power)
    np.testing.assert_allclose(
        LogCompression(mode="db", eps=1e-5, input_power=1.0)(torch.from_numpy(magnitude)).numpy(),
        librosa.amplitude_to_db(magnitude, ref=1.0, amin=1e-5, top_db=None), rtol=1e-5, atol=1e-4,
    )


@pytest.mark.parametrize(
    "module",
    [STFT(n_fft=512, hop_length=128), MelSpectrogram(n_fft=512, hop_length=128),
     CQT(hop_length=256, n_bins=48, f_min=110.0), Chroma(n_octaves=3, f_min=110.0, hop_length=256)],
    ids=["stft", "mel", "cqt", "chroma"],
)
def test_gradients_are_correct(module):
    """Autograd's directional derivative equals a central finite difference (float64)."""
    module = module.double()
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2, 4096, dtype=torch.float64, generator=generator, requires_grad=True)
    weights = torch.randn(module(x).shape, dtype=torch.float64, generator=generator)
    direction = torch.randn(x.shape, dtype=torch.float64, generator=generator)
    objective = lambda z: (module(z) * weights).sum()  # noqa: E731
    objective(x).backward()
    with torch.no_grad():
        finite_difference = (objective(x + 1e-6 * direction) - objective(x - 1e-6 * direction)) / 2e-6
    torch.testing.assert_close((x.grad * direction).sum(), finite_difference, rtol=1e-6, atol=1e-8)


def test_filters_are_buffers_that_follow_the_module():
    for module in (MelSpectrogram(), CQT(), Chroma()):
        buffers = dict(module.named_buffers())
        assert buffers and not list(module.parameters())
        moved = module.to(torch.float64)
        assert all(b.dtype == torch.float64 for b in moved.buffers() if b.is_floating_point())
        module.to(torch.float32)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu():
    n = min(len(SIGNALS["chords"]), len(SIGNALS["noise"]))
    y = torch.from_numpy(np.stack([SIGNALS["chords"][:n], SIGNALS["noise"][:n]]))
    for module in (STFT(), MelSpectrogram(), CQT(), Chroma()):
        with torch.no_grad():
            cpu = module(y)
            gpu = module.to("cuda")(y.to("cuda")).cpu()
        torch.testing.assert_close(gpu, cpu, rtol=1e-3, atol=1e-4 * float(cpu.abs().max()))


@pytest.mark.parametrize("cls", [STFT, MelSpectrogram, CQT, Chroma], ids=["stft", "mel", "cqt", "chroma"])
def test_bad_audio_is_refused_with_a_clear_message(cls):
    module = default(cls)
    good = torch.from_numpy(SIGNALS["noise"])
    with pytest.raises(ValueError, match="too short"):
        module(good[:100])
    with pytest.raises(ValueError, match="finite"):
        module(torch.where(torch.arange(good.shape[0]) == 5000, torch.tensor(float("nan")), good))
    with pytest.raises(ValueError, match="floating point"):
        module((good * 32767).to(torch.int16))
    with pytest.raises(ValueError, match="Down-mix stereo"):
        module(torch.stack([good, good]).unsqueeze(0))


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="Nyquist"):
        CQT(n_bins=120)
    with pytest.raises(ValueError, match="mel_scale"):
        MelSpectrogram(mel_scale="bark")
    with pytest.raises(ValueError, match="f_min < f_max"):
        MelSpectrogram(f_min=12000.0)
    with pytest.raises(ValueError, match="multiple of 12"):
        Chroma(bins_per_octave=20)
    with pytest.raises(ValueError, match="norm"):
        Chroma(norm=3)
    with pytest.raises(ValueError, match="mode"):
        LogCompression(mode="ln")
    with pytest.raises(ValueError, match="hop_length"):
        STFT(hop_length=0)
    with pytest.raises(ValueError, match="sample_rate"):
        CQT(sample_rate=22050.0)
    with pytest.raises(ValueError, match="float tensor"):
        LogCompression()(torch.ones(3, dtype=torch.int64))
    with pytest.raises(ValueError, match="CQT magnitude of shape"):
        Chroma().fold(torch.ones(1, 84, 3))
    assert math.isinf(Chroma().norm)


@pytest.mark.parametrize("n_samples", [2048, 2500, 3071, 4096, 22051])
def test_stft_frames_equal_torch_stft_at_clip_edges(n_samples):
    """Frames inside a clip are views, the edge frames come from padding the ends only: every
    frame must still equal torch.stft's, for both paddings, with and without centring, with a
    shorter window, and for clips too short to have inner frames (padded whole)."""
    x = torch.from_numpy(np.random.default_rng(1).standard_normal((2, n_samples)).astype(np.float32))
    for n_fft, hop, win in ((2048, 512, None), (2048, 2048, None), (1024, 700, 800), (512, 128, None)):
        for center in (True, False):
            for pad_mode in ("constant", "reflect"):
                ours = STFT(n_fft=n_fft, hop_length=hop, win_length=win, center=center, pad_mode=pad_mode, power=None)(x)
                ref = torch.stft(x, n_fft, hop, win_length=win, window=torch.hann_window(win or n_fft), center=center,
                                 pad_mode=pad_mode, return_complex=True)
                assert ours.shape == ref.shape
                assert (ours - ref).abs().max() <= EXACT * ref.abs().max()


def test_chroma_is_the_fold_of_the_cqt():
    """Chroma folds each chunk of clips' CQT before transposing it; the same as fold(cqt(x))."""
    chroma = default(Chroma)
    y = torch.from_numpy(SIGNALS["chords"])
    with torch.no_grad():
        torch.testing.assert_close(chroma(y), chroma.fold(chroma.cqt(y)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("norm", [math.inf, 1, 2])
def test_chroma_of_silence_is_zero_not_nan(norm):
    """A silent frame has no pitch class: its chroma is 0 (librosa's too), not 0 / 0 = NaN."""
    t = np.arange(SR // 2) / SR
    y = np.stack([np.zeros(SR // 2), 0.5 * np.sin(2 * np.pi * 440.0 * t)]).astype(np.float32)
    module = Chroma(norm=norm)
    with torch.no_grad():
        silent, tone = module(torch.from_numpy(y))
        folded = module.fold(torch.zeros(1, module.fold_matrix.shape[1], 3))
    assert torch.equal(silent, torch.zeros_like(silent)) and torch.equal(folded, torch.zeros_like(folded))
    # the tone's frames are normalised as asked: unit norm, loudest class A (index 9)
    middle = tone[:, 5:-5]
    torch.testing.assert_close(torch.linalg.vector_norm(middle, ord=norm, dim=0), torch.ones(middle.shape[1]))
    assert set(middle.argmax(dim=0).tolist()) == {9}
