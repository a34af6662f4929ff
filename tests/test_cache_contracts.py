"""The array cache's paths and keys, and songs read back from the cache without their audio
(mirbook.data.cache; every chapter's datasets)."""

import numpy as np
import pytest
import torch

from mirbook.data import ChordFrames
from mirbook.data.cache import ArrayCache, load_features
from mirbook.data.song import Song
from mirbook.data.sources import Source, TrackRef
from mirbook.representations import Frontend, LogCompression, MelSpectrogram

SR = 22050


def test_a_disabled_cache_has_no_paths():
    with pytest.raises(ValueError, match=r"^this cache is disabled \(directory=None\); it has no paths$"):
        ArrayCache(None).path("abc")


def test_cache_keys_are_alphanumeric_with_dashes_and_underscores(tmp_path):
    cache = ArrayCache(tmp_path)
    assert cache.path("a-b_C9") == tmp_path / "a-b_C9.npz"
    for bad in ("", "a/b", "../up", "a.b", "a b"):
        with pytest.raises(ValueError, match=rf"^cache keys are alphanumeric \(plus '-' and '_'\); got {bad!r}$"):
            cache.path(bad)


class _Chords(Source):
    """One 3-second sine song with one chord."""

    name = "one-chord"
    tasks = ("chords",)

    def tracks(self, split, *, task=None, n_songs=None):
        def load(sample_rate):
            t = np.arange(3 * sample_rate) / sample_rate
            audio = (0.2 * np.sin(2 * np.pi * 220.0 * t)).astype(np.float32)
            return Song(audio=audio, sample_rate=sample_rate, stems={"piano": audio.copy()},
                        chords=(np.array([[0.0, 3.0]]), ["A:min"]), key="A minor", track_id="only")

        return [TrackRef("only", {"source": self.name}, load)]


def test_songs_read_back_from_the_cache_keep_their_length_and_annotations_but_no_audio(tmp_path):
    frontend = Frontend(MelSpectrogram(n_mels=16, hop_length=1024), LogCompression(mode="db"))
    built = ChordFrames("test", frontend=frontend, source=_Chords(), n_songs=None, context=3, cache_dir=tmp_path,
                        progress=False)
    read = ChordFrames("test", frontend=frontend, source=_Chords(), n_songs=None, context=3, cache_dir=tmp_path,
                       progress=False)
    for data in (built, read):
        song = data.songs[0]
        assert song.audio.shape == (0,) and song.audio.dtype == np.float32 and song.stems == {}
        assert song.n_samples == 3 * SR
        assert song.key == "A minor" and song.chords[1] == ["A:min"]
        np.testing.assert_array_equal(song.chords[0], [[0.0, 3.0]])


def _tone(track_id, seconds, hz=220.0):
    def load(sample_rate):
        t = np.arange(int(seconds * sample_rate)) / sample_rate
        return Song(audio=(0.2 * np.sin(2 * np.pi * hz * t)).astype(np.float32), sample_rate=sample_rate,
                    track_id=track_id)

    return TrackRef(track_id, {"source": "tones", "id": track_id}, load)


@pytest.fixture(scope="module")
def mel():
    return Frontend(MelSpectrogram(n_mels=16, hop_length=1024), LogCompression(mode="db"))


def test_features_are_the_frontend_s_output_on_the_float32_audio_and_are_stored_in_the_cache(mel, tmp_path):
    track = _tone("a", 2.0)
    features, songs = load_features([track], mel, cache=ArrayCache(tmp_path), cache_songs=False, batch_size=4)
    audio = track.load(SR).audio
    with torch.inference_mode():
        expected = mel(torch.from_numpy(audio)[None])[0]
    assert features[0].dtype == torch.float32
    torch.testing.assert_close(features[0], expected, rtol=0, atol=0)
    (stored,) = [np.load(p) for p in tmp_path.glob("*.npz")]
    np.testing.assert_array_equal(stored["features"], expected.numpy())
    assert int(stored["n_samples"]) == 2 * SR


