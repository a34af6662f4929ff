"""The learnability checks: template chords well above chance, energy voicing reproduces labels."""

import mir_eval
import numpy as np
import pytest

from mirbook.data import energy_voicing, render_song, template_chords
from mirbook.vocab import chord_templates
from mirbook.evaluate import evaluate_chords
from mirbook.frames import intervals_to_frames


@pytest.fixture(scope="module")
def songs():
    return [render_song(seed, duration=15.0, vocals=True, lead=True) for seed in range(500, 506)]


def test_template_baseline_is_well_above_chance(songs):
    references = [song.chords for song in songs]
    estimates = [template_chords(song.audio, song.sample_rate) for song in songs]
    for intervals, labels in estimates:
        mir_eval.chord.validate(labels, labels)
    wcsr = evaluate_chords(references, estimates)["majmin"]
    # chance: the most frequent reference class over all songs' time
    durations = {}
    for intervals, labels in references:
        for (a, b), label in zip(intervals, labels):
            key = mir_eval.chord.encode(label)[:2]
            durations[(key[0], tuple(key[1]))] = durations.get((key[0], tuple(key[1])), 0.0) + b - a
    chance = max(durations.values()) / sum(durations.values())
    assert chance < 0.35
    assert wcsr > 0.55, f"template-matching majmin WCSR {wcsr:.3f} (chance {chance:.3f})"


def test_energy_voicing_reproduces_the_labels(songs):
    accuracy = []
    for song in songs:
        estimate = energy_voicing(song.stems["vocals"], song.sample_rate)
        n = song.audio.size // 512 + 1
        ref = intervals_to_frames(song.voicing, n, sample_rate=song.sample_rate, hop_length=512)
        est = intervals_to_frames(estimate, n, sample_rate=song.sample_rate, hop_length=512)
        accuracy.append((ref == est).mean())
    assert min(accuracy) > 0.98, accuracy
    # on the mixture the same detector is useless: the band plays through the rests
    song = songs[0]
    mix = intervals_to_frames(energy_voicing(song.audio, song.sample_rate), song.audio.size // 512 + 1,
                              sample_rate=song.sample_rate, hop_length=512)
    ref = intervals_to_frames(song.voicing, mix.size, sample_rate=song.sample_rate, hop_length=512)
    assert (mix == ref).mean() < min(accuracy) - 0.1


def test_templates_and_bad_input():
    templates = chord_templates()
    assert templates.shape == (25, 12) and np.allclose(np.linalg.norm(templates[1:], axis=1), 1)
    assert not templates[0].any()
    with pytest.raises(ValueError, match="no_chord"):
        template_chords(np.zeros(22050, dtype=np.float32), 22050, no_chord=1.5)
    with pytest.raises(ValueError, match="mono"):
        template_chords(np.zeros((2, 22050), dtype=np.float32), 22050)
    with pytest.raises(ValueError, match="threshold_db"):
        energy_voicing(np.ones(22050, dtype=np.float32), 22050, threshold_db=3.0)
    assert energy_voicing(np.zeros(22050, dtype=np.float32), 22050).shape == (0, 2)


def test_template_baseline_says_no_chord_for_noise_and_names_a_triad():
    """Flat chroma (white noise) has cosine 3 / sqrt(3 * 12) = 0.5 with every triad, below no_chord=0.6:
    'N' (a frame's random bumps may pass 0.6; a 5-frame average removes them). A C major triad of
    sines scores cosine near 1 with C:maj: one 'C:maj'."""
    sr = 22050
    noise = 0.1 * np.random.default_rng(0).standard_normal(3 * sr).astype(np.float32)
    intervals, labels = template_chords(noise, sr)
    no_chord = sum(end - start for (start, end), label in zip(intervals, labels) if label == "N")
    assert no_chord / intervals[-1, 1] > 0.9 and intervals[-1, 1] == pytest.approx(3.0, abs=0.1)
    assert template_chords(noise, sr, smooth=5)[1] == ["N"]
    t = np.arange(3 * sr) / sr
    triad = sum(np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0)).astype(np.float32) / 10
    assert template_chords(triad, sr)[1] == ["C:maj"]
