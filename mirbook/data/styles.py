"""Musical styles of the embedded music world and the clip-level tag vocabulary.

A style chooses the tempo range, the mode's odds, the accompaniment instruments and their
playing patterns, the bass, the drums and how likely a song is sung, so that the clip tags of
paper Section 5.7.4-5.7.6 (auto-tagging: genre, instruments, vocal/instrumental, mood-like mode,
tempo) are audible in a clip. Book: "The data in this book" and the three tagger chapters.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Style", "STYLES", "STYLE_NAMES", "TAG_NAMES", "INSTRUMENT_TAGS", "tempo_class"]


@dataclass(frozen=True)
class Style:
    """How songs of one style are composed and orchestrated (one entry of :data:`STYLES`).

    ``comping`` lists (instrument, pattern) pairs of which a song draws ``n_comping`` distinct
    instruments; ``bass`` the bass instrument and ``bass_patterns`` its lines; drums play with
    ``drum_probability`` in ``drum_pattern``; a song is sung with ``vocal_probability`` and gets
    a non-vocal lead (a hard negative for voice detection) from ``leads`` with
    ``lead_probability``. ``reverb_range`` bounds the room's RT60 in seconds.
    """

    name: str
    tempo_range: tuple[float, float]
    minor_probability: float
    comping: tuple[tuple[str, str], ...]
    n_comping: tuple[int, int]
    bass: str
    bass_patterns: tuple[str, ...]
    drum_probability: float
    drum_pattern: str
    vocal_probability: float
    leads: tuple[str, ...]
    lead_probability: float
    chords_per_bar: tuple[int, ...]
    reverb_range: tuple[float, float]


STYLES: dict[str, Style] = {
    "ballad": Style(
        name="ballad",
        tempo_range=(58.0, 88.0),
        minor_probability=0.35,
        comping=(("piano", "arpeggio"), ("piano", "block"), ("strings", "sustain"), ("pad", "sustain")),
        n_comping=(1, 2),
        bass="bass",
        bass_patterns=("whole", "half"),
        drum_probability=0.5,
        drum_pattern="ballad",
        vocal_probability=0.75,
        leads=("violin", "flute"),
        lead_probability=0.4,
        chords_per_bar=(1, 2),
        reverb_range=(0.9, 1.6),
    ),
    "rock": Style(
        name="rock",
        tempo_range=(96.0, 170.0),
        minor_probability=0.4,
        comping=(("guitar", "strum"), ("organ", "sustain"), ("piano", "block")),
        n_comping=(1, 2),
        bass="bass",
        bass_patterns=("eighths", "quarters"),
        drum_probability=1.0,
        drum_pattern="rock",
        vocal_probability=0.8,
        leads=("violin", "synth_lead"),
        lead_probability=0.4,
        chords_per_bar=(1, 2),
        reverb_range=(0.4, 1.0),
    ),
    "electronic": Style(
        name="electronic",
        tempo_range=(116.0, 140.0),
        minor_probability=0.55,
        comping=(("synth", "stabs"), ("pad", "sustain"), ("synth", "arpeggio")),
        n_comping=(1, 2),
        bass="synth_bass",
        bass_patterns=("offbeat", "eighths"),
        drum_probability=1.0,
        drum_pattern="electronic",
        vocal_probability=0.6,
        leads=("synth_lead", "flute"),
        lead_probability=0.5,
        chords_per_bar=(1,),
        reverb_range=(0.5, 1.3),
    ),
    "chamber": Style(
        name="chamber",
        tempo_range=(66.0, 126.0),
        minor_probability=0.45,
        comping=(("strings", "sustain"), ("piano", "arpeggio"), ("brass", "block"), ("organ", "sustain")),
        n_comping=(1, 2),
        bass="cello",
        bass_patterns=("whole", "half", "quarters"),
        drum_probability=0.0,
        drum_pattern="",
        vocal_probability=0.35,
        leads=("violin", "flute"),
        lead_probability=0.7,
        chords_per_bar=(1, 2),
        reverb_range=(1.2, 2.0),
    ),
    "folk": Style(
        name="folk",
        tempo_range=(84.0, 150.0),
        minor_probability=0.35,
        comping=(("guitar", "arpeggio"), ("guitar", "strum"), ("piano", "block")),
        n_comping=(1, 1),
        bass="bass",
        bass_patterns=("half", "quarters"),
        drum_probability=0.4,
        drum_pattern="folk",
        vocal_probability=0.75,
        leads=("flute", "violin"),
        lead_probability=0.5,
        chords_per_bar=(1, 2),
        reverb_range=(0.3, 0.9),
    ),
}

STYLE_NAMES: tuple[str, ...] = tuple(STYLES)

#: Instrument (synthesiser) name -> the tag it contributes.
INSTRUMENT_TAGS: dict[str, str] = {
    "piano": "piano",
    "guitar": "guitar",
    "organ": "organ",
    "strings": "strings",
    "cello": "strings",
    "brass": "brass",
    "pad": "synth",
    "synth": "synth",
    "synth_bass": "synth",
    "synth_lead": "synth",
    "bass": "bass",
    "drums": "drums",
    "violin": "violin",
    "flute": "flute",
}

#: The clip-level tag vocabulary, in the order of the multi-hot vectors of ``TaggedClips``.
TAG_NAMES: tuple[str, ...] = (
    STYLE_NAMES
    + ("piano", "guitar", "organ", "strings", "brass", "synth", "bass", "drums", "violin", "flute")
    + ("vocal", "instrumental", "major", "minor", "slow", "medium", "fast")
)


def tempo_class(tempo: float) -> str:
    """The tempo tag of a song: 'slow' below 90 BPM, 'medium' below 125 BPM, else 'fast'."""
    if tempo < 90.0:
        return "slow"
    if tempo < 125.0:
        return "medium"
    return "fast"
