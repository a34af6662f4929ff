"""Chroma's documented options and the representations' thread policy, each against an independent
expectation: librosa's chroma pipeline (``cq_to_chroma``, the threshold, ``librosa.util.normalize``),
the documented defaults, and the thread rule of ``mirbook.spectral_sums.threads_for``."""

from __future__ import annotations

import math

import librosa
import numpy as np
import pytest
import torch

import mirbook.spectral_sums as spectral_sums
from mirbook.representations import CQT, STFT, Chroma, Frontend, LogCompression, MelSpectrogram, cqt_frequencies

SR = 22050


def librosa_fold(magnitude: np.ndarray, *, bins_per_octave: int, f_min: float, threshold, norm) -> np.ndarray:
    """librosa.feature.chroma_cqt's steps after the CQT: fold, zero the values below the threshold, normalise."""
    fold = librosa.filters.cq_to_chroma(magnitude.shape[0], bins_per_octave=bins_per_octave, n_chroma=12, fmin=f_min)
    chroma = fold @ magnitude
    if threshold is not None:
        chroma[chroma < threshold] = 0.0
    return librosa.util.normalize(chroma, norm=norm, axis=0)


@pytest.mark.parametrize("norm", [math.inf, 2, None])
@pytest.mark.parametrize("threshold", [3.0, 0.0, None])
def test_the_threshold_zeroes_folded_values_below_it_and_keeps_those_equal_to_it(threshold, norm):
    """Small integers fold to exact sums, many of them exactly 3: a value equal to the threshold stays."""
    magnitude = np.random.default_rng(0).integers(0, 2, size=(84, 9)).astype(np.float32)
    chroma = Chroma(bins_per_octave=12, threshold=threshold, norm=norm)
    ours = chroma.fold(torch.from_numpy(magnitude)[None])[0].numpy()
    expected = librosa_fold(magnitude.astype(np.float64), bins_per_octave=12, f_min=chroma.cqt.f_min,
                            threshold=threshold, norm=norm)
    folded = magnitude.reshape(7, 12, 9).sum(axis=0)
    assert (folded == 3).any() and (folded < 3).any()  # the data reaches both sides of the boundary
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-7)


def test_a_threshold_must_be_a_real_number_or_none():
    for bad in ("0.1", True, [0.1]):
        with pytest.raises(ValueError, match=r"^threshold must be a real number or None; got"):
            Chroma(threshold=bad)
    assert Chroma(threshold=None).threshold is None and Chroma(threshold=np.float32(0.5)).threshold == 0.5


def test_chroma_defaults_are_the_documented_ones():
    assert Chroma().settings == {"sample_rate": 22050, "hop_length": 512, "f_min": librosa.note_to_hz("C1"),
                                 "n_octaves": 7, "bins_per_octave": 36, "tuning": 0.0, "norm": math.inf,
                                 "threshold": 0.0}


def test_chroma_folds_from_its_own_lowest_bin():
    """From A1 (55 Hz), bin 0 is an A: an A4 tone lands on class 9, as librosa folds it with the same fmin."""
    chroma = Chroma(f_min=55.0, n_octaves=6)
    expected = librosa.filters.cq_to_chroma(chroma.cqt.n_bins, bins_per_octave=36, n_chroma=12, fmin=55.0)
    np.testing.assert_allclose(chroma.fold_matrix.numpy(), expected, rtol=1e-6)
    t = np.arange(SR) / SR
    y = torch.from_numpy((0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32))
    with torch.no_grad():
        out = chroma(y)[0, :, 10:-10]
    assert set(out.argmax(dim=0).tolist()) == {9}


def _recorder(calls: list, method):
    def recorded(*args, **kwargs):
        calls.append(torch.get_num_threads())
        return method(*args, **kwargs)
    return recorded


MODULES = {"stft": (STFT, "spectra"), "mel": (MelSpectrogram, None), "cqt": (CQT, "power"), "chroma": (Chroma, None)}


