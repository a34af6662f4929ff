"""Properties of mirbook's public edges over generated input (hypothesis).

Whatever comes in -- waveforms of any length, dtype, shape, with NaN, inf or huge values; any
sample rate; intervals and labels of any shape and order -- each call either works or raises a
ValueError or TypeError whose message names the argument. Nothing fails inside torch, numpy or
mir_eval.
"""

import tempfile
from pathlib import Path

import mir_eval
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mirbook.evaluate import evaluate_chords, evaluate_voicing
from mirbook.frames import frame_intervals, frame_times, intervals_to_frames, merge_frame_labels
from mirbook.io import write_lab
from mirbook.models import MODELS
from mirbook.predict import features_for
from mirbook.representations import CQT, STFT, Chroma, LogCompression, MelSpectrogram
from mirbook.vocab import CHORD_LABELS

PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# small hops and bins keep each example cheap; the checks do not depend on the sizes
MODULES = {
    "stft": STFT(n_fft=256, hop_length=64),
    "mel": MelSpectrogram(n_fft=256, hop_length=64, n_mels=16),
    "cqt": CQT(hop_length=256, n_bins=36),
    "chroma": Chroma(hop_length=256),
}
CHORD_MODEL = MODELS["deep_chroma"].from_preset("cpu")


def works_or_refuses(call, *names):
    """``call()``'s result, or None when it raised ValueError/TypeError naming one of ``names``."""
    try:
        result = call()
    except (ValueError, TypeError) as err:
        assert any(name in str(err) for name in names), f"{type(err).__name__} does not name {names}: {err}"
        event("refused")
        return None
    event("works")
    return result


def rarely(draw, usual, *unusual):
    """``usual`` three times in four, else one of ``unusual``."""
    return usual if draw(st.integers(0, 3)) else draw(st.sampled_from(unusual))


@st.composite
def waveforms(draw, max_samples=3000):
    """Arrays or tensors of any dtype and shape, some holding NaN, inf or huge values."""
    n = draw(st.integers(0, max_samples))
    shape = rarely(draw, (n,), (draw(st.integers(0, 3)), n), (n, 2), (1, 2, n), ())
    dtype = rarely(draw, np.float32, np.float64, np.float16, np.int16, np.bool_, np.complex64)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = rarely(draw, 1.0, 0.0, 1e-30, 32768.0, 1e12, 1e13, 1e30)
    x = np.asarray(rng.standard_normal(shape) * scale)
    if x.size and not draw(st.integers(0, 4)):
        x.flat[rng.integers(x.size)] = draw(st.sampled_from([np.nan, np.inf, -np.inf, 1e300]))
    with np.errstate(all="ignore"):
        x = x.astype(dtype)
    return torch.from_numpy(x) if draw(st.booleans()) else x


sample_rates = st.one_of(st.sampled_from([22050, 44100, 48000, 16000, 8000, 44101, 7919, np.int64(44100)]),
                         st.sampled_from([1, 0, -22050, 22050.0, True, "22050", None, 2**40]))


@PROPERTY
@given(waveforms(), st.sampled_from(sorted(MODULES)))
def test_representations_take_any_waveform_or_refuse_it_by_name(x, name):
    out = works_or_refuses(lambda: MODULES[name](x), "waveform")
    if out is not None:
        assert out.dim() == 3 and torch.isfinite(out).all()
        db = LogCompression(mode="db")(out)
        assert torch.isfinite(db).all()


@PROPERTY
@given(st.integers(1, 4096), st.integers(1, 4096), st.integers(1, 1024), st.booleans(),
       st.sampled_from(["constant", "reflect"]), st.integers(1, 5000))
