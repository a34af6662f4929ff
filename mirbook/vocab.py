"""Label vocabularies shared by the data, the models and the evaluation.

- Chords: the major/minor vocabulary of MIREX "majmin" evaluation (paper Table 1, chord
  recognition; book: "Deep chroma" chapter): 'N' plus 12 major and 12 minor triads in Harte
  syntax ('C:maj', 'A:min'), the form mir_eval.chord reads. A chord the majmin comparison
  leaves out ('C:dim', 'C:sus4', 'X') has the target :data:`IGNORE_CHORD`, not 'N'.
- Keys: the 24 major and minor keys in mir_eval.key's format ('C major', 'C# minor'); used by the
  time-invariant models (book: the tagger chapters).
- Tags: a source's or a tagger's tag vocabulary is a sequence of distinct strings
  (:func:`check_tag_names`).
"""

from __future__ import annotations

import mir_eval
import numpy as np

__all__ = [
    "PITCH_CLASSES",
    "CHORD_LABELS",
    "KEY_LABELS",
    "chord_index",
    "chord_label",
    "chord_chroma",
    "IGNORE_CHORD",
    "key_index",
    "key_label",
    "NO_KEY",
    "CHORD_CHROMA",
    "chord_templates",
    "check_tag_names",
]

#: Pitch-class names with sharps, index 0 = C (the order of chroma bins).
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

#: 25 classes: index 0 is 'N' (no chord), 1-12 the major triads C..B, 13-24 the minor triads.
CHORD_LABELS = ("N",) + tuple(f"{p}:maj" for p in PITCH_CLASSES) + tuple(f"{p}:min" for p in PITCH_CLASSES)

#: 24 classes: 0-11 major keys C..B, 12-23 minor keys C..B (mir_eval.key format).
KEY_LABELS = tuple(f"{p} major" for p in PITCH_CLASSES) + tuple(f"{p} minor" for p in PITCH_CLASSES)

_MAJ = np.array([1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0])
_MIN = np.array([1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0])

#: Class target of a chord that majmin leaves out of its score (PyTorch's default
#: ``ignore_index``): the chord losses and training metrics skip these frames, so a model is
#: neither taught that 'C:dim' or 'C:sus4' is "no chord" nor scored on them (deep chroma chapter).
IGNORE_CHORD = -100

# mir_eval.chord.majmin compares the semitones below the minor sixth (the first 8 of 12).
_MAJMIN_HEADS = {1: np.array(mir_eval.chord.QUALITIES["maj"][:8]),
                 13: np.array(mir_eval.chord.QUALITIES["min"][:8])}


def chord_index(label: str) -> int:
    """Map a Harte chord label to its majmin class index (0 = 'N'), or :data:`IGNORE_CHORD`.

    The rule is mir_eval.chord.majmin's: a chord whose semitones below the minor sixth are a
    major triad's maps to ':maj', a minor triad's to ':min' (so 'G:7' -> 'G:maj', 'A:min7' ->
    'A:min', 'C:maj6' -> 'C:maj'); 'N' is 0; every chord majmin leaves out of its score
    ('C:dim', 'C:aug', 'C:sus4', 'C:5', 'C:maj/2', 'X') is :data:`IGNORE_CHORD`.
    """
    if not isinstance(label, str):
        raise ValueError(f"chord label must be a Harte string such as 'C:maj'; got {label!r}")
    try:
        root, semitones, _bass = mir_eval.chord.encode(label)
    except mir_eval.chord.InvalidChordException as err:
        raise ValueError(f"not a valid Harte chord label: {label!r} ({err})") from err
    if root < 0 and not semitones.any():
        return 0
    for offset, head in _MAJMIN_HEADS.items():
        if np.array_equal(semitones[:8], head):
            return offset + int(root)
    return IGNORE_CHORD