@pytest.mark.parametrize("name", MODULES)
def test_a_long_waveform_runs_on_the_threads_the_policy_gives_and_a_short_one_on_one(name, monkeypatch):
    """threads_for: one thread below THREADED_MIN_SAMPLES samples, else torch's threads capped at the
    free cores (set to 2 here); torch's own setting (3) is restored after the call."""
    cls, method = MODULES[name]
    module = cls()
    # where the work happens: the STFT's spectra (mel's too), the CQT's power (chroma's too)
    owner = {"stft": module, "mel": getattr(module, "stft", None), "cqt": module,
             "chroma": getattr(module, "cqt", None)}[name]
    attribute = method or ("spectra" if name == "mel" else "power")
    calls: list[int] = []
    monkeypatch.setattr(owner, attribute, _recorder(calls, getattr(owner, attribute)))
    monkeypatch.setattr(spectral_sums, "free_cores", lambda: 2)
    long = torch.zeros(16, spectral_sums.THREADED_MIN_SAMPLES // 16)
    short = torch.zeros(1, 8192)
    previous = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        with torch.no_grad():
            module(long)
            module(short)
        after = torch.get_num_threads()
    finally:
        torch.set_num_threads(previous)
    assert calls == [2, 1] and after == 3


# Each option with a value of the wrong kind, and the start of the message that names it.
BAD_OPTIONS = [
    (STFT, {"n_fft": 0}, "n_fft must be a positive int; got 0"),
    (STFT, {"hop_length": 1.5}, "hop_length must be a positive int; got 1.5"),
    (STFT, {"power": -1.0}, "power must be positive (1 magnitude, 2 power) or None; got -1.0"),
    (STFT, {"win_length": -1}, "win_length must be a positive int; got -1"),
    (STFT, {"win_length": 4096}, "win_length must be <= n_fft=2048; got 4096"),
    (STFT, {"power": "2"}, "power must be a real number or None; got '2' (str)"),
    (STFT, {"power": 0.0}, "power must be positive (1 magnitude, 2 power) or None; got 0.0"),
    (STFT, {"center": "yes"}, "center must be True or False; got 'yes' (str)"),
    (STFT, {"pad_mode": "edge"}, "pad_mode must be one of ('constant', 'reflect'); got 'edge'"),
    (MelSpectrogram, {"power": None}, "power must be a real number; got None (NoneType)"),
    (MelSpectrogram, {"f_min": "0"}, "f_min must be a real number; got '0' (str)"),
    (MelSpectrogram, {"f_max": "8000"}, "f_max must be a real number or None; got '8000' (str)"),
    (MelSpectrogram, {"n_mels": 0}, "n_mels must be a positive int; got 0"),
    (MelSpectrogram, {"f_min": 4000.0, "f_max": 4000.0},
     "need 0 <= f_min < f_max <= sample_rate / 2 = 11025.0 Hz; got f_min=4000.0, f_max=4000.0"),
    (MelSpectrogram, {"f_max": 11025.5},
     "need 0 <= f_min < f_max <= sample_rate / 2 = 11025.0 Hz; got f_min=0.0, f_max=11025.5"),
    (MelSpectrogram, {"mel_scale": "bark"}, "mel_scale must be one of ('slaney', 'htk'); got 'bark'"),
    (MelSpectrogram, {"norm": "l2"}, "norm must be one of ('slaney', None); got 'l2'"),
    (CQT, {"n_bins": 0}, "n_bins must be a positive int; got 0"),
    (CQT, {"hop_length": 0}, "hop_length must be a positive int; got 0"),
    (CQT, {"bins_per_octave": 0}, "bins_per_octave must be a positive int; got 0"),
    (CQT, {"n_bins": 1.0}, "n_bins must be a positive int; got 1.0"),
    (CQT, {"tuning": 0.6}, "tuning must be in [-0.5, 0.5] bins; got 0.6"),
    (CQT, {"tuning": -0.6}, "tuning must be in [-0.5, 0.5] bins; got -0.6"),
    (CQT, {"filter_scale": "1"}, "filter_scale must be a real number; got '1' (str)"),
    (CQT, {"sparsity": "0"}, "sparsity must be a real number; got '0' (str)"),
    (CQT, {"sparsity": -0.1}, "sparsity must be in [0, 1); got -0.1"),
    (CQT, {"tuning": "0"}, "tuning must be a real number; got '0' (str)"),
    (CQT, {"filter_scale": 0}, "filter_scale must be positive; got 0"),
    (CQT, {"sparsity": 1.0}, "sparsity must be in [0, 1); got 1.0"),
    (CQT, {"f_min": None}, "f_min must be a real number; got None (NoneType)"),
    (LogCompression, {"mode": "ln"}, "mode must be one of ('log', 'db'); got 'ln'"),
    (LogCompression, {"eps": 0.0}, "eps must be positive; got 0.0"),
    (LogCompression, {"eps": "1e-6"}, "eps must be a real number; got '1e-6' (str)"),
    (LogCompression, {"input_power": 0}, "input_power must be positive (1 magnitude, 2 power); got 0"),
    (LogCompression, {"input_power": None}, "input_power must be a real number; got None (NoneType)"),
    (Chroma, {"n_octaves": 0}, "n_octaves must be a positive int; got 0"),
    (Chroma, {"bins_per_octave": 0}, "bins_per_octave must be a positive int; got 0"),
    (Chroma, {"bins_per_octave": 18}, "bins_per_octave must be a multiple of 12; got 18"),
    (Chroma, {"norm": True}, "norm must be 1, 2, math.inf or None; got True"),
]


@pytest.mark.parametrize("cls, options, message", BAD_OPTIONS,
                         ids=[f"{c.__name__}-{'-'.join(o)}" for c, o, _ in BAD_OPTIONS])
def test_a_bad_option_is_refused_with_a_message_that_names_it(cls, options, message):
    with pytest.raises(ValueError) as error:
        cls(**options)
    assert str(error.value).startswith(message)


def test_defaults_are_the_documented_ones():
    """The options each docstring lists, as the instances hold them (win_length and f_max resolved)."""
    assert STFT().settings == {"sample_rate": 22050, "n_fft": 2048, "hop_length": 512, "win_length": 2048,
                               "power": 1.0, "center": True, "pad_mode": "constant"}
    assert MelSpectrogram().settings == {"sample_rate": 22050, "n_fft": 2048, "hop_length": 512, "n_mels": 128,
                                         "f_min": 0.0, "f_max": 11025.0, "power": 2.0, "mel_scale": "slaney",
                                         "norm": "slaney", "center": True, "pad_mode": "constant"}
    assert CQT().settings == {"sample_rate": 22050, "hop_length": 512, "f_min": librosa.note_to_hz("C1"),
                              "n_bins": 84, "bins_per_octave": 12, "tuning": 0.0, "filter_scale": 1.0,
                              "sparsity": 0.01}


@pytest.mark.parametrize("cls", [STFT, MelSpectrogram, CQT, Chroma])
def test_a_representation_saves_no_state(cls):
    """A model's state_dict holds its weights and its recipe the frontend: a representation's
    buffers follow from its settings, so it saves nothing and loads an empty state strictly."""
    module = cls()
    assert module.state_dict() == {}
    module.load_state_dict({}, strict=True)


def test_mel_bands_with_no_stft_bin_are_zero_on_every_path():
    """256 bands on a 64-point FFT: whole groups of 16 bands hold no bin. The autograd path (grouped
    products) and the CPU path give librosa's mel spectrogram, zeros in the empty bands included."""
    y = np.random.default_rng(3).standard_normal(4096).astype(np.float32)
    with pytest.warns(UserWarning, match="all zero values"):  # torchaudio's filter bank says so too
        module = MelSpectrogram(n_fft=64, hop_length=32, n_mels=256)
    with pytest.warns(UserWarning, match="Empty filters"):
        expected = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=64, hop_length=32, n_mels=256)
    empty = expected.sum(axis=1) == 0
    assert empty.sum() >= 32  # at least two groups' worth of bands read no bin
    x = torch.from_numpy(y)[None]
    with torch.no_grad():
        fast = module(x)[0].numpy()
    graded = module(x.clone().requires_grad_(True))[0].detach().numpy()
    for ours in (fast, graded):
        assert ours.shape == expected.shape
        assert np.abs(ours - expected).max() <= 1e-5 * expected.max()
        assert not ours[empty].any()


