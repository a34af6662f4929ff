"""Files that are written whole or not at all: atomic writes, ``.lab`` annotations, the checkout.

Checkpoints (``mirbook.train``), caches (``mirbook.data.cache``), ``.lab`` files
(``mirbook.predict``, every model chapter's "try it on your own music") and the comparison
records (``benchmarks/``) are all written through :func:`write_atomically`, so an interrupted
run never leaves a half-written file.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["write_atomically", "write_lab", "checkout_dir"]


def write_atomically(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and ``os.replace``.

    Readers never see a half-written file, even if the process dies mid-write (checkpoints,
    caches, ``.lab`` files, comparison records). A symbolic link is written through: its target
    file is replaced and the link stays. A new file gets the usual mode (0666 less the umask); a
    replaced file keeps its mode. Anything at ``path`` that is not a regular file (a folder, a
    FIFO, a device) is refused with a ValueError. Like every atomic save, replacing a file that
    has other hard links gives ``path`` a new file; the other links keep the old content.
    """
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        info = target.stat()
    except FileNotFoundError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{str(path)!r} exists and is not a regular file; refusing to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            os.fchmod(handle.fileno(), mode)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _umask() -> int:
    try:  # Linux states it; elsewhere set and restore it at once
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_lab(path: str | os.PathLike, intervals, labels: Sequence[str] | str) -> Path:
    """Write ``start end label`` lines (tab-separated, seconds) to a ``.lab`` file, atomically.

    ``labels`` may be one string for every interval (e.g. ``"voice"`` for voiced intervals).
    The file reads back with ``mir_eval.io.load_labeled_intervals``.
    """
    try:
        intervals = np.asarray(intervals, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"intervals must be numbers in seconds, shape (n, 2); got {intervals!r:.80}") from err
    if intervals.ndim != 2 or intervals.shape[1] != 2:
        raise ValueError(f"intervals must have shape (n, 2); got {intervals.shape}")
    if not np.isfinite(intervals).all():
        raise ValueError("intervals must be finite times in seconds; they hold NaN or infinite values")
    if not isinstance(labels, str) and not hasattr(labels, "__len__"):
        raise ValueError(f"labels must be a string or one string per interval; got {type(labels).__name__}")
    labels = [labels] * len(intervals) if isinstance(labels, str) else list(labels)
    if len(labels) != len(intervals):
        raise ValueError(f"{len(intervals)} intervals but {len(labels)} labels")
    if np.any(intervals[:, 1] < intervals[:, 0]):
        raise ValueError("intervals must each end after they start")
    for i, label in enumerate(labels):
        if not isinstance(label, str) or not label or any(c in label for c in "\t\n\r"):
            raise ValueError(f"label {i} must be a non-empty string without tabs or line breaks; got {label!r}")
    text = "".join(f"{start:.6f}\t{end:.6f}\t{label}\n" for (start, end), label in zip(intervals, labels))
    return write_atomically(path, text.encode("utf-8"))


def checkout_dir() -> Path | None:
    """The source checkout mirbook runs from (the folder holding ``pyproject.toml`` and ``data/``),
    or None for an installed package. Default cache and dataset folders live under its ``data/``."""
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file() and (checkout / "data").is_dir():
        return checkout
    return None
