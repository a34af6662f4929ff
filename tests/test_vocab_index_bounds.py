"""Class indices and keys refused at the vocabulary's edges, with messages that say what was expected.

Each case kills a mutant that mutmut found surviving (benchmarks/results/mutation.md): a bool or a
float taken for an index, the index one past the last class accepted, a message that loses the
valid range or the value that came (DESIGN: "a ValueError whose message says what was expected and
what came").
"""

import pytest

import numpy as np

from mirbook.vocab import IGNORE_CHORD, check_tag_names, chord_chroma, chord_index, chord_label, key_index, key_label


@pytest.mark.parametrize("bad", [True, False, 2.0])
def test_a_bool_or_a_float_is_not_a_class_index(bad):
    """True == 1 and 2.0 == 2 would index a label; the vocabulary asks for an int."""
    with pytest.raises(ValueError, match="must be an int"):
        chord_label(bad)
    with pytest.raises(ValueError, match="must be an int"):
        key_label(bad)


def test_the_last_classes_are_24_for_chords_and_23_for_keys():
    """'N' plus 12 major and 12 minor triads is 25 chord classes; 12 + 12 keys is 24."""
    assert chord_label(24) == "B:min"
    assert key_label(23) == "B minor"
    with pytest.raises(ValueError, match=r"in \[0, 24\]; got 25"):
        chord_label(25)
    with pytest.raises(ValueError, match=r"in \[0, 23\]; got 24"):
        key_label(24)


def test_key_messages_name_what_came_and_what_was_expected():
    with pytest.raises(ValueError, match=r"such as 'C# minor'; got 5"):
        key_index(5)
    with pytest.raises(ValueError, match=r"not a valid key: 'Q minor'; expected e.g. 'C major'"):
        key_index("Q minor")


def test_chord_messages_name_what_came_and_what_was_expected():
    with pytest.raises(ValueError, match=r"such as 'C:maj'; got 3"):
        chord_index(3)
    with pytest.raises(ValueError, match=r"not a valid Harte chord label: 'H:maj'"):
        chord_index("H:maj")


def test_a_tag_vocabulary_is_a_sequence_of_names():
    """A bare number is no vocabulary: refused with the expected form, not a TypeError deep inside."""
    with pytest.raises(ValueError, match=r"tag_names must be a sequence of tag names such as \['rock', 'piano'\]; got 5"):
        check_tag_names(5)


@pytest.mark.parametrize("label", ["N", "C:maj", "A:min"])
def test_chord_chroma_is_float32_as_documented(label):
    """The deep chroma targets are float32 (the package's default dtype), 'N' included."""
    assert chord_chroma(label).dtype == np.float32


def test_the_ignored_target_reads_back_as_the_label_mir_eval_leaves_out():
    """A frame outside majmin has the target IGNORE_CHORD; its name is 'X', which mir_eval excludes
    (comparison -1) and which maps back to the same target."""
    import mir_eval

    assert chord_label(IGNORE_CHORD) == "X"
    assert chord_index(chord_label(IGNORE_CHORD)) == IGNORE_CHORD
    assert mir_eval.chord.majmin(["X"], ["C:maj"])[0] == -1
    with pytest.raises(ValueError, match="must be an int"):
        chord_label(float(IGNORE_CHORD))