def test_log_compression_names_what_it_was_given():
    """The refusal names the input's type, and its dtype when it is a tensor."""
    with pytest.raises(ValueError) as error:
        LogCompression()(np.ones(3, dtype=np.float32))
    assert str(error.value) == "LogCompression expects a float tensor of magnitudes; got ndarray"
    with pytest.raises(ValueError) as error:
        LogCompression()(torch.ones(3, dtype=torch.int64))
    assert str(error.value) == "LogCompression expects a float tensor of magnitudes; got Tensor of dtype torch.int64"


def test_cqt_frequencies_refuse_what_is_no_frequency_or_bin_count():
    assert cqt_frequencies(f_min=0.5, n_bins=2, bins_per_octave=1).tolist() == [0.5, 1.0]  # any positive f_min
    for options, message in (({"f_min": 0.0}, "f_min must be a positive frequency in Hz; got 0.0"),
                             ({"n_bins": 0}, "n_bins must be a positive int; got 0"),
                             ({"bins_per_octave": 0}, "bins_per_octave must be a positive int; got 0")):
        with pytest.raises(ValueError) as error:
            cqt_frequencies(**options)
        assert str(error.value) == message


def test_cqt_tuning_moves_every_bin_by_that_fraction_of_a_bin():
    """tuning is the deviation from A440 in fractions of a bin: at +-0.5 (the limits, both allowed)
    the A4 bin sits half a semitone above or below 440 Hz, as librosa.cqt tunes its bins."""
    for tuning in (-0.5, 0.25, 0.5):
        frequencies = CQT(tuning=tuning).frequencies.double().numpy()
        assert frequencies[45] == pytest.approx(440.0 * 2 ** (tuning / 12), rel=1e-6)  # A4 = MIDI 69, bin 0 = C1 = MIDI 24
        expected = librosa.cqt_frequencies(84, fmin=librosa.note_to_hz("C1"), tuning=tuning)
        np.testing.assert_allclose(frequencies, expected, rtol=1e-6)


