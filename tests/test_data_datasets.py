"""The three task datasets and the cache: splits, items, caching, atomicity, bad input (mirbook.data)."""

import hashlib

import numpy as np
import pytest
import torch

from mirbook.data import NO_KEY, TAG_NAMES, ChordFrames, TaggedClips, VoiceExcerpts
from mirbook.data import cache as cache_module
from mirbook.data.cache import ArrayCache, frontend_fingerprint
from mirbook.data.song import Song
from mirbook.data.sources import Source, SyntheticWorld, TrackRef, song_seed
from mirbook.representations import CQT, Frontend, LogCompression, MelSpectrogram
from mirbook.vocab import CHORD_LABELS, KEY_LABELS, chord_chroma

DURATION = 8.0


@pytest.fixture(scope="module")
def cqt():
    return Frontend(CQT(hop_length=2048, n_bins=48, f_min=65.40639132514966), LogCompression())


@pytest.fixture(scope="module")
def mel():
    return Frontend(MelSpectrogram(n_mels=24, hop_length=1024), LogCompression(mode="db"))


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def _chords(split, frontend, cache_dir, n_songs=3, **kw):
    return ChordFrames(split, n_songs=n_songs, frontend=frontend, duration=DURATION, cache_dir=cache_dir,
                       progress=False, **kw)


