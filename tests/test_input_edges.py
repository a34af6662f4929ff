"""Unusual input at mirbook's edges: odd sample rates, label files, intervals, loud or stereo audio, seeds."""

import math
import time

import librosa
import mir_eval
import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio

from mirbook.checks import MAX_AMPLITUDE
from mirbook.data.real.base import load_audio
from mirbook.data.real.jamendo import read_lab
from mirbook.evaluate import evaluate_chords, evaluate_voicing
from mirbook.frames import intervals_to_frames
from mirbook.models import MODELS
from mirbook.predict import predict_chords, predict_voicing
from mirbook.representations import CQT, STFT, Chroma, MelSpectrogram
from mirbook.resample import resample
from mirbook.runtime import seed_everything


def _sine(frequency, sample_rate, seconds):
    return np.sin(2 * np.pi * frequency * np.arange(int(sample_rate * seconds)) / sample_rate).astype(np.float32)


def _median_seconds(fn, runs=3):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


# --- resampling between any two rates --------------------------------------------------------

@pytest.mark.parametrize("orig", [44101, 7919])
def test_rates_without_a_common_factor_resample_as_fast_as_44100(orig):
    common = _sine(440.0, 44100, 2.0)
    odd = _sine(440.0, orig, 2.0)
    resample(odd, orig, 22050)  # warm-up of both paths
    resample(common, 44100, 22050)
    ratio = _median_seconds(lambda: resample(odd, orig, 22050)) / _median_seconds(lambda: resample(common, 44100, 22050))
    assert ratio < 10


@pytest.mark.parametrize("orig, new", [(44101, 22050), (7919, 22050), (22050, 7919), (44101, 16000)])
def test_odd_rates_give_librosas_soxr_output_and_length(orig, new):
    x = _sine(440.0, orig, 1.0)[:orig - 3]  # an odd length, so the rounding of the length shows
    y = resample(x, orig, new)[0].numpy()
    assert len(y) == math.ceil(len(x) * new / orig)
    np.testing.assert_allclose(y, librosa.resample(x, orig_sr=orig, target_sr=new, res_type="soxr_hq"), atol=1e-6)


@pytest.mark.parametrize("orig", [44101, 7919])
def test_a_resampled_sine_stays_a_sine_at_its_frequency(orig):
    y = resample(_sine(440.0, orig, 2.0), orig, 22050)[0].numpy()
    t = np.arange(len(y)) / 22050
    middle = slice(2000, len(y) - 2000)  # away from the clip's ends
    np.testing.assert_allclose(y[middle], np.sin(2 * np.pi * 440.0 * t[middle]), atol=2e-3)
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    assert np.fft.rfftfreq(len(y), 1 / 22050)[spectrum.argmax()] == pytest.approx(440.0, abs=22050 / len(y))


@pytest.mark.parametrize("orig", [44100, 48000, 16000])
def test_common_rates_keep_torchaudios_sinc_resampler(orig):
    x = torch.from_numpy(_sine(440.0, orig, 1.0))[None]
    assert torch.equal(resample(x, orig, 22050), torchaudio.functional.resample(x, orig, 22050))


def test_predict_and_the_real_data_loader_take_odd_rates(tmp_path):
    model = MODELS["deep_chroma"].from_preset("cpu")
    start = time.perf_counter()
    intervals, _ = predict_chords(model, 0.1 * _sine(261.63, 44101, 3.0), 44101)
    assert time.perf_counter() - start < 60  # the sinc kernel for 44101 Hz alone took minutes
    assert intervals[-1, 1] == pytest.approx(3.0, abs=1e-4)
    sf.write(tmp_path / "odd.wav", _sine(440.0, 7919, 1.0), 7919)
    y = load_audio(tmp_path / "odd.wav", 22050)
    assert y.dtype == np.float32 and len(y) == math.ceil(7919 * 22050 / 7919)