def test_songs_of_different_lengths_load_together_each_with_its_frames(mel):
    tracks = [_tone("long", 3.0), _tone("short", 2.0), _tone("long too", 3.0, hz=330.0)]
    features, _ = load_features(tracks, mel, cache=ArrayCache(None), cache_songs=False, batch_size=8)
    assert [f.shape for f in features] == [(16, 1 + 3 * SR // 1024), (16, 1 + 2 * SR // 1024),
                                           (16, 1 + 3 * SR // 1024)]


def test_a_recording_too_short_for_the_frontend_is_named_with_the_frontend_s_reason(mel):
    with pytest.raises(ValueError, match=r"^track 'tiny': waveform is too short: 100 samples, at least 2048 expected$"):
        load_features([_tone("tiny", 100 / SR)], mel, cache=ArrayCache(None), cache_songs=False, batch_size=1)


class _Shaped(torch.nn.Module):
    """A stand-in frontend whose output has a chosen shape and dtype."""

    sample_rate = SR
    n_bins = 4

    def __init__(self, shape_of, dtype=torch.float32):
        super().__init__()
        self.shape_of, self.dtype = shape_of, dtype

    def forward(self, batch):
        return torch.ones(self.shape_of(batch), dtype=self.dtype)


@pytest.mark.parametrize("shape_of, got", [
    (lambda b: (b.shape[0], 5, 7), "(1, 5, 7)"),        # wrong number of bins
    (lambda b: (b.shape[0], 4), "(1, 4)"),              # no frame axis
    (lambda b: (b.shape[0] + 1, 4, 7), "(2, 4, 7)"),    # wrong batch size
])
def test_a_frontend_of_the_wrong_output_shape_is_refused(shape_of, got):
    with pytest.raises(ValueError) as err:
        load_features([_tone("a", 1.0)], _Shaped(shape_of), cache=ArrayCache(None), cache_songs=False, batch_size=1)
    assert str(err.value) == ("frontend must map (batch, samples) to (batch, n_bins=4, frames); "
                              f"got shape {got} for input (1, {SR})")


def test_features_of_a_double_precision_frontend_are_stored_as_float32():
    features, _ = load_features([_tone("a", 1.0)], _Shaped(lambda b: (b.shape[0], 4, 3), torch.float64),
                                cache=ArrayCache(None), cache_songs=False, batch_size=1)
    assert features[0].dtype == torch.float32 and features[0].shape == (4, 3)


def test_a_second_load_reads_the_features_from_the_cache_without_loading_the_track(mel, tmp_path):
    cache = ArrayCache(tmp_path)
    first, _ = load_features([_tone("a", 2.0)], mel, cache=cache, cache_songs=False, batch_size=1)

    def refuse(sample_rate):
        raise AssertionError("the track was loaded although its features are cached")

    again, songs = load_features([TrackRef("a", {"source": "tones", "id": "a"}, refuse)], mel, cache=cache,
                                 cache_songs=False, batch_size=1)
    torch.testing.assert_close(again[0], first[0], rtol=0, atol=0)
    assert songs[0].n_samples == 2 * SR


def test_a_track_with_empty_audio_is_refused_and_one_sample_is_not_called_empty(mel):
    with pytest.raises(ValueError, match=r"^track 'silent' has no audio \(0 samples\)$"):
        load_features([_tone("silent", 0.0)], mel, cache=ArrayCache(None), cache_songs=False, batch_size=1)
    # one sample is audio (too short for this frontend, which then says so)
    with pytest.raises(ValueError, match=r"^track 'one': waveform is too short: 1 samples"):
        load_features([_tone("one", 1 / SR)], mel, cache=ArrayCache(None), cache_songs=False, batch_size=1)


class _Recording(_Shaped):
    """A stand-in frontend that records the batch sizes it is given."""

    def __init__(self):
        super().__init__(lambda b: (b.shape[0], 4, 3))
        self.batches = []

    def forward(self, batch):
        self.batches.append(batch.shape[0])
        return super().forward(batch)


def test_songs_are_loaded_and_batched_batch_size_at_a_time():
    frontend = _Recording()
    tracks = [_tone(f"t{i}", 1.0, hz=200.0 + i) for i in range(5)]
    load_features(tracks, frontend, cache=ArrayCache(None), cache_songs=False, batch_size=2)
    assert frontend.batches == [2, 2, 1]


def test_the_progress_bar_is_off_by_default_and_counts_the_songs_to_compute(mel, tmp_path, capsys):
    cache = ArrayCache(tmp_path)
    load_features([_tone("a", 1.0)], mel, cache=cache, cache_songs=False, batch_size=1)
    assert capsys.readouterr().err == ""
    load_features([_tone("a", 1.0), _tone("b", 1.0, hz=330.0)], mel, cache=cache, cache_songs=False, batch_size=1,
                  progress=True)
    err = capsys.readouterr().err
    assert err.startswith("\rfeatures:") and "1/1" in err and "/2" not in err  # 'a' is cached: one to compute
    load_features([_tone("b", 1.0, hz=330.0)], mel, cache=cache, cache_songs=False, batch_size=1, progress=True,
                  desc="valid")
    assert capsys.readouterr().err == ""  # nothing to compute: no bar


def test_an_unwritable_cache_folder_warns_once_naming_it_and_the_reason(tmp_path, monkeypatch):
    import errno

    from mirbook.data import cache as cache_module

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache_module, "write_atomically", full)
    cache = ArrayCache(tmp_path / "full")
    with pytest.warns(RuntimeWarning) as caught:
        assert cache.save("k1", {"x": np.zeros(2)}) is None
    assert str(caught[0].message) == (f"cannot write to the cache folder {str(tmp_path / 'full')!r} "
                                      "(No space left on device); computing without caching")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.save("k2", {"x": np.zeros(2)}) is None  # once per folder


def test_a_cache_configuration_is_hashed_with_paths_as_their_text_and_refused_when_not_json():
    from pathlib import Path

    from mirbook.data.cache import content_hash

    assert content_hash({"audio": Path("/data/a.wav")}) == content_hash({"audio": "/data/a.wav"})
    with pytest.raises(ValueError, match=r"^cache configuration must be JSON-serialisable; got \{\(1, 2\): 3\}$"):
        content_hash({(1, 2): 3})
