"""Real-dataset adapters behind the same :class:`~mirbook.data.sources.Source` interface as the
synthetic world (book: "The data in this book", section "Switching a chapter to a real dataset").

Each adapter reads a dataset in its published on-disk layout and yields TrackRefs whose songs
carry the annotations the task needs: :class:`GuitarSet` (chords), :class:`Jamendo` (singing
voice), :class:`MagnaTagATune` (top-50 tags) and :class:`GTZAN` (genres). A missing dataset raises
:class:`DatasetNotFoundError`, whose message says where to get it; :func:`download` fetches
GuitarSet and GTZAN through mirdata in one call.
"""

from mirbook.data.real.base import DatasetNotFoundError, RealSource, default_root, load_audio
from mirbook.data.real.download import download
from mirbook.data.real.gtzan import GTZAN
from mirbook.data.real.guitarset import GuitarSet
from mirbook.data.real.jamendo import Jamendo
from mirbook.data.real.magnatagatune import MagnaTagATune

__all__ = ["RealSource", "GuitarSet", "Jamendo", "MagnaTagATune", "GTZAN", "DatasetNotFoundError", "default_root",
           "load_audio", "download"]