def test_stft_settings_and_lengths_work_or_are_refused(n_fft, win_length, hop_length, center, pad_mode, n):
    stft = works_or_refuses(lambda: STFT(n_fft=n_fft, win_length=win_length, hop_length=hop_length,
                                         center=center, pad_mode=pad_mode), "win_length")
    if stft is not None:
        out = works_or_refuses(lambda: stft(torch.ones(n)), "waveform")
        if out is not None:
            assert out.shape == (1, n_fft // 2 + 1, stft.n_frames(n))


@settings(max_examples=15, deadline=None)
@given(waveforms(max_samples=60000), sample_rates)
def test_predict_takes_any_waveform_and_sample_rate_or_refuses_them_by_name(x, sample_rate):
    features = works_or_refuses(lambda: features_for(CHORD_MODEL, x, sample_rate), "waveform", "sample_rate")
    if features is not None:
        assert features.shape[:2] == (1, CHORD_MODEL.n_bins) and torch.isfinite(features).all()


@st.composite
def intervals(draw, n=None):
    """``n`` intervals in seconds: usually sorted pairs, sometimes reversed, not finite, or of another shape."""
    n = draw(st.integers(0, 6)) if n is None else n
    time = st.floats(0, 30) if draw(st.integers(0, 3)) else st.one_of(
        st.floats(-5, 30), st.sampled_from([np.nan, np.inf, -np.inf]))
    times = np.array(draw(st.lists(time, min_size=2 * n, max_size=2 * n)), dtype=float)
    array = rarely(draw, np.sort(times), times).reshape(n, 2)
    return rarely(draw, array, array.ravel(), np.zeros((n, 3)), array.tolist(), [["a", "b"]] * n)


labels = st.one_of(st.lists(st.sampled_from(list(CHORD_LABELS) + ["H:maj", "", "C:maj\n"]), max_size=6),
                   st.sampled_from(CHORD_LABELS), st.just(None), st.lists(st.integers(), max_size=3))


@st.composite
def chord_annotations(draw):
    """``(intervals, labels)``: usually one Harte label per interval, sometimes not."""
    iv = draw(intervals(n=draw(st.integers(1, 6))))
    n = len(iv)
    good = st.lists(st.sampled_from(CHORD_LABELS), min_size=n, max_size=n)
    lab = draw(good) if draw(st.integers(0, 3)) else draw(labels)
    return iv, lab



@PROPERTY
@given(intervals(), st.integers(0, 200), st.sampled_from([22050, 22050, 22050, 0, 44100.5]),
       st.sampled_from([512, 512, 512, 0, -1]))
def test_intervals_to_frames_works_or_refuses_by_name(iv, n_frames, sample_rate, hop_length):
    frames = works_or_refuses(lambda: intervals_to_frames(iv, n_frames, sample_rate=sample_rate,
                                                          hop_length=hop_length),
                              "intervals", "n_frames", "sample_rate", "hop_length")
    if frames is not None:  # frame i is inside when its centre is: checked by hand here
        centres = np.arange(n_frames) * hop_length / sample_rate
        expected = [any(s <= c < e for s, e in np.asarray(iv, dtype=float).reshape(-1, 2)) for c in centres]
        np.testing.assert_array_equal(frames, expected)
        spans = frame_intervals(n_frames, sample_rate=sample_rate, hop_length=hop_length)
        assert spans.shape == (n_frames, 2) and len(frame_times(n_frames, sample_rate=sample_rate,
                                                                 hop_length=hop_length)) == n_frames


@PROPERTY
@given(st.lists(st.sampled_from(["C:maj", "A:min", "N"]), max_size=40))
def test_merged_frame_labels_are_a_valid_mir_eval_annotation(frame_labels):
    merged = works_or_refuses(lambda: merge_frame_labels(frame_labels, sample_rate=22050, hop_length=512), "labels")
    if merged is not None:
        mir_eval.util.validate_intervals(merged[0])
        assert merged[0][-1, 1] == pytest.approx(len(frame_labels) * 512 / 22050 - 256 / 22050)


@PROPERTY
@given(st.lists(intervals(), min_size=0, max_size=3), st.integers(0, 3), st.integers(0, 60),
       st.sampled_from([0.5, 0.5, 0.5, 0.0, 1.5]))
def test_evaluate_voicing_works_or_refuses_by_name(references, extra, frames, threshold):
    rng = np.random.default_rng(0)
    probabilities = [rng.random(frames) for _ in range(len(references) if extra else 2)]
    scores = works_or_refuses(lambda: evaluate_voicing(references, probabilities, threshold=threshold,
                                                       sample_rate=22050, hop_length=512),
                              "references", "reference", "probabilities", "threshold", "songs")
    if scores is not None:
        assert all(0.0 <= value <= 1.0 for value in scores.values())


@PROPERTY
@given(chord_annotations(), chord_annotations())
def test_evaluate_chords_works_or_refuses_by_name(reference, estimate):
    scores = works_or_refuses(lambda: evaluate_chords([reference], [estimate]),
                              "references[0]", "estimates[0]", "song 0")
    if scores is not None:
        assert -1e-12 <= scores["majmin"] <= 1.0 + 1e-12 or np.isnan(scores["majmin"])


@PROPERTY
@given(chord_annotations())
def test_write_lab_works_or_refuses_by_name(annotation):
    iv, lab = annotation
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out.lab"
        written = works_or_refuses(lambda: write_lab(path, iv, lab), "intervals", "label")
        if written is not None:
            read_intervals, read_labels = mir_eval.io.load_labeled_intervals(str(path))
            np.testing.assert_allclose(read_intervals.reshape(-1, 2), np.asarray(iv, dtype=float), atol=1e-6)
