"""The embedded music world: synthetic songs with exact ground truth, and real-dataset adapters.

- ``render_song(seed)`` renders a :class:`Song` with chords, vocal activity, f0, key, tempo,
  beats, onsets and tags (``harmony``, ``score``, ``instruments``, ``voice``, ``leads``, ``mix``,
  ``render``).
- ``ChordFrames``, ``VoiceExcerpts``, ``TaggedClips``: the torch Datasets of the three task
  families of paper Section 5.7, with cached features (``datasets``, ``cache``).
- ``Source``: where the songs come from (``sources``): ``SyntheticWorld`` or a real dataset;
  ``SOURCES`` maps the names ``source="..."`` accepts to the source classes.
- ``template_chords`` and ``energy_voicing``: label sanity checks and the chord baseline
  (``baselines``); ``mirbook.data.real``: GuitarSet, Jamendo, MagnaTagATune and GTZAN adapters.

Book: "The data in this book"; every model chapter trains on it.
"""

from mirbook.data.baselines import energy_voicing, template_chords
from mirbook.data.datasets import NO_KEY, SOURCES, ChordFrames, SongItem, TaggedClips, VoiceExcerpts, make_source
from mirbook.data.render import F0_HOP, GENERATOR_VERSION, render_song
from mirbook.data.song import Song
from mirbook.data.sources import Source, SyntheticWorld, TrackRef
from mirbook.data.styles import STYLE_NAMES, STYLES, TAG_NAMES

__all__ = [
    "render_song", "Song", "GENERATOR_VERSION", "F0_HOP", "STYLES", "STYLE_NAMES", "TAG_NAMES",
    "ChordFrames", "VoiceExcerpts", "TaggedClips", "SongItem", "NO_KEY", "template_chords", "energy_voicing",
    "Source", "SyntheticWorld", "TrackRef", "SOURCES", "make_source",
]