def chord_label(index: int) -> str:
    """Inverse of :func:`chord_index`: class index (0-24) to Harte label; :data:`IGNORE_CHORD` to
    'X', the label ``mir_eval`` leaves out of a score (a chord outside majmin)."""
    if not isinstance(index, bool) and isinstance(index, (int, np.integer)) and index == IGNORE_CHORD:
        return "X"
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < len(CHORD_LABELS):
        raise ValueError(f"chord index must be an int in [0, {len(CHORD_LABELS) - 1}]; got {index!r}")
    return CHORD_LABELS[int(index)]


def chord_chroma(label: str) -> np.ndarray:
    """The 12-dim binary pitch-class template of a chord's majmin class (zeros for 'N'), float32.

    This is the target of the deep chroma extractor (paper Section 5.7.1, [51]). A chord
    outside majmin (:data:`IGNORE_CHORD`) has no template and raises a ValueError.
    """
    index = chord_index(label)
    if index == IGNORE_CHORD:
        raise ValueError(f"{label!r} is outside the majmin vocabulary: its frames are ignored, it has no template")
    if index == 0:
        return np.zeros(12, dtype=np.float32)
    root = (index - 1) % 12
    template = _MAJ if index <= 12 else _MIN
    return np.roll(template, root).astype(np.float32)


def key_index(label: str) -> int:
    """Map a key string ('C# minor', 'Eb major') to its class index 0-23."""
    if not isinstance(label, str):
        raise ValueError(f"key must be a string such as 'C# minor'; got {label!r}")
    try:
        mir_eval.key.validate_key(label)
    except ValueError as err:
        raise ValueError(f"not a valid key: {label!r}; expected e.g. 'C major' or 'F# minor'") from err
    tonic, mode = label.split()
    if mode not in ("major", "minor"):
        raise ValueError(f"key mode must be 'major' or 'minor'; got {label!r}")
    pitch = mir_eval.chord.pitch_class_to_semitone(tonic) % 12
    return pitch + (0 if mode == "major" else 12)


def key_label(index: int) -> str:
    """Inverse of :func:`key_index`: class index (0-23) to a mir_eval key string."""
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < len(KEY_LABELS):
        raise ValueError(f"key index must be an int in [0, {len(KEY_LABELS) - 1}]; got {index!r}")
    return KEY_LABELS[int(index)]


#: Key target of a clip without key annotation (PyTorch's default ``ignore_index``): real
#: tagging datasets have no key, and the taggers' key loss skips these clips.
NO_KEY = -100

#: ``(25, 12)`` binary pitch-class templates of ``CHORD_LABELS`` (row 0, 'N', is zero), float32:
#: the deep chroma targets and the start of its classifier (deep chroma chapter).
CHORD_CHROMA = np.stack([chord_chroma(label) for label in CHORD_LABELS])
CHORD_CHROMA.flags.writeable = False


def chord_templates() -> np.ndarray:
    """``(25, 12)`` unit-norm triad templates in the order of ``CHORD_LABELS`` (row 0, 'N', zero).

    The templates of chroma template matching (paper Section 2.1's designed pipeline; the deep
    chroma chapter's baseline and the appendix's sequence model).
    """
    templates = CHORD_CHROMA.astype(float)
    norms = np.linalg.norm(templates, axis=1, keepdims=True)
    return np.divide(templates, norms, out=np.zeros_like(templates), where=norms > 0)


def check_tag_names(tag_names, *, name: str = "tag_names") -> tuple[str, ...]:
    """Return ``tag_names`` as a tuple of str after checking it is a sequence of distinct names.

    A tag vocabulary orders the multi-hot vectors of the tagger chapters (Section 5.7.4-5.7.6),
    so a name given twice would make two outputs one tag.
    """
    if isinstance(tag_names, (str, bytes)) or not hasattr(tag_names, "__iter__"):
        raise ValueError(f"{name} must be a sequence of tag names such as ['rock', 'piano']; got {tag_names!r}")
    names = tuple(str(t) for t in tag_names)
    repeated = sorted({t for t in names if names.count(t) > 1})
    if repeated:
        raise ValueError(f"{name} must be distinct; {repeated} appear more than once in {list(names)}")
    return names