def test_load_audio_names_an_empty_or_non_finite_file(tmp_path):
    sf.write(tmp_path / "empty.wav", np.zeros(0, np.float32), 22050)
    with pytest.raises(ValueError, match="empty.wav.*no samples"):
        load_audio(tmp_path / "empty.wav", 22050)
    sf.write(tmp_path / "nan.wav", np.array([0.0, np.nan, 0.1], np.float32), 44100, subtype="FLOAT")
    with pytest.raises(ValueError, match="nan.wav.*finite"):
        load_audio(tmp_path / "nan.wav", 22050)


# --- label files and intervals ---------------------------------------------------------------

def test_read_lab_reads_the_corpus_spellings_in_any_case(tmp_path):
    path = tmp_path / "song.lab"
    path.write_text("0 1.5 nosing\n1.5 3.0 Sing\n3.0 4.0 NOSING\n4.0 5.5 SING\n5.5 6 sing\n6 7 NoSing\n")
    np.testing.assert_array_equal(read_lab(path), [[1.5, 3.0], [4.0, 5.5], [5.5, 6.0]])


@pytest.mark.parametrize("row, message", [
    ("1.0 2.0 singing", "label must be 'sing' or 'nosing'"),
    ("2.0 1.0 sing", "0 <= start <= end"),
    ("nan 1.0 sing", "finite times"),
    ("1.0 inf nosing", "finite times"),
    ("1.0 two sing", "numbers in seconds"),
    ("1.0 2.0", "expected 'start end sing|nosing'"),
])
def test_read_lab_refuses_an_invalid_row_naming_file_and_line(tmp_path, row, message):
    path = tmp_path / "song.lab"
    path.write_text(f"0 1.0 nosing\n{row}\n")
    with pytest.raises(ValueError, match=rf"song\.lab:2: .*{message}"):
        read_lab(path)


def test_intervals_that_end_before_they_start_are_refused():
    with pytest.raises(ValueError, match=r"intervals must each end at or after their start; interval 1 is \[3.0, 2.0\]"):
        intervals_to_frames([[0.0, 1.0], [3.0, 2.0]], 100, sample_rate=22050, hop_length=512)
    with pytest.raises(ValueError, match=r"references\[1\] must each end"):
        evaluate_voicing([np.array([[0.0, 1.0]]), np.array([[2.0, 1.0]])], [np.full(50, 0.9)] * 2,
                         threshold=0.5, sample_rate=22050, hop_length=512)
    # an interval of zero length holds no frame centre: allowed, as in mir_eval's .lab files
    assert not intervals_to_frames([[1.0, 1.0]], 100, sample_rate=22050, hop_length=512).any()


@pytest.mark.parametrize("reference, message", [
    ((np.array([0.0, 2.0]), ["C:maj"]), r"references\[0\] intervals must have shape \(n, 2\)"),
    ((np.array([[0.0, 1.0], [1.0, 2.0]]), ["C:maj"]), r"references\[0\] has 2 intervals but 1 labels"),
    ((np.array([[1.0, 1.0]]), ["C:maj"]), r"references\[0\] intervals must each end after their start"),
    ((np.array([[0.0, 2.0]]), "C:maj"), r"references\[0\] labels must be a list"),
    ((np.array([[0.0, 2.0]]), ["H:maj"]), r"song 0 has a label that is not a Harte chord label"),
    ((np.array([[0.0, 2.0]]),), r"references\[0\] must be an \(intervals, labels\) pair"),
])
def test_evaluate_chords_refuses_malformed_annotations_naming_them(reference, message):
    estimate = (np.array([[0.0, 2.0]]), ["C:maj"])
    with pytest.raises(ValueError, match=message):
        evaluate_chords([reference], [estimate])
    # the well-formed pair scores as mir_eval scores it
    assert evaluate_chords([estimate], [estimate])["majmin"] == mir_eval.chord.evaluate(*estimate, *estimate)["majmin"]


