"""The task datasets' contracts on hand-made songs: frame counts, labels, excerpt and clip positions,
defaults, argument checks and per-song access (mirbook.data.datasets).

Every song here is a sine tone whose loudness rises over the song (so no two feature frames are
equal) with annotations written by hand; the frontend is a 16-band mel spectrogram with a hop of
1024 samples at 22050 Hz, so a song of ``(m - 1) * 1024`` samples has ``m`` centred frames whose
centres are ``i * 1024 / 22050`` seconds. Each expectation below is worked out from those numbers.
"""

import numpy as np
import pytest
import torch

from mirbook.data import datasets as datasets_module
from mirbook.data.datasets import ChordFrames, KeyOnlyClips, SongItem, TaggedClips, VoiceExcerpts, make_source
from mirbook.data.song import Song
from mirbook.data.sources import Source, TrackRef
from mirbook.representations import Frontend, LogCompression, MelSpectrogram

SR, HOP = 22050, 1024
FRAME = HOP / SR  # 0.046439... s between frame centres


def _samples(m):
    """Samples of a song with ``m`` centred frames (1 + samples // hop)."""
    return (m - 1) * HOP


def _audio(n, sample_rate, hz):
    t = np.arange(n) / sample_rate
    return (np.linspace(0.02, 0.8, n) * np.sin(2 * np.pi * hz * t)).astype(np.float32)


