"""The out-of-world source: corpus labels against music21's own analysis, SoundFont rendering, splits."""

import mir_eval
import numpy as np
import pytest
import tinysoundfont
from music21 import corpus as m21corpus

from mirbook.data.corpus import corpus_pieces, read_score, sonority_label
from mirbook.data.datasets import ChordFrames, make_source
from mirbook.data.out_of_world import COLLECTIONS, KINDS, SUNG, OutOfWorld, arrangement, render_piece
from mirbook.data.soundfont import GM_PROGRAMS, SoundFont, general_midi, render_notes, soundfont_path
from mirbook.representations import CQT, Frontend

SR = 16000


@pytest.mark.parametrize("pcs, label", [
    ({0, 4, 7}, "C:maj"), ({9, 0, 4}, "A:min"), ({2, 6, 9, 14, 18}, "D:maj"),  # doublings
    ({7, 11, 2, 5}, "X"), ({0, 7}, "X"), ({0, 3, 6}, "X"), ({0, 5, 7}, "X"), (set(), "N"),
])
def test_sonority_label_by_hand(pcs, label):
    assert sonority_label(pcs) == label


@pytest.fixture(scope="module")
def chorale():
    return read_score("bach/bwv104.6.mxl")


def test_chord_labels_agree_with_music21s_own_triad_analysis(chorale):
    """Every chordified sonority: a major/minor triad by music21's analysis gets its root and quality."""
    reference = m21corpus.parse("bach/bwv104.6.mxl").stripTies().chordify().flatten().notesAndRests
    checked = 0
    for element in reference:
        middle = float(element.offset) + float(element.quarterLength) / 2
        ours = next(label for start, end, label in chorale.chords if start <= middle < end)
        if not element.isChord:
            expected = "N"
        elif element.isMajorTriad() or element.isMinorTriad():
            root = element.root().pitchClass
            expected = sonority_label({root, root + (4 if element.isMajorTriad() else 3), root + 7})
        else:
            expected = "X"
        assert ours == expected, (element.offset, [p.nameWithOctave for p in element.pitches], ours)
        checked += 1
    assert checked > 40


def test_chords_cover_the_score_and_keys_come_from_the_score(chorale):
    starts, ends = np.array([c[0] for c in chorale.chords]), np.array([c[1] for c in chorale.chords])
    assert starts[0] == 0 and ends[-1] == chorale.length and np.allclose(starts[1:], ends[:-1])
    # a five-voice madrigal whose chordified stream holds simultaneous elements: still one label at a time
    madrigal = read_score("monteverdi/madrigal.3.1.mxl", max_beats=48.0).chords
    assert all(a[1] == b[0] and a[0] < a[1] for a, b in zip(madrigal, madrigal[1:]))
    assert chorale.key == "A major"  # stated A major, final bass A
    assert chorale.parts == ("Soprano", "Alto", "Tenor", "Bass")
    assert read_score("bach/bwv10.7.mxl").key == "G minor"  # g minor, Picardy G major ending, bass G
    assert read_score("bach/bwv102.7.mxl").key is None  # stated g minor, ends on C: no label


def test_render_notes_plays_the_right_pitch_at_the_right_time():
    y = render_notes([(0, 69, 0.25, 1.0)], sample_rate=SR, duration=1.25, programs={0: GM_PROGRAMS["flute"]})
    assert y.dtype == np.float32 and y.shape == (int(1.25 * SR),)
    assert np.abs(y[: int(0.24 * SR)]).max() == 0.0  # nothing before the onset
    segment = y[int(0.4 * SR): int(0.9 * SR)]
    spectrum = np.abs(np.fft.rfft(segment * np.hanning(segment.size)))
    assert np.fft.rfftfreq(segment.size, 1 / SR)[spectrum.argmax()] == pytest.approx(440.0, abs=4.0)
    with pytest.raises(ValueError, match="programs has only tracks"):
        render_notes([(1, 60, 0.0, 0.5)], sample_rate=SR, duration=1.0, programs={0: 0})


def _tinysoundfont(program: int, pitch: int, held: float, total: float) -> np.ndarray:
    """The same note from tinysoundfont (an independent SoundFont player in C), mono."""
    synth = tinysoundfont.Synth(samplerate=SR)
    synth.program_select(0, synth.sfload(str(soundfont_path())), 0, program)
    synth.noteon(0, pitch, 90)
    on = np.frombuffer(synth.generate(int(held * SR)), dtype=np.float32).reshape(-1, 2)
    synth.noteoff(0, pitch)
    off = np.frombuffer(synth.generate(int(round(total * SR)) - on.shape[0]), dtype=np.float32).reshape(-1, 2)
    return np.concatenate([on, off]).mean(axis=1)


def _envelope(y: np.ndarray, hop: int = 512) -> np.ndarray:
    n = y.size // hop
    return np.sqrt((y[: n * hop].reshape(n, hop) ** 2).mean(axis=1))