def test_a_cqt_up_to_the_nyquist_frequency_is_built_and_one_beyond_it_is_refused_naming_its_top_bin():
    cqt = CQT(n_bins=96)  # top bin B8 (7902 Hz): its filter ends below 11025 Hz
    assert cqt.n_bins == 96
    top = librosa.cqt_frequencies(120, fmin=librosa.note_to_hz("C1"))[-1]
    with pytest.raises(ValueError) as error:
        CQT(n_bins=120)
    assert f"above the Nyquist frequency 11025 Hz; lower n_bins or f_min (top bin now {top:.0f} Hz)" in str(error.value)


def test_a_frontend_names_the_module_it_refuses():
    with pytest.raises(ValueError) as error:
        Frontend("mel")
    assert str(error.value) == "Frontend's first module must be a torch.nn.Module; got str"
    with pytest.raises(ValueError) as error:
        Frontend(STFT(), "log")
    assert str(error.value) == "Frontend takes torch nn.Modules; got str"


@pytest.mark.parametrize("n_fft, hop", [(2048, 512), (1024, 700), (512, 128)])
def test_a_long_clip_is_framed_as_a_view_with_only_its_ends_padded(n_fft, hop):
    """The STFT reads the frames wholly inside a clip as a view of it (no copy of a long clip);
    only the first and last frames, which reach into the padding, come from padded copies of at most
    n_fft + 2 x hop_length samples per clip. Uncentred, every frame is inside: one view."""
    x = torch.randn(2, 22050)
    for center in (True, False):
        stft = STFT(n_fft=n_fft, hop_length=hop, center=center, power=None)
        pieces = stft._frame_pieces(x)
        inside = [p for p in pieces if p.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()]
        padded = [p for p in pieces if p.untyped_storage().data_ptr() != x.untyped_storage().data_ptr()]
        assert len(inside) == 1
        assert len(padded) == (2 if center else 0)
        for piece in padded:
            assert piece.untyped_storage().nbytes() <= 2 * (n_fft + 2 * hop) * x.element_size()
        frames = torch.cat(pieces, dim=1)
        assert frames.shape == (2, stft.n_frames(x.shape[-1]), n_fft)
        pad = n_fft // 2 if center else 0
        padded_clip = torch.nn.functional.pad(x, (pad, pad))  # constant padding, the default pad_mode
        torch.testing.assert_close(frames, padded_clip.unfold(-1, n_fft, hop)[:, : frames.shape[1]], rtol=0, atol=0)


def test_on_a_cpu_the_spectra_come_in_runs_of_128_frames_per_thread_for_all_clips_together():
    """spectra() keeps each run's frames in cache: 128 frames per torch thread shared by the clips of the
    batch (at least one frame per run), consecutive and together every frame once."""
    stft = STFT(n_fft=512, hop_length=128, power=None)
    previous = torch.get_num_threads()
    try:
        for threads, batch, samples in ((1, 2, 22050), (2, 2, 22050), (1, 200, 2048)):
            torch.set_num_threads(threads)
            x = torch.randn(batch, samples)
            runs = [spec.shape[1] for spec in stft.spectra(x)]
            assert max(runs) == max(1, 128 * threads // batch) and sum(runs) == stft.n_frames(samples)
            assert torch.equal(torch.cat(list(stft.spectra(x)), dim=1), stft(x).transpose(1, 2))
    finally:
        torch.set_num_threads(previous)


def test_the_cqt_power_called_alone_runs_on_the_threads_the_policy_gives(monkeypatch):
    """CQT.power is public (Chroma folds it): called directly it applies the same thread rule."""
    import mirbook.representations as representations

    calls: list[int] = []
    monkeypatch.setattr(representations.cqt_engine, "cqt_power",
                        _recorder(calls, representations.cqt_engine.cqt_power))
    monkeypatch.setattr(spectral_sums, "free_cores", lambda: 2)
    cqt = CQT()
    previous = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        with torch.no_grad():
            cqt.power(torch.zeros(16, spectral_sums.THREADED_MIN_SAMPLES // 16))
            inside_long = set(calls)
            calls.clear()
            cqt.power(torch.zeros(1, 8192))
    finally:
        torch.set_num_threads(previous)
    assert inside_long == {2} and set(calls) == {1}
