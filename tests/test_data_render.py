"""render_song: determinism, exact and valid annotations, bad parameters (mirbook.data)."""

import mir_eval
import numpy as np
import pytest

from mirbook.data import STYLE_NAMES, TAG_NAMES, render_song
from mirbook.data.score import compose_score
from mirbook.data.styles import BASSES, COMPING, FAVOURED, STYLES
from mirbook.vocab import KEY_LABELS, chord_index

DURATION = 8.0


@pytest.fixture(scope="module")
def songs():
    return [render_song(seed, duration=DURATION) for seed in range(10)] + [
        render_song(100 + i, style=style, duration=DURATION, vocals=True, lead=True)
        for i, style in enumerate(STYLE_NAMES)
    ]


def test_same_seed_gives_identical_audio_and_annotations():
    a, b = render_song(7, duration=DURATION), render_song(7, duration=DURATION)
    assert np.array_equal(a.audio, b.audio)
    assert a.stems.keys() == b.stems.keys() and all(np.array_equal(a.stems[k], b.stems[k]) for k in a.stems)
    assert np.array_equal(a.chords[0], b.chords[0]) and a.chords[1] == b.chords[1]
    assert np.array_equal(a.voicing, b.voicing) and np.array_equal(a.f0[1], b.f0[1])
    assert (a.key, a.tempo, a.tags, a.style) == (b.key, b.tempo, b.tags, b.style)
    c = render_song(8, duration=DURATION)
    assert not np.array_equal(a.audio, c.audio)


def test_audio_format(songs):
    for song in songs:
        assert song.audio.dtype == np.float32 and song.audio.ndim == 1
        assert song.audio.size == int(round(DURATION * song.sample_rate))
        assert np.isfinite(song.audio).all() and np.abs(song.audio).max() < 1.0
        for stem in song.stems.values():
            assert stem.dtype == np.float32 and stem.shape == song.audio.shape


def test_chord_labels_parse_and_cover_the_song(songs):
    for song in songs:
        intervals, labels = song.chords
        assert len(intervals) == len(labels) > 0
        for label in labels:
            mir_eval.chord.validate_chord_label(label)
            chord_index(label)
        assert intervals[0, 0] == 0.0 and intervals[-1, 1] == pytest.approx(song.duration)
        assert np.all(intervals[:, 1] > intervals[:, 0])
        assert np.array_equal(intervals[1:, 0], intervals[:-1, 1])  # sorted, contiguous, no overlap
        assert labels[0] == "N" and labels[-1] == "N"  # lead-in and tail are silent
        assert any(label != "N" for label in labels)


def test_no_chord_where_nothing_sounds(songs):
    for song in songs:
        intervals, labels = song.chords
        sr = song.sample_rate
        end = int(round(intervals[-1, 0] * sr)) + int(0.06 * sr)  # after the 50 ms closing fade
        assert all(np.abs(stem[end:]).max(initial=0) == 0 for stem in song.stems.values())
        start = int(round(intervals[0, 1] * sr))
        for name, stem in song.stems.items():
            # drums may play an intro bar; a sung consonant may come just before the first chord
            lead_in = {"drums": start, "vocals": int(0.1 * sr)}.get(name, 0)
            assert np.abs(stem[: start - lead_in]).max(initial=0) == 0, name