def _centroid(y: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    return float((spectrum * np.fft.rfftfreq(y.size, 1 / SR)).sum() / spectrum.sum())


@pytest.mark.parametrize("name", sorted(GM_PROGRAMS))
def test_notes_sound_like_tinysoundfonts(name):
    """Pitch, loudness over time and brightness of a held note agree with an independent player."""
    program, pitch = GM_PROGRAMS[name], 60
    ours = render_notes([(0, pitch, 0.0, 1.0)], sample_rate=SR, duration=1.5, programs={0: program})
    theirs = _tinysoundfont(program, pitch, 1.0, 1.5)
    assert np.corrcoef(_envelope(ours), _envelope(theirs))[0, 1] > 0.95
    middle = slice(int(0.3 * SR), int(0.8 * SR))
    # strings, clarinet and bassoon come out darker (modulators are left out); the rest within 20 %
    low, high = (0.6, 1.4) if name in ("violin", "viola", "cello", "clarinet", "bassoon") else (0.8, 1.2)
    assert low < _centroid(ours[middle]) / _centroid(theirs[middle]) < high
    spectrum = np.abs(np.fft.rfft(ours[middle] * np.hanning(middle.stop - middle.start)))
    freqs = np.fft.rfftfreq(middle.stop - middle.start, 1 / SR)
    harmonics = [spectrum[np.abs(freqs - k * 261.63) < 6].max() for k in (1, 2, 3, 4)]
    between = [spectrum[np.abs(freqs - (k + 0.5) * 261.63) < 6].max() for k in (1, 2, 3)]
    assert max(harmonics) > 10 * max(between)  # energy on C4's harmonics, not between them


def test_the_bank_is_general_midi_and_bad_files_are_refused(tmp_path):
    bank = general_midi()
    assert all((0, program) in bank.presets for program in range(128))
    assert bank.regions(GM_PROGRAMS["flute"], 69, 90)  # some zone plays A4
    (tmp_path / "x.sf2").write_bytes(b"RIFF\0\0\0\0WAVE")
    with pytest.raises(ValueError, match="not a SoundFont 2 file"):
        SoundFont(tmp_path / "x.sf2")


def test_a_piece_renders_with_labels_from_its_score(chorale):
    plan = {"kind": "sung top part", "tempo": 90.0,
            "programs": {0: "choir aahs", 1: "viola", 2: "french horn", 3: "cello"}}
    song = render_piece(chorale, plan, sample_rate=SR, duration=12.0, track_id="t")
    beat = 60.0 / 90.0
    soprano = sorted((n.start * beat, min(n.end * beat, 12.0)) for n in chorale.notes if n.part == 0 and n.start * beat < 12)
    assert song.voicing[0, 0] == pytest.approx(soprano[0][0]) and song.voicing[-1, 1] == pytest.approx(soprano[-1][1])
    assert len(song.lead) == 0 and song.duration == pytest.approx(12.0)
    np.testing.assert_allclose(song.audio, song.stems["vocals"] + song.stems["accompaniment"], atol=1e-6)
    assert np.abs(song.stems["vocals"]).max() > 0 and np.abs(song.audio).max() == pytest.approx(0.5)
    intervals, labels = song.chords
    mir_eval.util.validate_intervals(intervals)
    for label in labels:
        mir_eval.chord.validate_chord_label(label)
    assert intervals[0, 0] == 0 and intervals[-1, 1] == pytest.approx(12.0)
    assert labels[0] == next(label for s, e, label in chorale.chords if s <= 0 < e)
    mir_eval.key.validate_key(song.key)
    instrumental = render_piece(chorale, {**plan, "kind": "instrumental top part",
                                          "programs": {**plan["programs"], 0: "oboe"}},
                                sample_rate=SR, duration=12.0, track_id="t")
    assert len(instrumental.voicing) == 0 and instrumental.lead[0, 0] == pytest.approx(soprano[0][0])
    assert np.abs(instrumental.stems["vocals"]).max() == 0


def test_splits_are_collections_by_different_composers_and_the_test_split_is_bach():
    composers = {split: {c for c, _, _ in collections} for split, collections in COLLECTIONS.items()}
    assert composers["test"] == {"bach"}
    assert not (composers["train"] & composers["valid"]) and not (composers["test"] & (composers["train"] | composers["valid"]))
    source = OutOfWorld()
    for split in COLLECTIONS:
        pieces = source.pieces(split)
        assert len(pieces) == len(set(pieces)) > 10
        assert all(p.split("/")[0] in composers[split] for p in pieces)
    assert set(source.pieces("test")) <= set(corpus_pieces("bach"))
    with pytest.raises(ValueError, match="has 74 pieces"):
        source.tracks("valid", n_songs=75)


def test_arrangements_rotate_and_repeat():
    kinds = [arrangement("bach/bwv104.6.mxl", i, 4, seed=0)["kind"] for i in range(6)]
    assert kinds == list(KINDS) * 2
    assert arrangement("x", 2, 4, seed=0) == arrangement("x", 2, 4, seed=0) != arrangement("x", 2, 4, seed=1)
    choir = arrangement("x", 2, 5, seed=0)
    assert set(choir["programs"].values()) <= set(SUNG) and len(choir["programs"]) == 5


def test_datasets_read_the_source_by_name(tmp_path):
    assert isinstance(make_source("out_of_world", seed=0, duration=8.0, root=None), OutOfWorld)
    frontend = Frontend(CQT(sample_rate=SR, hop_length=1024, n_bins=24, bins_per_octave=12, f_min=65.4))
    data = ChordFrames("test", n_songs=1, source="out_of_world", duration=8.0, frontend=frontend,
                       cache_dir=tmp_path, progress=False)
    song = data.song(0)
    assert song.song.track_id == "out_of_world-bach/bwv1.6.mxl" and len(data) > 0
