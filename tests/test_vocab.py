"""mirbook.vocab: the majmin chord vocabulary and the 24 keys."""

from __future__ import annotations

import mir_eval
import numpy as np
import pytest

from mirbook.vocab import (
    CHORD_LABELS,
    IGNORE_CHORD,
    KEY_LABELS,
    chord_chroma,
    chord_index,
    chord_label,
    key_index,
    key_label,
)


def test_vocabularies_have_the_expected_sizes_and_parse():
    assert len(CHORD_LABELS) == 25 and CHORD_LABELS[0] == "N"
    assert len(KEY_LABELS) == 24
    for label in CHORD_LABELS:
        mir_eval.chord.encode(label)
    for key in KEY_LABELS:
        mir_eval.key.validate_key(key)


def test_round_trips():
    assert [chord_index(chord_label(i)) for i in range(25)] == list(range(25))
    assert [key_index(key_label(i)) for i in range(24)] == list(range(24))


@pytest.mark.parametrize(
    "label, expected",
    [("G:7", "G:maj"), ("A:min7", "A:min"), ("Bb:maj", "A#:maj"), ("C:maj/3", "C:maj"), ("C:maj6", "C:maj"),
     ("N", "N")],
)
def test_reduction_matches_majmin(label, expected):
    assert chord_label(chord_index(label)) == expected


@pytest.mark.parametrize("label", ["C:dim", "C:sus4", "C:sus2", "C:aug", "B:hdim7", "C:dim7", "C:5", "C:1",
                                   "C:maj/2", "X"])
def test_chords_majmin_leaves_out_are_ignored_not_no_chord(label):
    assert chord_index(label) == IGNORE_CHORD
    assert mir_eval.chord.majmin([label], [label])[0] < 0  # the independent rule: majmin does not score it


def test_the_vocabulary_follows_mir_evals_majmin_on_every_quality():
    """A label is ignored exactly when majmin leaves it out; otherwise majmin scores its class as a match."""
    qualities = [quality for quality in mir_eval.chord.QUALITIES if quality]
    labels = ["N", "X"] + [f"{root}:{quality}{bass}" for root in ("C", "Eb", "F#") for quality in qualities
                           for bass in ("", "/3", "/5", "/b7", "/2")]
    labels = [label for label in labels if _parses(label)]
    assert len(labels) > 300
    for label in labels:
        left_out = mir_eval.chord.majmin([label], [label])[0] < 0
        index = chord_index(label)
        assert (index == IGNORE_CHORD) == left_out, label
        if not left_out:
            assert mir_eval.chord.majmin([label], [chord_label(index)])[0] == 1.0, label


def _parses(label):
    try:
        mir_eval.chord.encode(label)
    except mir_eval.chord.InvalidChordException:
        return False
    return True


def test_chroma_templates_match_mir_eval_bitmaps():
    for label in CHORD_LABELS[1:]:
        root, bitmap, _ = mir_eval.chord.encode(label)
        np.testing.assert_array_equal(chord_chroma(label), np.roll(bitmap, root).astype(np.float32))
    assert not chord_chroma("N").any()


def test_enharmonic_keys_share_an_index():
    assert key_index("Eb major") == key_index("D# major") == 3


@pytest.mark.parametrize("bad", ["H:maj", 3])
def test_bad_chords_are_refused(bad):
    with pytest.raises(ValueError):
        chord_index(bad)


@pytest.mark.parametrize("bad", ["C dorian", "Q minor", None])
def test_bad_keys_are_refused(bad):
    with pytest.raises(ValueError):
        key_index(bad)


def test_bad_indices_are_refused():
    with pytest.raises(ValueError, match="chord index"):
        chord_label(25)
    with pytest.raises(ValueError, match="key index"):
        key_label(-1)


def test_a_chord_with_both_thirds_is_neither_major_nor_minor():
    """mir_eval's majmin leaves 'C:(3,b3,5)' out (neither triad); the vocabulary ignores it, not 'C:maj'."""
    assert mir_eval.chord.majmin(["C:(3,b3,5)"], ["C:maj"])[0] < 0  # excluded: matches neither quality
    assert mir_eval.chord.majmin(["C:(3,b3,5)"], ["C:min"])[0] < 0
    assert chord_index("C:(3,b3,5)") == IGNORE_CHORD
    assert chord_index("A:(b3,3,5)") == IGNORE_CHORD
    with pytest.raises(ValueError, match="outside the majmin vocabulary"):
        chord_chroma("C:(3,b3,5)")


def test_keys_of_mir_evals_other_mode_are_refused():
    """mir_eval.key accepts 'C other', but the 24 classes hold only major and minor keys."""
    mir_eval.key.validate_key("C other")
    with pytest.raises(ValueError, match="major' or 'minor"):
        key_index("C other")
