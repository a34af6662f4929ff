"""Files that are written whole or not at all: atomic writes, ``.lab`` annotations, the checkout.

Checkpoints (``mirbook.train``), caches (``mirbook.data.cache``), ``.lab`` files
(``mirbook.predict``, every model chapter's "try it on your own music") and the comparison
records (``benchmarks/``) are all written through :func:`write_atomically`, so an interrupted
run never leaves a half-written file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["write_atomically", "write_lab", "checkout_dir"]


def write_atomically(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``.

    Readers never see a half-written file, even if the process dies mid-write (checkpoints
    here, ``.lab`` files in ``mirbook.predict``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_lab(path: str | os.PathLike, intervals, labels: Sequence[str] | str) -> Path:
    """Write ``start end label`` lines (tab-separated, seconds) to a ``.lab`` file, atomically.

    ``labels`` may be one string for every interval (e.g. ``"voice"`` for voiced intervals).
    The file reads back with ``mir_eval.io.load_labeled_intervals``.
    """
    intervals = np.asarray(intervals, dtype=float)
    if intervals.ndim != 2 or intervals.shape[1] != 2:
        raise ValueError(f"intervals must have shape (n, 2); got {intervals.shape}")
    labels = [labels] * len(intervals) if isinstance(labels, str) else list(labels)
    if len(labels) != len(intervals):
        raise ValueError(f"{len(intervals)} intervals but {len(labels)} labels")
    if np.any(intervals[:, 1] < intervals[:, 0]):
        raise ValueError("every interval must end after it starts")
    text = "".join(f"{start:.6f}\t{end:.6f}\t{label}\n" for (start, end), label in zip(intervals, labels))
    return write_atomically(path, text.encode("utf-8"))


def checkout_dir() -> Path | None:
    """The source checkout mirbook runs from (the folder holding ``pyproject.toml`` and ``data/``),
    or None for an installed package. Default cache and dataset folders live under its ``data/``."""
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file() and (checkout / "data").is_dir():
        return checkout
    return None
