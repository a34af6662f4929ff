"""Real datasets in one call: :func:`download` fetches GuitarSet or GTZAN through ``mirdata``
into the layout :class:`~mirbook.data.real.GuitarSet` and :class:`~mirbook.data.real.GTZAN` read.

Jamendo and MagnaTagATune have no mirdata loader; their adapters' messages say where to get them.
Book: "The data in this book", section "Switching a chapter to a real dataset".
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from mirbook.data.real import gtzan, jamendo, magnatagatune
from mirbook.data.real.base import default_root

__all__ = ["download", "DOWNLOADS", "MANUAL"]

#: mirbook's name -> (mirdata's loader name, the parts of the release the adapter reads).
DOWNLOADS = {
    "guitarset": ("guitarset", ["annotations", "audio_mic"]),
    "gtzan": ("gtzan_genre", ["all"]),
}
#: Datasets without a mirdata loader -> (their adapter, where to get them by hand).
MANUAL = {"jamendo": ("Jamendo", jamendo.URL), "magnatagatune": ("MagnaTagATune", magnatagatune.URL)}


def _mirdata():
    try:
        return importlib.import_module("mirdata")
    except ImportError as err:
        raise ImportError("mirbook.data.real.download needs mirdata: pip install 'mirbook[datasets]'") from err


def download(name: str, root: str | os.PathLike | None = None) -> Path:
    """Download dataset ``name`` ("guitarset" or "gtzan") with mirdata into ``root`` and return it.

    ``root`` defaults to :func:`~mirbook.data.real.default_root` of ``name``, where the adapters
    look when given no root, so ``GuitarSet()`` or ``GTZAN()`` reads the result directly. Only
    the parts an adapter reads are fetched (GuitarSet: JAMS annotations and the mono microphone
    audio). Jamendo and MagnaTagATune raise a ValueError that says where to get them by hand.
    """
    key = str(name).lower()
    if key in MANUAL:
        adapter, url = MANUAL[key]
        raise ValueError(f"{name} has no mirdata loader, so mirbook cannot download it: get it from {url} "
                         f"and unpack it as the docstring of mirbook.data.real.{adapter} shows.")
    if key not in DOWNLOADS:
        raise ValueError(f"unknown dataset {name!r}: download() fetches {sorted(DOWNLOADS)}; "
                         f"{sorted(MANUAL)} are installed by hand")
    loader, parts = DOWNLOADS[key]
    target = default_root(key) if root is None else Path(root)
    target.mkdir(parents=True, exist_ok=True)
    _mirdata().initialize(loader, data_home=str(target)).download(partial_download=parts, cleanup=True)
    if key == "gtzan":
        _lift_gtzan(target)
    return target


def _lift_gtzan(target: Path) -> None:
    """mirdata unpacks GTZAN under ``<data_home>/gtzan_genre/genres``; the adapter reads ``<root>/genres``."""
    nested = target / "gtzan_genre" / "genres"
    if nested.is_dir() and not (target / "genres").exists():
        nested.rename(target / "genres")
    if not (target / "genres").is_dir() and not (target / "genres_original").is_dir():
        raise FileNotFoundError(f"mirdata's GTZAN download left no genres/ folder under {target}; "
                                f"see {gtzan.URL}")
