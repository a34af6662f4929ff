"""The embedded music world: synthetic songs with exact ground truth, and real-dataset adapters.

``render_song(seed)`` renders a song (``Song``) with chords, vocal activity, f0, key, tempo,
beats, onsets and tags. Book: "The data in this book"; every model chapter trains on it.
"""

from mirbook.data.render import F0_HOP, GENERATOR_VERSION, render_song
from mirbook.data.song import Song
from mirbook.data.styles import STYLE_NAMES, STYLES, TAG_NAMES

__all__ = ["render_song", "Song", "GENERATOR_VERSION", "F0_HOP", "STYLES", "STYLE_NAMES", "TAG_NAMES"]