def test_voicing_intervals_match_the_vocal_stem(songs):
    sung = [s for s in songs if "vocals" in s.stems]
    assert len(sung) >= 5
    for song in sung:
        sr, stem = song.sample_rate, song.stems["vocals"]
        inside = np.zeros(stem.size, dtype=bool)
        for a, b in song.voicing:
            inside[int(round(a * sr)): int(round(b * sr))] = True
        assert not np.any(stem[~inside]), "the voice sounds outside its voicing intervals"
        frames = stem[inside][: (inside.sum() // 256) * 256].reshape(-1, 256)
        assert np.sqrt((frames**2).mean(axis=1)).min() > 1e-5, "a silent frame inside a voicing interval"
        times, f0 = song.f0
        ref = mir_eval.melody.freq_to_voicing(f0)[1]
        in_interval = ((times[:, None] >= song.voicing[:, 0]) & (times[:, None] < song.voicing[:, 1])).any(axis=1)
        assert not np.any(ref[~in_interval]), "f0 is voiced outside the vocal activity"
        assert ref[in_interval].mean() > 0.7  # consonants are unvoiced, the rest is voiced


def test_other_annotations(songs):
    for song in songs:
        assert song.key in KEY_LABELS
        mir_eval.key.validate_key(song.key)
        assert 55 <= song.tempo <= 175
        mir_eval.beat.validate(song.beats, song.beats)
        assert np.allclose(np.diff(song.beats), 60 / song.tempo)
        assert set(song.downbeats) <= set(song.beats)
        mir_eval.onset.validate(song.onsets, song.onsets)
        assert song.onsets.min() >= 0 and song.onsets.max() < song.duration
        assert set(song.tags) <= set(TAG_NAMES) and song.style in song.tags
        assert ("vocal" in song.tags) == ("vocals" in song.stems)
        assert ("major" in song.tags) == (song.key.split()[1] == "major")
        mir_eval.util.validate_intervals(song.voicing) if len(song.voicing) else None


def test_forced_voice_and_lead():
    song = render_song(3, style="chamber", duration=12.0, vocals=False, lead="flute")
    assert "vocals" not in song.stems and "flute" in song.stems and len(song.voicing) == 0
    assert len(song.lead) > 0 and "flute" in song.tags and "vocal" not in song.tags


def test_seventh_chords_follow_triads():
    # seed 0's ballad voices a seventh chord right after a triad: 'F:maj/5', 'C:7', 'F:maj'
    song = render_song(0, style="ballad", duration=9.0, sevenths=True)
    labels = song.chords[1]
    assert any(":7" in b and a != "N" and ":7" not in a for a, b in zip(labels, labels[1:]))
    mir_eval.chord.encode_many(song.chords[1])  # every label parses


@pytest.mark.parametrize("kwargs, match", [
    ({"seed": -1}, "seed"),
    ({"seed": 1.5}, "seed"),
    ({"seed": 0, "style": "jazz"}, "style"),
    ({"seed": 0, "duration": 1.0}, "duration"),
    ({"seed": 0, "duration": float("nan")}, "duration"),
    ({"seed": 0, "sample_rate": 8000}, "sample_rate"),
    ({"seed": 0, "sample_rate": 22050.0}, "sample_rate"),
    ({"seed": 0, "vocals": "yes"}, "vocals"),
    ({"seed": 0, "lead": "tuba"}, "lead"),
])
def test_bad_parameters(kwargs, match):
    seed = kwargs.pop("seed")
    with pytest.raises(ValueError, match=match):
        render_song(seed, **kwargs)


def test_a_style_favours_its_instruments_without_fixing_them():
    style = STYLES["electronic"]
    scores = [compose_score(np.random.default_rng(i), style, 8.0, vocals=False, lead=None) for i in range(600)]
    basses = [next(p.instrument for p in s.parts if p.role == "bass") for s in scores]
    comps = [[p.instrument for p in s.parts if p.role == "comp"] for s in scores]
    assert set(basses) == set(BASSES)  # every bass of the shared pool occurs, not only the style's
    # the style's bass: drawn as favoured (FAVOURED) or from the pool of 3 (one third of the rest)
    expected = FAVOURED + (1 - FAVOURED) / len(BASSES)
    assert abs(basses.count(style.bass) / len(basses) - expected) < 0.06
    own = {instrument for instrument, _ in style.comping}
    assert {i for c in comps for i in c} == {instrument for instrument, _ in COMPING}  # the whole pool
    assert any(set(c) - own for c in comps) and any(set(c) <= own for c in comps)
    for c in comps:  # n_comping distinct instruments
        assert style.n_comping[0] <= len(c) <= style.n_comping[1] and len(set(c)) == len(c)
