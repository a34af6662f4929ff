"""A dataset's songs for audio baselines: the same mix and annotations, read from the song cache of a
rendered source instead of rendering again (mirbook.data.datasets; chord and voice chapters)."""

import dataclasses

import numpy as np
import pytest

from mirbook.data.datasets import ChordFrames
from mirbook.models import MODELS


def _refuse(sample_rate):
    raise AssertionError("rendered again")


@pytest.mark.parametrize("source", ["synthetic", "out_of_world"])
def test_a_song_without_stems_is_the_same_mix_read_from_the_song_cache(tmp_path, source):
    frontend = MODELS["deep_chroma"].from_preset("cpu").frontend()
    data = ChordFrames("valid", n_songs=1, frontend=frontend, source=source, duration=6.0, cache_dir=tmp_path,
                       progress=False)
    song = data.example(0)
    assert song.sample_rate == data.sample_rate and song.stems
    data.tracks[0] = dataclasses.replace(data.tracks[0], load=_refuse)
    mix = data.example(0, stems=False)  # read back, not rendered
    np.testing.assert_array_equal(mix.audio, song.audio)
    assert mix.sample_rate == song.sample_rate and mix.stems == {} and mix.track_id == song.track_id
    np.testing.assert_array_equal(mix.chords[0], song.chords[0])
    assert list(mix.chords[1]) == list(song.chords[1])
    with pytest.raises(AssertionError, match="rendered again"):
        data.example(0)  # with stems: rendered
    with pytest.raises(ValueError, match="song index"):
        data.example(1, stems=False)
