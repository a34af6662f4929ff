"""The data path's small contracts: where caches live, how a bad track is named, frame indexing at
song boundaries, a tagged song as one item, and the sources' reprs (mirbook.data)."""

import numpy as np
import pytest
import torch

from mirbook.data import ChordFrames, TaggedClips
from mirbook.data import cache as cache_module
from mirbook.data.cache import ArrayCache, default_cache_dir, load_features
from mirbook.data.song import Song
from mirbook.data.sources import RenderedSource, Source, SyntheticWorld, TrackRef
from mirbook.representations import CQT, Frontend, LogCompression, MelSpectrogram
from mirbook.vocab import chord_index

SR = 22050
HOP = 2048


@pytest.fixture(scope="module")
def mel():
    return Frontend(MelSpectrogram(n_mels=16, hop_length=1024), LogCompression(mode="db"))


@pytest.fixture(scope="module")
def cqt():
    return Frontend(CQT(hop_length=HOP, n_bins=24, f_min=65.40639132514966), LogCompression())


# -- where caches live ---------------------------------------------------------------------------

def test_the_cache_folder_is_the_environment_variable_when_set(monkeypatch, tmp_path):
    monkeypatch.setenv("MIRBOOK_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert default_cache_dir() == tmp_path / "elsewhere"


def test_the_cache_folder_of_a_source_checkout_is_its_data_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("MIRBOOK_CACHE_DIR", raising=False)
    monkeypatch.setattr(cache_module, "checkout_dir", lambda: tmp_path / "checkout")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "checkout" / "data" / "cache"


def test_the_cache_folder_of_an_installed_package_is_in_the_home_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("MIRBOOK_CACHE_DIR", raising=False)
    monkeypatch.setattr(cache_module, "checkout_dir", lambda: None)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "mirbook"


# -- a track that cannot be loaded is named with its files ----------------------------------------

def _track(track_id, identity, audio):
    def load(sample_rate):
        if audio is None:
            raise KeyError("chords")
        return Song(audio=audio, sample_rate=sample_rate, track_id=track_id)

    return TrackRef(track_id, identity, load)


def test_a_track_that_fails_to_load_is_named_with_every_file_it_reads(mel, tmp_path):
    identity = {"source": "gtzan", "genre": "blues",
                "audio": {"path": "/data/blues.00001.wav", "size": 10},
                "labels": {"annotation": {"path": "/data/blues.00001.lab"}}}
    with pytest.raises(ValueError) as err:
        load_features([_track("blues.00001", identity, None)], mel, cache=ArrayCache(tmp_path), cache_songs=False,
                      batch_size=1)
    assert str(err.value) == ("cannot load track 'blues.00001' (files /data/blues.00001.wav, /data/blues.00001.lab):"
                              " KeyError: 'chords'")


def test_a_track_without_files_is_named_by_its_id_alone(mel, tmp_path):
    empty = np.zeros(0, dtype=np.float32)
    with pytest.raises(ValueError) as err:
        load_features([_track("tone-3", {"source": "tones", "hz": 110.0}, empty)], mel, cache=ArrayCache(tmp_path),
                      cache_songs=False, batch_size=1)
    assert str(err.value) == "track 'tone-3' has no audio (0 samples)"


# -- chord frames across song boundaries ----------------------------------------------------------

class _TwoChordSongs(Source):
    """Two sine songs: song 0 is C major then A minor (2 s each), song 1 is G major (3 s)."""

    name = "two-chord-songs"
    tasks = ("chords",)

    def tracks(self, split, *, task=None, n_songs=None):
        songs = [(4.0, [[0.0, 2.0], [2.0, 4.0]], ["C:maj", "A:min"]), (3.0, [[0.0, 3.0]], ["G:maj"])]
        return [self._track(i, *song) for i, song in enumerate(songs)][:n_songs]

    def _track(self, i, seconds, intervals, labels):
        def load(sample_rate):
            t = np.arange(int(seconds * sample_rate)) / sample_rate
            audio = (0.2 * np.sin(2 * np.pi * 220.0 * (i + 1) * t)).astype(np.float32)
            return Song(audio=audio, sample_rate=sample_rate, chords=(np.array(intervals), labels),
                        track_id=f"song-{i}")

        return TrackRef(f"song-{i}", {"source": self.name, "i": i}, load)


@pytest.fixture(scope="module")
def chord_frames(cqt):
    return ChordFrames("test", frontend=cqt, source=_TwoChordSongs(), n_songs=None, context=3, cache_dir=False,
                       progress=False)


def test_frames_are_counted_per_song_with_centred_stft_framing(chord_frames):
    # centred frames: 1 + samples // hop
    expected = [1 + int(4.0 * SR) // HOP, 1 + int(3.0 * SR) // HOP]
    assert chord_frames.n_frames == expected and len(chord_frames) == sum(expected)


def test_the_first_frame_of_the_second_song_is_that_song_s(chord_frames):
    first = chord_frames.n_frames[0]
    x, _, label = chord_frames[first]
    assert int(label) == chord_index("G:maj")
    torch.testing.assert_close(x[:, 1], chord_frames.features[1][:, 0])
    x, _, label = chord_frames[first - 1]  # the last frame of the first song (t = 3.99 s: A minor)
    assert int(label) == chord_index("A:min")
    torch.testing.assert_close(x[:, 1], chord_frames.features[0][:, -1])


def test_negative_indices_count_from_the_end_and_out_of_range_ones_fail(chord_frames):
    n = len(chord_frames)
    assert int(chord_frames[-n][2]) == chord_index("C:maj")  # the very first frame
    torch.testing.assert_close(chord_frames[-n][0], chord_frames[0][0])
    assert int(chord_frames[-1][2]) == chord_index("G:maj")
    for bad in (n, -n - 1):
        with pytest.raises(IndexError, match=f"frame index {bad} out of range for {n} frames"):
            chord_frames[bad]


# -- one tagged song ------------------------------------------------------------------------------

class _Tones(Source):
    """A low and a high sine tone, tagged by register."""

    name = "tones"
    tasks = ("tags",)

    def tracks(self, split, *, task=None, n_songs=None):
        return [self._track(register, hz) for register, hz in (("low", 110.0), ("high", 880.0))][:n_songs]

    def _track(self, register, hz):
        def load(sample_rate):
            t = np.arange(3 * sample_rate) / sample_rate
            return Song(audio=(0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32), sample_rate=sample_rate,
                        tags=[register], key="A minor", track_id=register)

        return TrackRef(register, {"source": self.name, "hz": hz}, load)

    def tag_names(self):
        return ["low", "high"]


def test_a_tagged_song_is_its_features_times_tags_and_annotations(mel):
    data = TaggedClips("test", frontend=mel, source=_Tones(), n_songs=None, clip_seconds=1.0, clips_per_song=1,
                       cache_dir=False, progress=False)
    item = data.song(1)
    frames = 1 + 3 * SR // 1024
    assert item.features.shape == (16, frames)
    torch.testing.assert_close(item.features, data.features[1])
    np.testing.assert_allclose(item.times, np.arange(frames) * 1024 / SR)
    assert item.targets.tolist() == [0.0, 1.0]  # 'high' is the second tag
    assert item.song.track_id == "high" and item.song.key == "A minor"
    with pytest.raises(ValueError, match=r"song index must be an int in \[0, 2\); got 2"):
        data.song(2)


# -- the sources say what they are ----------------------------------------------------------------

def test_sources_repr_names_their_class_and_settings():
    assert repr(_Tones()) == "_Tones()"
    assert repr(SyntheticWorld(seed=4, duration=12)) == "SyntheticWorld(seed=4, duration=12.0)"

    class Rendered(RenderedSource):
        name = "rendered"

    assert repr(Rendered(seed=0, duration=1.5)) == "Rendered(seed=0, duration=1.5)"