class _Handmade(Source):
    """Songs from a list of specs: ``frames`` (the song's length in frames) plus Song annotations."""

    name = "handmade"
    tasks = ("chords", "voice", "tags")

    def __init__(self, specs, *, tag_names=("low", "high", "bright"), tasks=None, cache_songs=False):
        self.specs = specs
        self._tag_names = list(tag_names)
        if tasks is not None:
            self.tasks = tasks
        self.cache_songs = cache_songs
        self.asked = []  # (split, task, n_songs) of each tracks() call
        self.loads = []  # the track ids loaded, in order

    def tracks(self, split, *, task=None, n_songs=None):
        self.check_task(task)
        self.asked.append((split, task, n_songs))
        return [self._track(split, k, dict(spec)) for k, spec in enumerate(self.specs)][:n_songs]

    def _track(self, split, k, spec):
        track_id = f"{split}-{k}"
        frames = spec.pop("frames")
        hz = spec.pop("hz", 220.0 * (k + 1))

        def load(sample_rate):
            self.loads.append(track_id)
            audio = _audio(_samples(frames) * sample_rate // SR, sample_rate, hz)
            return Song(audio=audio, sample_rate=sample_rate, track_id=track_id, **spec)

        return TrackRef(track_id, {"source": self.name, "split": split, "k": k, "frames": frames, "hz": hz}, load)

    def tag_names(self):
        return list(self._tag_names)


def _chord_spec(frames):
    return {"frames": frames, "chords": (np.array([[0.0, 60.0]]), ["C:maj"])}


def _voice_spec(frames):
    return {"frames": frames, "voicing": np.array([[0.5, 1.0]])}


def _tag_spec(frames):
    return {"frames": frames, "tags": ["low"]}


@pytest.fixture(scope="module")
def mel():
    return Frontend(MelSpectrogram(n_mels=16, hop_length=HOP), LogCompression())


class _Counting(torch.nn.Module):
    """A frontend that records the batch size of each call to the frontend it wraps."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.sample_rate, self.hop_length, self.n_bins = inner.sample_rate, inner.hop_length, inner.n_bins
        self.batches = []

    def forward(self, x):
        self.batches.append(int(x.shape[0]))
        return self.inner(x)


def _distinct_columns(features):
    return len(torch.unique(features, dim=1).T) == features.shape[1]


# -- ChordFrames ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def chords(mel):
    """Two songs: 65 frames with four chords (one outside majmin), then 41 frames of C major."""
    specs = [{"frames": 65, "chords": (np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 2.5], [2.5, 2.98]]),
                                       ["C:maj", "A:min", "C:dim", "N"])},
             _chord_spec(41)]
    return ChordFrames("test", frontend=mel, source=_Handmade(specs), n_songs=None, context=5, cache_dir=False,
                       progress=False)


def test_chord_frames_one_item_per_centred_frame(chords):
    """65 frames (64 hops of audio) and 41 frames: 106 items; frame i's time is i * 1024 / 22050 s."""
    assert chords.n_frames == [65, 41] and len(chords) == 106
    assert (chords.split, chords.sample_rate, chords.hop_length, chords.n_bins, chords.n_songs) == ("test", 22050,
                                                                                                  1024, 16, 2)
    assert chords.features[0].shape == (16, 65)
    np.testing.assert_allclose(chords.times[1], np.arange(41) * 1024 / 22050)


def test_chord_frames_label_each_frame_with_the_chord_at_its_centre(chords):
    """1.0 s falls between frames 21 (0.975 s) and 22 (1.022 s); 2.0 s between 43 and 44; 2.5 s
    between 53 and 54. C:maj is class 1, A:min class 22, C:dim is outside majmin (-100), N is 0."""
    from mirbook.vocab import CHORD_LABELS

    assert CHORD_LABELS[1] == "C:maj" and CHORD_LABELS[22] == "A:min"
    expected = [1] * 22 + [22] * 22 + [-100] * 10 + [0] * 11
    assert chords.labels[0].tolist() == expected
    assert chords.labels[0].dtype == torch.int64
    item = chords.song(0)
    assert isinstance(item, SongItem) and item.targets.tolist() == expected
    assert item.song.chords[1] == ["C:maj", "A:min", "C:dim", "N"] and item.song.track_id == "test-0"
    # items: chroma of C major (C E G), of A minor (A C E), zeros for the ignored chord and for N
    c_major = [1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0]
    a_minor = [1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0]
    for frame, chroma, label in ((0, c_major, 1), (21, c_major, 1), (22, a_minor, 22), (53, [0] * 12, -100),
                                 (54, [0] * 12, 0), (64, [0] * 12, 0), (65, c_major, 1)):
        _, got_chroma, got_label = chords[frame]
        assert got_chroma.tolist() == chroma and int(got_label) == label, frame


def test_chord_frames_repeat_the_edge_frames_around_a_song(chords):
    """context=5: the first frame's window is [f0, f0, f0, f1, f2], the last [f62, f63, f64, f64, f64]."""
    f = chords.song(0).features
    assert _distinct_columns(f)
    assert torch.equal(chords[0][0], f[:, [0, 0, 0, 1, 2]])
    assert torch.equal(chords[64][0], f[:, [62, 63, 64, 64, 64]])
    assert torch.equal(chords[30][0], f[:, 28:33])
    g = chords.song(1).features
    assert torch.equal(chords[65][0], g[:, [0, 0, 0, 1, 2]])
    assert torch.equal(chords[105][0], g[:, [38, 39, 40, 40, 40]])


def test_chord_frames_of_context_one_are_single_frames(mel):
    data = ChordFrames("test", frontend=mel, source=_Handmade([_chord_spec(9)]), n_songs=None, context=1,
                       cache_dir=False, progress=False)
    assert len(data) == 9
    for i in range(9):
        assert torch.equal(data[i][0], data.features[0][:, i: i + 1])


@pytest.mark.parametrize("context", [0, -3, 2, 4, 3.0, True, "3", None])
def test_chord_frames_refuse_a_context_that_is_not_a_positive_odd_int(mel, context):
    with pytest.raises(ValueError, match="context must be a positive odd number of frames"):
        ChordFrames("test", frontend=mel, source=_Handmade([_chord_spec(9)]), n_songs=None, context=context,
                    cache_dir=False, progress=False)


def test_chord_frames_need_chord_annotations(mel):
    with pytest.raises(ValueError, match="track 'test-1' has no chord annotation"):
        ChordFrames("test", frontend=mel, source=_Handmade([_chord_spec(9), {"frames": 9}]), n_songs=None,
                    context=3, cache_dir=False, progress=False)


# -- VoiceExcerpts -------------------------------------------------------------------------

def _starts(data):
    """The (song, first frame) of each item, found by matching its features to the song's."""
    found = []
    for x, voicing in (data[k] for k in range(len(data))):
        for j in range(data.n_songs):
            f = data.song(j).features
            hits = [s for s in range(f.shape[1] - x.shape[1] + 1) if torch.equal(f[:, s: s + x.shape[1]], x)]
            if hits:
                assert len(hits) == 1
                assert torch.equal(voicing, data.labels[j][hits[0]: hits[0] + x.shape[1]])
                found.append((j, hits[0]))
                break
        else:
            raise AssertionError("an item matches no window of any song")
    return found


def test_excerpts_start_every_hop_and_the_last_ends_on_the_last_frame(mel):
    """excerpt_frames=10, excerpt_hop=7. Last start m - 10: 31 (41 frames) is added after 28;
    28 (38 frames) is already a multiple of 7; 29 (39 frames) comes after 28; 34 (44 frames) after
    28 (35 is past it); a song of exactly 10 frames has one excerpt."""
    specs = [_voice_spec(m) for m in (41, 38, 39, 44, 10)]
    data = VoiceExcerpts("test", frontend=mel, source=_Handmade(specs), n_songs=None, excerpt_frames=10,
                         excerpt_hop=7, cache_dir=False, progress=False)
    assert all(_distinct_columns(f) for f in data.features)
    expected = ([(0, s) for s in (0, 7, 14, 21, 28, 31)] + [(1, s) for s in (0, 7, 14, 21, 28)]
                + [(2, s) for s in (0, 7, 14, 21, 28, 29)] + [(3, s) for s in (0, 7, 14, 21, 28, 34)] + [(4, 0)])
    assert len(data) == len(expected) == 24
    assert _starts(data) == expected
    x, voicing = data[0]
    assert x.shape == (16, 10) and voicing.shape == (10,) and voicing.dtype == torch.float32


def test_the_default_excerpt_hop_is_half_an_excerpt(mel):
    """excerpt_frames=10 (41 frames): hop 5, starts 0, 5, ..., 30 and then 31. excerpt_frames=2 and 1
    (5 frames): hop 1 (2 // 2, and at least 1), every frame starts an excerpt."""
    data = VoiceExcerpts("test", frontend=mel, source=_Handmade([_voice_spec(41)]), n_songs=None,
                         excerpt_frames=10, cache_dir=False, progress=False)
    assert data.excerpt_hop == 5
    assert _starts(data) == [(0, s) for s in (0, 5, 10, 15, 20, 25, 30, 31)]
    for excerpt_frames, starts in ((2, [0, 1, 2, 3]), (1, [0, 1, 2, 3, 4])):
        data = VoiceExcerpts("test", frontend=mel, source=_Handmade([_voice_spec(5)]), n_songs=None,
                             excerpt_frames=excerpt_frames, cache_dir=False, progress=False)
        assert data.excerpt_hop == 1
        assert _starts(data) == [(0, s) for s in starts]


def test_voicing_labels_are_the_voiced_frame_centres_not_the_lead(mel):
    """Voice over [0.5, 1.0) and [1.5, 1.6) s: frame centres 11..21 (0.511..0.975 s) and 33..34
    (1.532, 1.579 s). The non-vocal lead over [0, 1.9) s (a hard negative) labels nothing."""
    spec = {"frames": 41, "voicing": np.array([[0.5, 1.0], [1.5, 1.6]]), "lead": np.array([[0.0, 1.9]])}
    data = VoiceExcerpts("test", frontend=mel, source=_Handmade([spec]), n_songs=None, excerpt_frames=20,
                         excerpt_hop=20, cache_dir=False, progress=False)
    expected = np.zeros(41, dtype=np.float32)
    expected[11:22] = 1.0
    expected[33:35] = 1.0
    item = data.song(0)
    assert item.targets.dtype == torch.float32 and item.targets.tolist() == expected.tolist()
    assert item.song.lead.tolist() == [[0.0, 1.9]]
    # excerpts start at 0, 20 and 21 (the last ends on frame 40)
    assert len(data) == 3
    assert data[1][1].tolist() == expected[20:40].tolist() and data[2][1].tolist() == expected[21:41].tolist()


def test_an_excerpt_as_long_as_the_song_fits_one_frame_more_does_not(mel):
    data = VoiceExcerpts("test", frontend=mel, source=_Handmade([_voice_spec(12)]), n_songs=None,
                         excerpt_frames=12, cache_dir=False, progress=False)
    assert len(data) == 1 and torch.equal(data[0][0], data.features[0])
    with pytest.raises(ValueError, match=r"excerpt_frames=13 is longer than song 1 \(12 frames\)"):
        VoiceExcerpts("test", frontend=mel, source=_Handmade([_voice_spec(20), _voice_spec(12)]), n_songs=None,
                      excerpt_frames=13, cache_dir=False, progress=False)


@pytest.mark.parametrize("name, value", [("excerpt_frames", 0), ("excerpt_frames", True), ("excerpt_frames", 2.0),
                                         ("excerpt_hop", 0), ("excerpt_hop", -2), ("excerpt_hop", 1.5)])
def test_excerpt_sizes_must_be_positive_ints(mel, name, value):
    with pytest.raises(ValueError, match=f"^{name} must be a positive int"):
        VoiceExcerpts("test", frontend=mel, source=_Handmade([_voice_spec(20)]), n_songs=None, cache_dir=False,
                      progress=False, **{"excerpt_frames": 4, name: value})


def test_voice_excerpts_need_voicing_annotations(mel):
    with pytest.raises(ValueError, match="track 'test-0' has no voicing annotation"):
        VoiceExcerpts("test", frontend=mel, source=_Handmade([{"frames": 20}]), n_songs=None, excerpt_frames=4,
                      cache_dir=False, progress=False)


# -- TaggedClips and KeyOnlyClips ----------------------------------------------------------

@pytest.fixture(scope="module")
def tagged(mel):
    """Six songs for 1-second clips (round(22050 / 1024) = 22 frames), four clips each."""
    specs = [{"frames": 41, "tags": ["high", "low"], "key": "A minor"},                   # no beats
             {"frames": 41, "tags": [], "beats": np.array([0.5])},                        # one beat
             {"frames": 65, "tags": ["bright"], "key": "C# major", "beats": np.array([0.5, 0.8, 1.1, 1.5])},
             {"frames": 65, "tags": ["low"], "beats": np.array([0.5, 0.8, 1.0])},         # too short
             {"frames": 65, "tags": ["low"], "key": "C# major", "beats": np.array([0.5, 1.0, 1.25])},
             {"frames": 65, "tags": ["high"], "beats": np.array([0.6, 1.3])}]
    return TaggedClips("test", frontend=mel, source=_Handmade(specs), n_songs=None, clip_seconds=1.0,
                       clips_per_song=4, cache_dir=False, progress=False)


def test_tagged_clips_multi_hot_tags_in_vocabulary_order_and_keys(tagged):
    """Tags ["high", "low"] over the vocabulary ["low", "high", "bright"] are [1, 1, 0]; A minor is
    key 21 (the minor keys follow the twelve major ones), C# major key 1, no key -100."""
    from mirbook.vocab import KEY_LABELS

    assert KEY_LABELS[21] == "A minor" and KEY_LABELS[1] == "C# major"
    assert tagged.tag_names == ["low", "high", "bright"] and tagged.n_tags == 3
    assert [t.tolist() for t in tagged.tags] == [[1, 1, 0], [0, 0, 0], [0, 0, 1], [1, 0, 0], [1, 0, 0], [0, 1, 0]]
    assert [int(k) for k in tagged.keys] == [21, -100, 1, -100, 1, -100]
    assert all(k.dtype == torch.int64 for k in tagged.keys)
    x, tags, key = tagged[9]  # song 2's second clip
    assert x.shape == (16, 22) and tags.tolist() == [0, 0, 1] and int(key) == 1


def test_clips_spread_evenly_over_the_beats_or_else_the_song(tagged):
    """Without beats (or with one) over 41 frames: linspace(0, 19, 4) rounded, [0, 6, 13, 19].
    Beats 0.5, 0.8, 1.1, 1.5 s: the music runs from frame 11 (the first centre at or after 0.5 s)
    to frame 41 (the first at or after 1.5 + 0.4 s, a beat past the last), so the clips start at
    linspace(11, 19, 4) = [11, 14, 16, 19]. Beats 0.5, 0.8, 1.0 s give 11..26, shorter than a
    clip: the whole song, linspace(0, 43, 4) = [0, 14, 29, 43]. Beats 0.5, 1.0, 1.25 s give 11..33,
    exactly one clip: four clips at 11. Two beats 0.6, 1.3 s give 13..44: [13, 16, 19, 22]."""
    assert tagged.clip_frames == 22 and len(tagged) == 24
    expected = [[0, 6, 13, 19], [0, 6, 13, 19], [11, 14, 16, 19], [0, 14, 29, 43], [11, 11, 11, 11],
                [13, 16, 19, 22]]
    for j, starts in enumerate(expected):
        f = tagged.song(j).features
        assert _distinct_columns(f)
        for c, s in enumerate(starts):
            assert torch.equal(tagged[4 * j + c][0], f[:, s: s + 22]), (j, c)


def test_tagged_clips_song_gives_the_whole_song_and_its_tags(tagged):
    item = tagged.song(2)
    assert isinstance(item, SongItem)
    assert item.features.shape == (16, 65)
    np.testing.assert_allclose(item.times, np.arange(65) * 1024 / 22050)
    assert item.targets.tolist() == [0, 0, 1]
    assert item.song.track_id == "test-2" and item.song.key == "C# major"
    assert [it.targets.tolist() for it in tagged.song_items()] == [t.tolist() for t in tagged.tags]


def test_key_only_clips_keep_the_clips_with_a_key(tagged):
    """Songs 0, 2 and 4 have keys: their 12 clips, in order, with tags unknown (NaN)."""
    keyed = KeyOnlyClips(tagged, ["a", "b"])
    assert keyed.tag_names == ["a", "b"] and len(keyed) == 12
    x, tags, key = keyed[4]  # the first clip of song 2 (item 8)
    assert torch.equal(x, tagged[8][0]) and int(key) == 1
    assert tags.shape == (2,) and bool(torch.isnan(tags).all())
    assert [int(keyed[k][2]) for k in range(12)] == [21] * 4 + [1] * 8
    # each item's unknown tags are its own: changing one leaves the next NaN
    keyed[0][1].zero_()
    assert bool(torch.isnan(keyed[0][1]).all())
    with pytest.raises(ValueError, match="^tag_names must be a sequence of tag names"):
        KeyOnlyClips(tagged, "ab")


@pytest.mark.parametrize("clip_seconds", [0, -1.0, True, "1", None])
def test_clip_seconds_must_be_a_positive_number(mel, clip_seconds):
    with pytest.raises(ValueError, match="clip_seconds must be a positive number"):
        TaggedClips("test", frontend=mel, source=_Handmade([_tag_spec(41)]), n_songs=None, clip_seconds=clip_seconds,
                    cache_dir=False, progress=False)


def test_tagged_clips_argument_and_song_errors(mel):
    kw = dict(frontend=mel, n_songs=None, cache_dir=False, progress=False)
    # 0.02 s is 0.43 of a frame: no clip
    with pytest.raises(ValueError, match=r"clip_seconds=0.02 is less than one frame of the frontend "
                                         r"\(hop_length / sample_rate = 0.04644 s\); clips need at least "
                                         r"clip_seconds=0.04644"):
        TaggedClips("test", source=_Handmade([_tag_spec(41)]), clip_seconds=0.02, **kw)
    with pytest.raises(ValueError, match=r"^source 'handmade''s tag_names\(\) must be distinct; \['low'\]"):
        TaggedClips("test", source=_Handmade([_tag_spec(41)], tag_names=("low", "low")), clip_seconds=1.0, **kw)
    with pytest.raises(ValueError, match="clips_per_song must be a positive int"):
        TaggedClips("test", source=_Handmade([_tag_spec(41)]), clip_seconds=1.0, clips_per_song=0, **kw)
    # 2 s is round(43.07) = 43 frames
    with pytest.raises(ValueError, match=r"clip_seconds=2.0 \(43 frames\) is longer than song 1 \(41 frames\)"):
        TaggedClips("test", source=_Handmade([_tag_spec(50), _tag_spec(41)]), clip_seconds=2.0, **kw)
    with pytest.raises(ValueError, match=r"track 'test-0' has tags \['jazz'\] outside the vocabulary"):
        TaggedClips("test", source=_Handmade([{"frames": 41, "tags": ["low", "jazz"]}]), clip_seconds=1.0, **kw)
    # 1.05 s is round(22.6) = 23 frames; a song of exactly 23 frames has every clip at frame 0
    data = TaggedClips("test", source=_Handmade([_tag_spec(23)]), clip_seconds=1.05, clips_per_song=3, **kw)
    assert data.clip_frames == 23 and len(data) == 3 and all(torch.equal(data[k][0], data.features[0])
                                                             for k in range(3))


# -- defaults --------------------------------------------------------------------------------

TASK = {ChordFrames: "chords", VoiceExcerpts: "voice", TaggedClips: "tags"}


def _synthetic_stand_in(monkeypatch, specs):
    """Replace the synthetic world by hand-made songs, recording the seed, duration and root asked for."""
    asked = []

    class StandIn(_Handmade):
        @classmethod
        def for_dataset(cls, *, seed, duration, root):
            asked.append((seed, duration, root))
            return _Handmade(specs)

    monkeypatch.setitem(datasets_module.SOURCES, "synthetic", StandIn)
    return asked


@pytest.mark.parametrize("cls, spec, shape, n_songs, per_song", [
    (ChordFrames, _chord_spec(40), (16, 15), 32, 40),      # context 15, an item per frame
    (VoiceExcerpts, _voice_spec(130), (16, 115), 32, 2),   # 115 frames, hop 57: starts 0 and 15
    (TaggedClips, _tag_spec(230), (16, 215), 48, 2),       # 10 s = round(215.3) frames, 2 clips
])
def test_defaults_read_the_synthetic_world_in_batches_of_eight_with_a_progress_bar(
        cls, spec, shape, n_songs, per_song, mel, monkeypatch, capsys, tmp_path):
    """With only a split and a frontend: the synthetic world of seed 0 and 30-second songs, the
    documented number of songs, the default item size, songs through the frontend eight at a time
    (nine songs of equal length: a batch of 8, then 1), a progress bar, the default cache folder."""
    asked = _synthetic_stand_in(monkeypatch, [spec] * 9)
    monkeypatch.setenv("MIRBOOK_CACHE_DIR", str(tmp_path))
    frontend = _Counting(mel)
    data = cls("train", frontend=frontend)
    assert asked == [(0, 30.0, None)]
    assert data.source.asked == [("train", TASK[cls], n_songs)]
    assert frontend.batches == [8, 1]
    assert f"{cls.__name__} train: features" in capsys.readouterr().err
    assert len(data) == 9 * per_song and data[0][0].shape == shape
    assert len(list(tmp_path.glob("*.npz"))) == 9  # each song's features, in the default cache folder


@pytest.mark.parametrize("cls, spec, kw", [(ChordFrames, _chord_spec(30), {"context": 3}),
                                           (VoiceExcerpts, _voice_spec(30), {"excerpt_frames": 4}),
                                           (TaggedClips, _tag_spec(30), {"clip_seconds": 0.5})])
def test_named_options_reach_the_source_loader_and_cache(cls, spec, kw, mel, monkeypatch, capsys, tmp_path):
    """seed, duration and root build the named source; batch_size sets the frontend's batches;
    progress=False keeps quiet; cache_dir is where the features go (False: nowhere)."""
    asked = _synthetic_stand_in(monkeypatch, [spec] * 5)
    monkeypatch.setenv("MIRBOOK_CACHE_DIR", str(tmp_path / "default"))
    frontend = _Counting(mel)
    data = cls("valid", frontend=frontend, seed=3, duration=5.0, root="somewhere", n_songs=4, batch_size=3,
               progress=False, cache_dir=tmp_path / "mine", **kw)
    assert asked == [(3, 5.0, "somewhere")] and data.source.asked == [("valid", TASK[cls], 4)] and data.n_songs == 4
    assert frontend.batches == [3, 1]
    assert "features" not in capsys.readouterr().err
    assert len(list((tmp_path / "mine").glob("*.npz"))) == 4 and not (tmp_path / "default").exists()
    cls("valid", frontend=mel, n_songs=2, cache_dir=False, progress=True, **kw)
    assert f"{cls.__name__} valid: features" in capsys.readouterr().err
    assert not (tmp_path / "default").exists()


# -- shared checks and per-song access -------------------------------------------------------

def test_sources_splits_and_batch_sizes_are_checked(mel):
    kw = dict(frontend=mel, n_songs=None, cache_dir=False, progress=False)
    with pytest.raises(ValueError, match="split must be one of"):
        ChordFrames("training", source=_Handmade([_chord_spec(9)]), **kw)
    with pytest.raises(ValueError, match=r"ChordFrames needs a source that serves 'chords': one of "
                                         r"\('synthetic', 'out_of_world', 'guitarset'\) or a Source object; "
                                         r"got source 'handmade'"):
        ChordFrames("test", source=_Handmade([_chord_spec(9)], tasks=("voice", "tags")), **kw)
    with pytest.raises(ValueError, match=r"VoiceExcerpts needs a source that serves 'voice': one of "
                                         r"\('synthetic', 'out_of_world', 'jamendo'\)"):
        VoiceExcerpts("test", source=_Handmade([_voice_spec(9)], tasks=("chords",)), **kw)
    with pytest.raises(ValueError, match=r"the 'valid' split of source 'handmade' is empty: no songs to load"):
        VoiceExcerpts("valid", source=_Handmade([]), **kw)
    with pytest.raises(ValueError, match="^batch_size must be a positive int"):
        TaggedClips("test", source=_Handmade([_tag_spec(30)]), batch_size=0, clip_seconds=0.5, **kw)
    with pytest.raises(ValueError, match=r"source must be a Source or one of \('synthetic', 'out_of_world', "
                                         r"'guitarset', 'jamendo', 'magnatagatune', 'gtzan'\); got 'nope'"):
        make_source("nope")
    source = _Handmade([])
    assert make_source(source, seed=5) is source
    # by name: the synthetic world of seed 0 and 30-second songs unless told otherwise (nothing rendered yet)
    world = make_source("synthetic")
    assert type(world).__name__ == "SyntheticWorld" and (world.seed, world.duration) == (0, 30.0)
    world = make_source("synthetic", seed=2, duration=4.0)
    assert (world.seed, world.duration) == (2, 4.0)


def test_song_indices_are_checked_and_examples_carry_audio(mel, tmp_path):
    """Indices are ints in [0, n_songs); example() loads the song with its audio, or with
    stems=False reads a source's cached song without loading it again."""
    source = _Handmade([_chord_spec(9), {**_chord_spec(12), "stems": {"tone": np.zeros(11 * HOP, np.float32)}}],
                       cache_songs=True)
    data = ChordFrames("test", frontend=mel, source=source, n_songs=None, context=3, cache_dir=tmp_path,
                       progress=False)
    for bad in (2, -1, True, 1.0, "0", None):
        with pytest.raises(ValueError, match=r"song index must be an int in \[0, 2\)"):
            data.song(bad)
        with pytest.raises(ValueError, match=r"song index must be an int in \[0, 2\)"):
            data.example(bad)
    assert data.song(np.int64(1)).features.shape == (16, 12)
    assert [item.song.track_id for item in data.song_items()] == ["test-0", "test-1"]
    loads = len(source.loads)
    song = data.example(1)
    assert len(source.loads) == loads + 1 and "tone" in song.stems
    np.testing.assert_array_equal(song.audio, _audio(11 * HOP, SR, 440.0))
    quiet = data.example(1, stems=False)
    assert len(source.loads) == loads + 1 and quiet.stems == {}
    np.testing.assert_array_equal(quiet.audio, _audio(11 * HOP, SR, 440.0))
    assert data.example().track_id == "test-0"
    # with no cache to read, stems=False loads the song and still leaves its stems out
    uncached = ChordFrames("test", frontend=mel, source=source, n_songs=None, context=3, cache_dir=False,
                           progress=False)
    loads = len(source.loads)
    song = uncached.example(1, stems=False)
    assert len(source.loads) == loads + 1 and song.stems == {}
    np.testing.assert_array_equal(song.audio, _audio(11 * HOP, SR, 440.0))
    # a source that caches no songs loads the track again
    plain = _Handmade([_chord_spec(9)])
    data = ChordFrames("test", frontend=mel, source=plain, n_songs=None, context=3, cache_dir=False, progress=False)
    assert data.example(0, stems=False).track_id == "test-0" and plain.loads == ["test-0", "test-0"]
