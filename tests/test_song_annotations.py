"""mirbook.data.song: a song's annotations survive the cache's JSON round trip field by field, in
mir_eval's formats (float intervals of shape (n, 2), float times), and what is absent stays None."""

from __future__ import annotations

import json

import numpy as np

from mirbook.data.song import Song, annotations_from_json, annotations_to_json


def _song() -> Song:
    """Every annotation set, several given as Python ints (as a hand-written annotation may be)."""
    audio = np.linspace(-0.5, 0.5, 2205, dtype=np.float32)
    return Song(audio=audio, sample_rate=22050, stems={"vocals": audio * 0.5, "piano": audio * 0.25},
                chords=(np.array([[0, 1], [1, 2]]), ["C:maj", "N"]), voicing=np.array([[0, 1]]),
                f0=(np.array([0, 1]), np.array([220, 0])), key="Eb major", tempo=96.5,
                beats=np.array([0, 1]), downbeats=np.array([0]), onsets=np.array([0.25, 1]),
                tags=["rock", "vocal"], style="rock", lead=np.zeros((0, 2), dtype=int), track_id="rock-0001")


def test_every_annotation_comes_back_as_it_was_written_in_mir_eval_s_formats():
    song = _song()
    stems = dict(song.stems)
    back = annotations_from_json(annotations_to_json(song), song.audio, stems)
    assert back.audio is song.audio and back.stems is stems  # the cache stores these separately
    assert back.sample_rate == 22050 and back.n_samples == 2205 and back.duration == 0.1
    assert (back.key, back.tempo, back.tags, back.style, back.track_id) == ("Eb major", 96.5, ["rock", "vocal"],
                                                                          "rock", "rock-0001")
    intervals, labels = back.chords
    assert labels == ["C:maj", "N"] and intervals.dtype == np.float64 and intervals.tolist() == [[0.0, 1.0], [1.0, 2.0]]
    times, hz = back.f0
    assert times.dtype == hz.dtype == np.float64 and times.tolist() == [0.0, 1.0] and hz.tolist() == [220.0, 0.0]
    assert back.voicing.dtype == np.float64 and back.voicing.tolist() == [[0.0, 1.0]] and back.has_vocals
    assert back.lead.shape == (0, 2) and back.lead.dtype == np.float64  # no lead: still (n, 2) intervals
    for name, expected in (("beats", [0.0, 1.0]), ("downbeats", [0.0]), ("onsets", [0.25, 1.0])):
        array = getattr(back, name)
        assert array.dtype == np.float64 and array.shape == (len(expected),) and array.tolist() == expected


def test_no_voice_is_kept_as_an_empty_interval_list_and_absent_annotations_stay_none():
    audio = np.zeros(100, dtype=np.float32)
    song = Song(audio=audio, sample_rate=1000, voicing=np.zeros((0, 2)))
    meta = json.loads(annotations_to_json(song))
    assert meta["stems"] == [] and meta["chords"] is None and meta["f0"] is None and meta["voicing"] == []
    back = annotations_from_json(annotations_to_json(song), audio, {})
    assert back.voicing.shape == (0, 2) and not back.has_vocals
    assert back.chords is None and back.f0 is None and back.lead is None and back.beats is None
    assert back.key is None and back.tempo is None and back.style is None and back.tags == []


def test_the_json_names_the_stems_in_order_but_holds_no_audio():
    meta = json.loads(annotations_to_json(_song()))
    assert meta["stems"] == ["piano", "vocals"]
    assert "audio" not in meta and all(not isinstance(v, dict) for v in meta.values())
