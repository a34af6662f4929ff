"""The out-of-world source on a score written by hand: labels in seconds worked out by hand (voicing,
lead, chords cut at the song's length), the arrangement of each kind, the order and identity of its
tracks. The real corpus and the SoundFont's sound are tested in tests/test_out_of_world.py."""

from __future__ import annotations

import numpy as np
import pytest

import mirbook.data.out_of_world as oow
from mirbook.data.corpus import Note, Score
from mirbook.data.out_of_world import (ACCOMPANIMENT, BASS, KINDS, MAX_TEMPO, MELODY, MIN_TEMPO,
                                       OUT_OF_WORLD_VERSION, SUNG, OutOfWorld, arrangement, render_piece)

SR = 8000
# Three parts over four beats: the top part rests on beat 3 (2 to 3), touching notes elsewhere.
SCORE = Score(
    piece="hand/written.mxl", parts=("top", "middle", "bass"),
    notes=(Note(0, 72, 0.0, 1.0), Note(1, 64, 0.0, 2.0), Note(2, 48, 0.0, 4.0), Note(0, 74, 1.0, 2.0),
           Note(1, 65, 2.0, 4.0), Note(0, 76, 3.0, 4.0)),
    chords=((0.0, 2.0, "C:maj"), (2.0, 3.0, "F:maj"), (3.0, 4.0, "X")), key="C major", length=4.0)
PROGRAMS = {0: "choir aahs", 1: "viola", 2: "cello"}


def _render(kind: str, programs: dict, duration: float):
    # 120 quarter notes a minute: a beat is 0.5 s, so the score lasts 2 s and the song 3 s (a 1 s tail)
    return render_piece(SCORE, {"kind": kind, "programs": programs, "tempo": 120.0}, sample_rate=SR,
                        duration=duration, track_id="hand")


def test_a_sung_top_part_is_the_voicing_and_the_chords_end_with_no_chord_over_the_tail():
    song = _render("sung top part", PROGRAMS, duration=10.0)
    assert song.n_samples == 3 * SR and song.sample_rate == SR and song.track_id == "hand"
    assert (song.key, song.tempo, song.style) == ("C major", 120.0, "sung top part")
    assert song.voicing.tolist() == [[0.0, 1.0], [1.5, 2.0]]  # the two touching notes merged, the rest left out
    assert song.lead.shape == (0, 2)
    intervals, labels = song.chords
    assert intervals.tolist() == [[0.0, 1.0], [1.0, 1.5], [1.5, 2.0], [2.0, 3.0]]
    assert labels == ["C:maj", "F:maj", "X", "N"]
    np.testing.assert_allclose(song.audio, song.stems["vocals"] + song.stems["accompaniment"], atol=1e-7)
    assert np.abs(song.audio).max() == pytest.approx(0.5, rel=1e-6)
    assert np.abs(song.stems["vocals"][: int(0.9 * SR)]).max() > 0  # the top part is in the vocal stem


def test_a_song_cut_short_keeps_only_what_starts_before_its_end():
    song = _render("sung top part", PROGRAMS, duration=1.2)
    assert song.n_samples == round(1.2 * SR)
    assert song.voicing.tolist() == [[0.0, 1.0]]
    intervals, labels = song.chords
    assert np.allclose(intervals, [[0.0, 1.0], [1.0, 1.2]]) and labels == ["C:maj", "F:maj"]  # no 'N': no time left
    at_the_end = _render("sung top part", PROGRAMS, duration=1.5)  # the top part's last note starts at 1.5 s
    assert at_the_end.voicing.tolist() == [[0.0, 1.0]]


def test_an_instrumental_top_part_is_the_lead_and_a_choir_sings_every_part():
    instrumental = _render("instrumental top part", {**PROGRAMS, 0: "oboe"}, duration=10.0)
    assert instrumental.voicing.shape == (0, 2) and instrumental.lead.tolist() == [[0.0, 1.0], [1.5, 2.0]]
    assert not instrumental.stems["vocals"].any() and instrumental.stems["accompaniment"].any()
    choir = _render("choir", {0: "choir aahs", 1: "choir aahs", 2: "voice oohs"}, duration=10.0)
    assert choir.voicing.tolist() == [[0.0, 2.0]] and choir.lead.shape == (0, 2)
    for song in (instrumental, choir):  # a silent stem is float32 like the rest: the audio stays float32
        assert song.audio.dtype == np.float32 and {s.dtype for s in song.stems.values()} == {np.dtype(np.float32)}
    assert not choir.stems["accompaniment"].any() and choir.stems["vocals"].any()


