"""The harmony of the embedded music world: chord progressions as Roman numerals.

A phrase opens on the tonic, walks a first-order chain over diatonic functions (tonic,
predominant, dominant; with borrowed and secondary chords) and ends on a cadence; a song repeats
two phrases in a form (AABB or AB) and closes on an authentic cadence. ``mirbook.data.score``
turns the numerals into chord events. Book: "The data in this book".
"""

from __future__ import annotations

import numpy as np

__all__ = ["NUMERALS", "roman_numerals"]

#: Roman numeral -> (root in semitones above the tonic, triad quality), per mode.
NUMERALS = {
    "major": {
        "I": (0, "maj"), "ii": (2, "min"), "iii": (4, "min"), "IV": (5, "maj"), "V": (7, "maj"),
        "vi": (9, "min"),
        # borrowed from the parallel minor
        "iv": (5, "min"), "bVI": (8, "maj"), "bVII": (10, "maj"), "bIII": (3, "maj"), "v": (7, "min"),
        # secondary dominants V/V, V/vi, V/ii
        "II": (2, "maj"), "III": (4, "maj"), "VI": (9, "maj"),
    },
    "minor": {
        "i": (0, "min"), "iv": (5, "min"), "v": (7, "min"), "V": (7, "maj"), "bIII": (3, "maj"),
        "bVI": (8, "maj"), "bVII": (10, "maj"),
        # borrowed (Dorian IV, Picardy/secondary V/iv) and V/V
        "IV": (5, "maj"), "I": (0, "maj"), "II": (2, "maj"),
    },
}

# First-order transitions between functions, weights (not probabilities).
_TRANSITIONS = {
    "major": {
        "I": {"IV": 3, "V": 2.5, "vi": 3, "ii": 2, "iii": 0.7, "bVII": 0.5, "iv": 0.4, "bVI": 0.4,
              "II": 0.3, "III": 0.3, "VI": 0.2},
        "ii": {"V": 5, "vi": 0.5, "IV": 0.5},
        "iii": {"vi": 3, "IV": 2, "ii": 0.5},
        "IV": {"V": 3, "I": 2, "ii": 1, "iv": 0.7, "vi": 1, "bVII": 0.4},
        "V": {"I": 5, "vi": 2, "IV": 0.7},
        "vi": {"ii": 2, "IV": 3, "V": 1.5, "iii": 0.5, "II": 0.3},
        "iv": {"I": 2, "V": 1},
        "bVI": {"bVII": 2, "V": 1, "IV": 0.5, "I": 0.5},
        "bVII": {"I": 3, "IV": 1},
        "bIII": {"IV": 1, "bVI": 1},
        "v": {"IV": 1, "I": 0.5},
        "II": {"V": 1},
        "III": {"vi": 1},
        "VI": {"ii": 1},
    },
    "minor": {
        "i": {"iv": 3, "bVI": 2.5, "bVII": 2, "bIII": 2, "v": 1, "V": 1.5, "IV": 0.5, "I": 0.3},
        "iv": {"V": 2, "i": 2, "bVII": 1, "v": 0.5, "bVI": 0.5},
        "v": {"bVI": 1, "iv": 1, "i": 1},
        "V": {"i": 5, "bVI": 1.5},
        "bIII": {"bVI": 2, "iv": 1, "bVII": 1},
        "bVI": {"bVII": 2, "V": 1.5, "iv": 1, "bIII": 0.5},
        "bVII": {"bIII": 2, "i": 2, "bVI": 0.5},
        "IV": {"i": 1, "V": 1},
        "I": {"iv": 1},
        "II": {"V": 1},
    },
}

# Phrase endings: (penultimate, final) numerals with weights; the song's last phrase is authentic.
_CADENCES = {
    "major": {("V", "I"): 4, ("IV", "I"): 1.5, ("ii", "V"): 1, ("IV", "V"): 1, ("V", "vi"): 0.7},
    "minor": {("V", "i"): 4, ("iv", "i"): 1.5, ("iv", "V"): 1.5, ("bVII", "i"): 1},
}
_FINAL_CADENCE = {"major": ("V", "I"), "minor": ("V", "i")}


def _weighted_choice(rng: np.random.Generator, weights: dict):
    keys = list(weights)
    p = np.array([weights[k] for k in keys], dtype=float)
    return keys[rng.choice(len(keys), p=p / p.sum())]


def _phrase_progression(rng: np.random.Generator, mode: str, n_slots: int) -> list[str]:
    """Numerals for one phrase: opens on the tonic, walks the function graph, ends on a cadence."""
    tonic = "I" if mode == "major" else "i"
    if n_slots <= 2:
        return [tonic] * n_slots
    cadence = _weighted_choice(rng, _CADENCES[mode])
    # the tonic is often prolonged over the phrase's first bar: the key is heard at once
    chords = [tonic] * (2 if n_slots >= 8 and rng.random() < 0.5 else 1)
    while len(chords) < n_slots - 2:
        chords.append(_weighted_choice(rng, _TRANSITIONS[mode][chords[-1]]))
    return chords + list(cadence)


def roman_numerals(rng: np.random.Generator, mode: str, n_slots: int, per_phrase: int) -> list[str]:
    """Roman numerals for ``n_slots`` chords: two phrases in a form (AABB or AB), a final cadence."""
    sections = [_phrase_progression(rng, mode, per_phrase) for _ in range(2)]
    numerals = []
    form = [0, 0, 1, 1] if rng.random() < 0.6 else [0, 1]
    while len(numerals) < n_slots:
        numerals += sections[form[(len(numerals) // per_phrase) % len(form)]]
    numerals = numerals[:n_slots]
    if len(numerals) >= 2:
        numerals[-2:] = list(_FINAL_CADENCE[mode])
    elif numerals:
        numerals[-1] = "I" if mode == "major" else "i"
    return numerals
