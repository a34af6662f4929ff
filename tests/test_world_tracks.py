"""The synthetic world's tracks: seeds, cache identities, render options and argument checks
(mirbook.data.sources; book: "The data in this book")."""

import pytest

from mirbook.data import sources
from mirbook.data.render import GENERATOR_VERSION
from mirbook.data.sources import MAX_SONGS_PER_SPLIT, RenderedSource, SyntheticWorld, song_seed


def test_song_seeds_are_disjoint_blocks_per_world_seed_and_split():
    block = 2 ** 20  # songs per (world seed, split): the documented block size
    assert MAX_SONGS_PER_SPLIT == block
    # (seed * 4 world splits + split position) * block + index, worked out by hand
    assert song_seed(0, "train", 0) == 0
    assert song_seed(0, "valid", 5) == block + 5
    assert song_seed(0, "ci", block - 1) == 3 * block - 1
    assert song_seed(0, "test", 0) == 3 * block
    assert song_seed(2, "valid", 7) == (2 * 4 + 1) * block + 7


@pytest.mark.parametrize("seed", [-1, 1.0, True, "0", None])
def test_song_seed_refuses_a_world_seed_that_is_not_a_non_negative_int(seed):
    with pytest.raises(ValueError, match=rf"seed must be a non-negative int; got {seed!r}"):
        song_seed(seed, "train", 0)


@pytest.mark.parametrize("index", [-1, 2 ** 20, 1.0, False, None])
def test_song_seed_refuses_an_index_outside_its_block(index):
    with pytest.raises(ValueError, match=rf"song index must be an int in \[0, 1048576\); got {index!r}"):
        song_seed(0, "test", index)


def test_a_rendered_source_defaults_to_world_seed_0_and_30_second_songs():
    class Rendered(RenderedSource):
        name = "rendered"

    source = Rendered()
    assert (source.seed, source.duration) == (0, 30.0)
    assert SyntheticWorld().tracks("train", n_songs=1)[0].identity["seed"] == 0
    assert SyntheticWorld().tracks("train", n_songs=1)[0].identity["duration"] == 30.0


def test_a_track_s_identity_names_source_generator_seed_duration_and_options():
    world = SyntheticWorld(seed=1, duration=8)
    chords = world.tracks("valid", task="chords", n_songs=2)
    seed = (1 * 4 + 1) * 2 ** 20 + 1  # song 1 of the valid split of world 1
    assert chords[1].track_id == f"synthetic-{seed}"
    assert chords[1].identity == {"source": "synthetic", "generator": GENERATOR_VERSION, "seed": seed,
                                  "duration": 8.0}
    voice = world.tracks("valid", task="voice", n_songs=2)
    assert voice[1].identity == {"source": "synthetic", "generator": GENERATOR_VERSION, "seed": seed,
                                 "duration": 8.0, "vocals": True, "lead": True}


def test_voice_songs_have_a_lead_and_three_in_four_are_sung():
    tracks = SyntheticWorld(seed=0, duration=8).tracks("train", task="voice", n_songs=8)
    assert [t.identity["vocals"] for t in tracks] == [True, True, True, False] * 2
    assert all(t.identity["lead"] is True for t in tracks)
    for task in ("chords", "tags", None):
        assert SyntheticWorld.render_options(task, 3) == {}


def test_a_track_renders_at_the_world_s_duration_and_the_asked_sample_rate():
    track = SyntheticWorld(seed=0, duration=4.0).tracks("test", task="chords", n_songs=1)[0]
    song = track.load(16000)
    assert song.sample_rate == 16000
    assert song.audio.shape == (4 * 16000,)
    assert song.chords[0][-1, 1] == pytest.approx(4.0)


def test_the_world_needs_a_number_of_songs_within_its_block(monkeypatch):
    world = SyntheticWorld(seed=0, duration=8)
    with pytest.raises(ValueError, match=r"^n_songs must be a positive int for the synthetic source; got None$"):
        world.tracks("train")
    with pytest.raises(ValueError, match="n_songs must be a positive int; got 0"):
        world.tracks("train", n_songs=0)
    with pytest.raises(ValueError, match=r"n_songs must be an int in \[1, 1048576\]; got 1048577"):
        world.tracks("train", n_songs=2 ** 20 + 1)
    # the whole block is allowed, one more is not (a small block, so the test lists few tracks)
    monkeypatch.setattr(sources, "MAX_SONGS_PER_SPLIT", 4)
    assert [t.identity["seed"] for t in world.tracks("valid", n_songs=4)] == [4, 5, 6, 7]
    with pytest.raises(ValueError, match=r"n_songs must be an int in \[1, 4\]; got 5"):
        world.tracks("valid", n_songs=5)


@pytest.mark.parametrize("duration", [0, 0.0, -1.0, True, "30", None])
def test_a_rendered_source_refuses_a_duration_that_is_not_a_positive_number(duration):
    with pytest.raises(ValueError, match=rf"^duration must be a positive number of seconds; got {duration!r}$"):
        SyntheticWorld(seed=0, duration=duration)


def test_a_rendered_source_takes_any_positive_duration_and_checks_its_seed():
    assert SyntheticWorld(seed=3, duration=0.5).duration == 0.5
    with pytest.raises(ValueError, match=r"^seed must be a non-negative int; got -1$"):
        SyntheticWorld(seed=-1)


def test_a_split_outside_train_valid_test_is_refused_by_name():
    with pytest.raises(ValueError, match=r"^split must be one of .*'dev'"):
        SyntheticWorld(seed=0, duration=8).tracks("dev", n_songs=1)


def test_only_the_synthetic_world_has_a_ci_split(tmp_path):
    world = SyntheticWorld(seed=0, duration=5.0)
    assert [t.track_id for t in world.tracks("ci", n_songs=2)] == [f"synthetic-{2 * 2 ** 20 + i}" for i in range(2)]
    from mirbook.data.out_of_world import OutOfWorld
    with pytest.raises(ValueError, match="split must be one of"):
        OutOfWorld(seed=0, duration=5.0).tracks("ci", n_songs=1)
