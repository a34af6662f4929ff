"""Per-song parts of the pooled scores (``chord_song_seconds``, ``voicing_song_frames``,
``key_song_scores``), checked by hand and against ``evaluate_chords``, ``evaluate_voicing``, mir_eval."""

import mir_eval
import numpy as np
import pytest

from mirbook.evaluate import (
    chord_song_seconds,
    evaluate_chords,
    evaluate_keys,
    evaluate_voicing,
    key_song_scores,
    voicing_song_frames,
)
from mirbook.intervals import pooled_ratio

SR, HOP = 100, 10  # frame centres every 0.1 s

REFERENCES = [(np.array([[0.0, 5.0], [5.0, 10.0]]), ["X", "C:maj"]),
              (np.array([[0.0, 10.0]]), ["D:min"]),
              (np.array([[0.0, 10.0]]), ["X"]),
              (np.array([[0.0, 2.0], [2.0, 4.0]]), ["G:maj", "E:min7"])]
ESTIMATES = [(np.array([[0.0, 10.0]]), ["C:maj"])] * 3 + [(np.array([[0.0, 3.0], [3.0, 4.0]]), ["G:maj", "E:min"])]


def test_chord_song_seconds_by_hand():
    """Song A: 5 s of 'X' not comparable, 5 s C major right; B: 10 s of D minor, none right; C: 'X' only;
    D: 2 s of G major right, then E:min7, which majmin reduces to E:min: 1 s right (3-4 s) of 2 s."""
    parts = chord_song_seconds(REFERENCES, ESTIMATES)
    np.testing.assert_allclose(parts, [[5.0, 5.0], [0.0, 10.0], [0.0, 0.0], [3.0, 4.0]])
    root = chord_song_seconds(REFERENCES, ESTIMATES, comparison="root")
    np.testing.assert_allclose(root, [[5.0, 5.0], [0.0, 10.0], [0.0, 0.0], [3.0, 4.0]])


@pytest.mark.parametrize("comparison", ["majmin", "root", "thirds", "mirex", "sevenths"])
def test_pooled_song_seconds_give_evaluate_chords_for_every_subset_of_songs(comparison):
    parts = chord_song_seconds(REFERENCES, ESTIMATES, comparison=comparison)
    for subset in ([0, 1], [1, 3], [0, 1, 2, 3], [3, 3, 0]):  # a bootstrap draws songs with repeats
        if parts[subset, 1].sum() == 0:
            continue
        expected = evaluate_chords([REFERENCES[i] for i in subset], [ESTIMATES[i] for i in subset])[comparison]
        assert pooled_ratio(parts[subset]) == pytest.approx(expected)


def test_chord_song_seconds_refuses_an_unknown_comparison():
    with pytest.raises(ValueError, match="comparison must be one of"):
        chord_song_seconds(REFERENCES, ESTIMATES, comparison="majmin7")


def test_voicing_song_frames_by_hand_and_pooled_as_evaluate_voicing():
    refs = [np.array([[0.2, 0.6]]), np.array([[0.0, 0.3], [0.75, 1.0]])]
    probs = [np.array([0.1, 0.2, 0.7, 0.6, 0.8, 0.9, 0.4, 0.3]),
             np.array([0.9, 0.2, 0.8, 0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.9])]
    frames = voicing_song_frames(refs, probs, threshold=0.5, sample_rate=SR, hop_length=HOP)
    # song 1: reference 0 0 1 1 1 1 0 0, estimate 0 0 1 1 1 1 0 0 -> 8 of 8;
    # song 2: reference 1 1 1 0 0 0 0 0 1 1, estimate 1 0 1 0 0 0 0 1 1 1 -> 8 of 10
    np.testing.assert_array_equal(frames, [[8, 8], [8, 10]])
    pooled = evaluate_voicing(refs, probs, threshold=0.5, sample_rate=SR, hop_length=HOP)["Frame Accuracy"]
    assert pooled_ratio(frames) == pytest.approx(pooled) == pytest.approx(16 / 18)
    filtered = voicing_song_frames(refs, probs, threshold=0.5, sample_rate=SR, hop_length=HOP, median_filter=3)
    assert pooled_ratio(filtered) == pytest.approx(evaluate_voicing(
        refs, probs, threshold=0.5, sample_rate=SR, hop_length=HOP, median_filter=3)["Frame Accuracy"])


def test_key_song_scores_are_mir_evals_and_average_to_evaluate_keys():
    references = ["C major", "A minor", "G major", "E minor"]
    estimates = ["C major", "C major", "D major", "E major"]
    scores = key_song_scores(references, estimates)
    # right, relative, fifth, parallel
    np.testing.assert_allclose(scores, [1.0, 0.3, 0.5, 0.2])
    assert scores.tolist() == [mir_eval.key.weighted_score(r, e) for r, e in zip(references, estimates)]
    assert scores.mean() == pytest.approx(evaluate_keys(references, estimates)["Weighted Score"])
    with pytest.raises(ValueError):
        key_song_scores(references, estimates[:2])