def test_evaluate_chords_scores_an_estimate_outside_the_reference_as_no_chord():
    reference = (np.array([[0.0, 1.0]]), ["N"])
    outside = (np.array([[1.0, 2.0]]), ["C:maj"])
    assert evaluate_chords([reference], [outside])["majmin"] == 1.0  # mir_eval pads the estimate with N
    with pytest.raises(ValueError, match=r"references\[0\] intervals must be in time order without overlaps"):
        evaluate_chords([(np.array([[0.0, 1.0], [0.5, 1.0]]), ["N", "N"])], [reference])


# --- audio the representations refuse ---------------------------------------------------------

def test_soundfile_stereo_layout_is_named_as_such():
    stereo = np.stack([_sine(440.0, 22050, 1.0)] * 2, axis=1)  # (samples, 2), as sf.read returns it
    for module in (STFT(), MelSpectrogram(), CQT()):
        with pytest.raises(ValueError, match=r"looks like \(samples, channels\) stereo: down-mix with x.mean\(axis=1\)"):
            module(stereo)


@pytest.mark.parametrize("options, n_samples", [
    (dict(center=False), 2047),  # uncentred: one frame needs n_fft samples
    (dict(center=False, win_length=512), 1000),
    (dict(pad_mode="reflect", win_length=256), 1000),  # reflect padding of n_fft // 2 needs more than that
])
def test_stft_refuses_audio_shorter_than_one_frame(options, n_samples):
    with pytest.raises(ValueError, match="waveform is too short"):
        STFT(**options)(torch.zeros(n_samples))
    n = STFT(**options).min_samples
    assert STFT(**options)(torch.zeros(n)).shape[-1] >= 1


def test_audio_too_loud_for_float32_powers_is_refused():
    loud = 1e30 * _sine(440.0, 22050, 1.0).astype(np.float64)
    for module in (STFT(), MelSpectrogram(), CQT(), Chroma()):
        with pytest.raises(ValueError, match="waveform must be audio of magnitude at most 1e\\+12.*reaches 1e\\+30"):
            module(loud)
    half = np.full(4096, 3e4, np.float16)  # float16 audio with an overflowed sample
    half[100] = np.inf
    for module in (STFT(), CQT()):
        with pytest.raises(ValueError, match="waveform must be finite"):
            module(half)
    # up to the limit the power spectrum is finite and right (numpy's FFT in float64)
    x = _sine(440.0, 22050, 1.0).astype(np.float64) * MAX_AMPLITUDE
    power = STFT(power=2.0)(x)[0].double().numpy()
    reference = np.abs(librosa.stft(x, n_fft=2048, hop_length=512, pad_mode="constant")) ** 2
    assert np.isfinite(power).all()
    np.testing.assert_allclose(power, reference, rtol=1e-3, atol=1e-5 * reference.max())
    assert torch.isfinite(CQT()(x)).all() and torch.isfinite(MelSpectrogram()(x)).all()


# --- seeds and predictions ---------------------------------------------------------------------

def test_seeds_outside_torchs_range_are_refused():
    with pytest.raises(ValueError, match=r"seed must be an int in \[0, 2\*\*64\).*got 1180591620717411303424"):
        seed_everything(2**70)
    seed_everything(2**64 - 1)
    seed_everything(np.int64(7))
    first = torch.rand(3)
    torch.manual_seed(7)
    assert torch.equal(first, torch.rand(3))


def test_predicted_intervals_end_with_the_recording():
    n = 22050 * 4 + 1  # the last frame's half hop reaches past the end (hop 512)
    audio = 0.1 * _sine(261.63, 22050, 5.0)[:n]
    chords, _ = predict_chords(MODELS["deep_chroma"].from_preset("cpu"), audio, 22050)
    assert chords[-1, 1] == n / 22050 and chords[0, 0] == 0.0
    voiced = predict_voicing(MODELS["brnn_voice"].from_preset("cpu"), audio, 22050, threshold=1e-9)
    np.testing.assert_array_equal(voiced, [[0.0, n / 22050]])