def test_chord_frames_items(cqt, cache_dir):
    data = _chords("train", cqt, cache_dir, context=9)
    x, chroma, label = data[len(data) // 2]
    assert x.shape == (48, 9) and x.dtype == torch.float32
    assert chroma.shape == (12,) and chroma.dtype == torch.float32
    assert label.dtype == torch.int64 and 0 <= int(label) < len(CHORD_LABELS)
    assert np.array_equal(chroma.numpy(), chord_chroma(CHORD_LABELS[int(label)]))
    assert len(data) == sum(data.n_frames)
    item = data.song(1)
    assert item.features.shape == (48, data.n_frames[1]) and item.times.shape == (data.n_frames[1],)
    # the item's label is the chord sounding at its frame's time
    intervals, labels = item.song.chords
    t = item.times[40]
    k = np.flatnonzero((intervals[:, 0] <= t) & (t < intervals[:, 1]))[0]
    assert CHORD_LABELS[int(item.targets[40])].split("/")[0] == labels[k].split("/")[0]
    # the centre of the window is the frame itself
    offset = data.n_frames[0]
    assert torch.equal(data[offset + 40][0][:, 4], item.features[:, 40])


def test_splits_are_disjoint_and_deterministic(mel, cache_dir):
    sets = {split: VoiceExcerpts(split, n_songs=3, frontend=mel, duration=DURATION, excerpt_frames=21,
                                 cache_dir=cache_dir, progress=False) for split in ("train", "valid", "test")}
    ids = {split: {t.track_id for t in d.tracks} for split, d in sets.items()}
    assert not ids["train"] & ids["valid"] and not ids["train"] & ids["test"] and not ids["valid"] & ids["test"]
    digests = {split: {hashlib.sha1(d.example(i).audio.tobytes()).hexdigest() for i in range(d.n_songs)}
               for split, d in sets.items()}
    assert sum(len(v) for v in digests.values()) == 9 == len(set.union(*digests.values()))
    again = VoiceExcerpts("train", n_songs=3, frontend=mel, duration=DURATION, excerpt_frames=21, cache_dir=False,
                          progress=False)
    assert [t.track_id for t in again.tracks] == [t.track_id for t in sets["train"].tracks]
    assert all(torch.allclose(a, b) for a, b in zip(again.features, sets["train"].features))
    assert len({song_seed(s, split, i) for s in range(3) for split in ("train", "valid", "ci", "test") for i in range(50)}) \
        == 3 * 4 * 50


def test_voice_excerpts_items_and_hard_negatives(mel, cache_dir):
    data = VoiceExcerpts("valid", n_songs=4, frontend=mel, duration=15.0, excerpt_frames=21, excerpt_hop=7,
                         cache_dir=cache_dir, progress=False)
    x, voicing = data[3]
    assert x.shape == (24, 21) and voicing.shape == (21,) and voicing.dtype == torch.float32
    assert set(torch.unique(torch.cat(data.labels)).tolist()) <= {0.0, 1.0}
    # every song carries a non-vocal lead; three in four are sung
    assert all(len(data.example(i).lead) > 0 for i in range(data.n_songs))
    assert [data.songs[i].has_vocals for i in range(4)] == [True, True, True, False]
    # the last excerpt of each song ends on its last frame
    last = [s for j, s in data._index if j == 0][-1]
    assert last + 21 == data.n_frames[0]


def test_tagged_clips_items(cqt, cache_dir):
    data = TaggedClips("test", n_songs=3, frontend=cqt, duration=DURATION, clip_seconds=3.0, clips_per_song=2,
                       cache_dir=cache_dir, progress=False)
    x, tags, key = data[0]
    assert x.shape == (48, data.clip_frames) and data.clip_frames == round(3.0 * 22050 / 2048)
    assert tags.shape == (len(TAG_NAMES),) and data.tag_names == list(TAG_NAMES)
    assert key.dtype == torch.int64 and 0 <= int(key) < 24
    assert KEY_LABELS[int(key)] == data.songs[0].key
    assert [data.tag_names[k] for k in torch.nonzero(tags).flatten().tolist()] == sorted(data.songs[0].tags, key=TAG_NAMES.index)
    assert len(data) == 6 and NO_KEY == -100


def test_songs_loaded_on_threads_keep_their_own_features(mel, tmp_path):
    """Uncached songs are rendered on several threads: each must still get the features of its own audio."""
    data = VoiceExcerpts("valid", n_songs=5, frontend=mel, duration=DURATION, excerpt_frames=21, cache_dir=tmp_path,
                         progress=False, batch_size=5)
    for i in range(data.n_songs):
        audio = torch.from_numpy(data.example(i).audio.astype(np.float32))
        with torch.inference_mode():
            expected = mel(audio[None])[0]
        # batched with the other songs, not alone: the same values up to float rounding (another song would differ by dBs)
        torch.testing.assert_close(data.song(i).features, expected, rtol=1e-5, atol=1e-4, msg=f"song {i}")


def test_cache_is_used_and_keyed_by_the_frontend(cqt, tmp_path, monkeypatch):
    first = _chords("test", cqt, tmp_path, n_songs=2)
    files = sorted(p.name for p in tmp_path.glob("*.npz"))
    assert len(files) == 4  # two songs (audio + annotations) and their features
    calls = []
    monkeypatch.setattr("mirbook.data.sources.render_song", lambda *a, **k: calls.append(a))
    second = _chords("test", cqt, tmp_path, n_songs=2)
    assert not calls, "cached features must not re-render songs"
    assert all(torch.equal(a, b) for a, b in zip(first.features, second.features))
    other = Frontend(CQT(hop_length=2048, n_bins=36, f_min=65.40639132514966), LogCompression())
    assert frontend_fingerprint(other) != frontend_fingerprint(cqt)
    monkeypatch.undo()
    third = _chords("test", other, tmp_path, n_songs=2)
    assert third.features[0].shape[0] == 36 and len(list(tmp_path.glob("*.npz"))) == 6


def test_interrupted_write_leaves_no_readable_partial_file(tmp_path, monkeypatch):
    cache = ArrayCache(tmp_path)
    cache.save("good", {"a": np.arange(3)})

    class Interrupted(Exception):
        pass

    real_fdopen = cache_module.write_atomically.__globals__["os"].fdopen

    class Dying:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            raise Interrupted

    monkeypatch.setattr(cache_module.write_atomically.__globals__["os"], "fdopen",
                        lambda fd, mode: Dying(real_fdopen(fd, mode)))
    with pytest.raises(Interrupted):
        cache.save("bad", {"a": np.arange(100000)})
    with pytest.raises(Interrupted):
        cache.save("good", {"a": np.arange(100000)})
    monkeypatch.undo()
    assert cache.load("bad") is None and not cache.path("bad").exists()
    assert np.array_equal(cache.load("good")["a"], np.arange(3))  # the old entry survives intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.npz"]  # no temporary left behind
    # a file truncated by something else is a miss, not a crash
    cache.path("trunc").write_bytes(cache.path("good").read_bytes()[:40])
    assert cache.load("trunc") is None


class NoContract(torch.nn.Module):
    def forward(self, x):
        return x


@pytest.mark.parametrize("kwargs, match", [
    ({"split": "training"}, "split"),
    ({"frontend": None}, "frontend is required"),
    ({"frontend": NoContract()}, "sample_rate"),
    ({"n_songs": 0}, "n_songs"),
    ({"n_songs": None}, "n_songs"),
    ({"context": 4}, "context"),
    ({"duration": -1.0}, "duration"),
    ({"batch_size": 0}, "batch_size"),
    ({"source": "beatles"}, "source"),
])
def test_bad_parameters(cqt, kwargs, match):
    options = {"split": "train", "n_songs": 1, "frontend": cqt, "duration": DURATION, "cache_dir": False,
               "progress": False, **kwargs}
    with pytest.raises(ValueError, match=match):
        ChordFrames(options.pop("split"), **options)


def test_bad_sizes(mel, cqt):
    with pytest.raises(ValueError, match="excerpt_frames"):
        VoiceExcerpts("train", n_songs=1, frontend=mel, duration=5.0, excerpt_frames=10_000, cache_dir=False,
                      progress=False)
    with pytest.raises(ValueError, match="clip_seconds"):
        TaggedClips("train", n_songs=1, frontend=cqt, duration=5.0, clip_seconds=60.0, cache_dir=False,
                    progress=False)
    data = _chords("train", cqt, False, n_songs=1)
    with pytest.raises(ValueError, match="song index"):
        data.song(5)


def test_fingerprint_changes_with_the_representation_code_version(cqt, monkeypatch):
    before = frontend_fingerprint(cqt)
    monkeypatch.setattr("mirbook.representations.REPRESENTATION_VERSION", "test-next")
    assert frontend_fingerprint(cqt) != before


def test_the_world_as_an_object_is_the_world_by_name(mel, cache_dir):
    by_name = VoiceExcerpts("valid", n_songs=2, seed=3, frontend=mel, duration=DURATION, excerpt_frames=21,
                            cache_dir=cache_dir, progress=False)
    world = SyntheticWorld(seed=3, duration=DURATION)
    by_object = VoiceExcerpts("valid", n_songs=2, frontend=mel, excerpt_frames=21, source=world, cache_dir=cache_dir,
                              progress=False)
    assert by_object.source is world and by_name.source.name == "synthetic"
    assert [t.identity for t in by_object.tracks] == [t.identity for t in by_name.tracks]
    assert all(torch.equal(a, b) for a, b in zip(by_object.features, by_name.features))


class _Tones(Source):
    """A source in one small class: a low and a high sine tone per split, tagged by register."""

    name = "tones"
    tasks = ("tags",)

    def tracks(self, split, *, task=None, n_songs=None):
        self.check_task(task)
        return [self._track(split, register, hz) for register, hz in (("low", 110.0), ("high", 880.0))][:n_songs]

    def _track(self, split, register, hz):
        def load(sample_rate):
            t = np.arange(4 * sample_rate) / sample_rate
            audio = (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)
            return Song(audio=audio, sample_rate=sample_rate, tags=[register], track_id=f"{split}-{register}")

        return TrackRef(f"{split}-{register}", {"source": self.name, "split": split, "hz": hz}, load)

    def tag_names(self):
        return ["low", "high"]


def test_a_new_source_is_one_small_class(mel, tmp_path):
    data = TaggedClips("test", frontend=mel, source=_Tones(), n_songs=None, clip_seconds=2.0, clips_per_song=1,
                       cache_dir=tmp_path, progress=False)
    assert data.tag_names == ["low", "high"] and data.n_songs == 2
    assert [t.tolist() for t in data.tags] == [[1.0, 0.0], [0.0, 1.0]]
    assert int(data[0][2]) == NO_KEY
    # the low tone's energy sits in lower mel bands than the high tone's
    assert int(data.features[0].mean(1).argmax()) < int(data.features[1].mean(1).argmax())
    assert len(list(tmp_path.iterdir())) == 2  # features only: cache_songs is False
    with pytest.raises(ValueError, match="serves 'chords'"):
        ChordFrames("test", frontend=mel, source=_Tones(), n_songs=None, cache_dir=False, progress=False)


def test_content_hash_ignores_key_order_but_not_values():
    """As documented: the same configuration written in another key order is the same cache entry."""
    from mirbook.data.cache import content_hash

    a = content_hash({"seed": 1, "duration": 8.0, "options": {"vocals": True, "lead": False}})
    assert a == content_hash({"options": {"lead": False, "vocals": True}, "duration": 8.0, "seed": 1})
    assert a != content_hash({"seed": 2, "duration": 8.0, "options": {"vocals": True, "lead": False}})
    assert len(a) == 24 and int(a, 16) >= 0


class _CachedTones(_Tones):
    """The tones, with their audio cached as rendered songs are (``cache_songs``)."""

    cache_songs = True


def test_the_song_cache_keeps_sample_rates_apart(mel, tmp_path):
    """A 16 kHz dataset built after a 22.05 kHz one in the same cache folder reads 16 kHz audio."""
    first = TaggedClips("test", frontend=mel, source=_CachedTones(), n_songs=1, clip_seconds=2.0, clips_per_song=1,
                        cache_dir=tmp_path, progress=False)
    assert first.features[0].shape[-1] == 4 * 22050 // 1024 + 1
    mel16 = Frontend(MelSpectrogram(sample_rate=16000, n_mels=24, hop_length=1024), LogCompression(mode="db"))
    second = TaggedClips("test", frontend=mel16, source=_CachedTones(), n_songs=1, clip_seconds=2.0,
                         clips_per_song=1, cache_dir=tmp_path, progress=False)
    # the expectation: the 110 Hz tone rendered at 16 kHz, through the 16 kHz frontend
    t = np.arange(4 * 16000) / 16000
    direct = mel16(torch.from_numpy((0.3 * np.sin(2 * np.pi * 110.0 * t)).astype(np.float32))[None])[0]
    assert second.features[0].shape == direct.shape == (24, 4 * 16000 // 1024 + 1)
    torch.testing.assert_close(second.features[0], direct, atol=1e-4, rtol=1e-4)


def test_a_frame_exactly_on_a_chord_start_takes_that_chord():
    """Chords are half-open [start, end): a frame at 1.0 s is the second chord's; past the end is 'N'."""
    from mirbook.data.datasets import _frame_chord_classes
    from mirbook.vocab import chord_index

    intervals = np.array([[0.0, 1.0], [1.0, 2.5], [3.0, 4.0]])
    times = np.array([0.0, 0.5, 1.0, 2.5, 2.75, 3.0, 4.0])
    expected = ["C:maj", "C:maj", "A:min", "N", "N", "G:maj", "N"]
    classes = _frame_chord_classes(times, intervals, ["C:maj", "A:min", "G:maj"])
    assert classes.tolist() == [chord_index(label) for label in expected]
