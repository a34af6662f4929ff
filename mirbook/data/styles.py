"""Musical styles of the embedded music world, its instruments and the clip-level tag vocabulary.

A style chooses the tempo range, the mode's odds, the instruments it favours and their playing
patterns, the bass lines, the drums' groove and odds, the harmonic rhythm, the room and how
likely a song is sung. A style favours instruments without fixing them: each instrument slot of
a song is filled from the style's own list with probability :data:`FAVOURED` and otherwise from
the pools every style shares (:data:`COMPING`, :data:`BASSES`, ``mirbook.data.leads.LEADS``), so
an instrument tag is never implied by the style: a tagger has to hear it. The clip tags follow
paper Section 5.7.4-5.7.6 (auto-tagging: genre, instruments, vocal, mood-like mode, tempo); a tag
that would be another's complement (instrumental, minor) is left out, since it only repeats that
tag. Book: "The data in this book" and the three tagger chapters.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Style", "STYLES", "STYLE_NAMES", "FAVOURED", "COMPING", "BASSES", "TAG_NAMES", "INSTRUMENT_TAGS",
           "tempo_class"]


@dataclass(frozen=True)
class Style:
    """How songs of one style are composed and orchestrated (one entry of :data:`STYLES`).

    A song has ``n_comping`` distinct accompaniment instruments, each slot filled from the
    style's ``comping`` (instrument, pattern) pairs with probability :data:`FAVOURED`, else
    from :data:`COMPING`; its bass is ``bass`` (with :data:`FAVOURED`) or one of :data:`BASSES`,
    playing one of ``bass_patterns``; drums play with ``drum_probability`` in
    ``drum_pattern``; a song is sung with ``vocal_probability`` and gets a non-vocal lead (a
    hard negative for voice detection) with ``lead_probability``, from ``leads`` (with
    :data:`FAVOURED`) or ``mirbook.data.leads.LEADS``. ``reverb_range`` bounds the room's RT60 in seconds.
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
        drum_probability=0.85,
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
        drum_probability=0.85,
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
        drum_probability=0.2,
        drum_pattern="ballad",
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

#: The probability that an instrument slot of a song is filled from its style's own list.
FAVOURED = 0.5

#: The accompaniment instruments and playing patterns every style shares: (instrument, pattern).
COMPING: tuple[tuple[str, str], ...] = (
    ("piano", "arpeggio"), ("piano", "block"), ("guitar", "strum"), ("guitar", "arpeggio"),
    ("organ", "sustain"), ("strings", "sustain"), ("brass", "block"), ("pad", "sustain"),
    ("synth", "stabs"), ("synth", "arpeggio"),
)

#: The bass instruments every style shares.
BASSES: tuple[str, ...] = ("bass", "synth_bass", "cello")

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
    + ("vocal", "major", "slow", "medium", "fast")
)


def tempo_class(tempo: float) -> str:
    """The tempo tag of a song: 'slow' below 90 BPM, 'medium' below 125 BPM, else 'fast'."""
    if tempo < 90.0:
        return "slow"
    if tempo < 125.0:
        return "medium"
    return "fast"