def test_each_kind_of_arrangement_gives_each_part_an_instrument_of_its_role():
    for index in range(9):
        plan = arrangement("any/piece.mxl", index, 4, seed=3)
        assert plan["kind"] == KINDS[index % 3] and MIN_TEMPO <= plan["tempo"] <= MAX_TEMPO
        programs = plan["programs"]
        assert sorted(programs) == [0, 1, 2, 3]
        if plan["kind"] == "choir":
            assert len(set(programs.values())) == 1 and programs[0] in SUNG
        else:
            assert programs[0] in (SUNG if plan["kind"] == "sung top part" else MELODY)
            assert programs[1] in ACCOMPANIMENT and programs[2] in ACCOMPANIMENT and programs[3] in BASS
    tempos = {arrangement("any/piece.mxl", i, 4, seed=3)["tempo"] for i in range(9)}
    assert len(tempos) == 9  # each song draws its own tempo
    # deterministic in (piece, index, seed): another piece in the same place is arranged afresh
    assert len({arrangement(f"any/piece{j}.mxl", 1, 4, seed=3)["tempo"] for j in range(5)}) == 5


@pytest.fixture
def small_corpus(monkeypatch):
    """Three valid composers with 2, 1 and 3 pieces, plus files the collections leave out."""
    listing = {"monteverdi": ("monteverdi/a.mxl", "monteverdi/b.mxl", "monteverdi/c.krn"),
               "haydn": ("haydn/h.mxl",),
               "mozart": ("mozart/m1.mxl", "mozart/m2.mxl", "mozart/m3.mxl", "other/z.mxl")}
    monkeypatch.setattr(oow, "corpus_pieces", lambda composer: listing[composer])


def test_a_split_interleaves_its_collections_then_lists_what_is_left(small_corpus):
    assert OutOfWorld.pieces("valid") == ["monteverdi/a.mxl", "haydn/h.mxl", "mozart/m1.mxl",
                                          "monteverdi/b.mxl", "mozart/m2.mxl", "mozart/m3.mxl"]


def test_tracks_are_the_first_pieces_each_named_and_identified_by_what_makes_its_audio(small_corpus):
    tracks = OutOfWorld(seed=5, duration=12.0).tracks("valid", task="voice", n_songs=2)
    assert [t.track_id for t in tracks] == ["out_of_world-monteverdi/a.mxl", "out_of_world-haydn/h.mxl"]
    assert tracks[1].identity == {"source": "out_of_world", "version": OUT_OF_WORLD_VERSION,
                                  "piece": "haydn/h.mxl", "index": 1, "seed": 5, "duration": 12.0}
    assert len(OutOfWorld().tracks("valid")) == len(OutOfWorld().tracks("valid", n_songs=6)) == 6
    with pytest.raises(ValueError, match=r"^the out-of-world valid split has 6 pieces; asked for 7$"):
        OutOfWorld().tracks("valid", n_songs=7)
    with pytest.raises(ValueError, match="n_songs must be a positive int; got 0"):
        OutOfWorld().tracks("valid", n_songs=0)
    with pytest.raises(ValueError, match="serves the tasks"):
        OutOfWorld().tracks("valid", task="beats")


def test_a_track_loads_its_piece_as_arranged_for_its_place_in_the_split(small_corpus, monkeypatch):
    """load() reads the piece up to the beats the song can hold at the fastest tempo, arranges it for
    its index and seed, and renders it at the asked sample rate."""
    read = []
    monkeypatch.setattr(oow, "read_score", lambda piece, max_beats: read.append((piece, max_beats)) or SCORE)
    song = OutOfWorld(seed=5, duration=10.0).tracks("valid", n_songs=3)[2].load(SR)
    assert read == [("mozart/m1.mxl", 10.0 * MAX_TEMPO / 60.0)]
    plan = arrangement("mozart/m1.mxl", 2, 3, seed=5)
    assert song.style == plan["kind"] == "choir" and song.tempo == plan["tempo"] and song.sample_rate == SR
    assert song.track_id == "out_of_world-mozart/m1.mxl"
