"""The on-disk cache of rendered songs and computed features, keyed by content hashes.

Re-running a chapter should not re-render its songs nor recompute their spectrograms. Every
entry is one ``.npz`` file named by a SHA-256 hash of everything that determines it (the
generator's version and configuration, a song's seed and options, and for features the
frontend's configuration and filter weights), so a changed configuration never reads a stale
entry. Files are written to a temporary file in the same folder and renamed with
``os.replace`` (``mirbook.train.write_atomically``), so an interrupted run never leaves a
readable partial file. Book: "The data in this book".
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import torch

from mirbook.io import checkout_dir, write_atomically

__all__ = ["default_cache_dir", "content_hash", "frontend_fingerprint", "ArrayCache"]


def default_cache_dir() -> Path:
    """Where caches live: ``$MIRBOOK_CACHE_DIR`` if set; in a source checkout ``data/cache``
    (git-ignored) next to the package; otherwise ``~/.cache/mirbook``."""
    env = os.environ.get("MIRBOOK_CACHE_DIR")
    if env:
        return Path(env)
    checkout = checkout_dir()
    if checkout is not None:
        return checkout / "data" / "cache"
    return Path.home() / ".cache" / "mirbook"


def content_hash(config: dict) -> str:
    """SHA-256 (hex, 24 characters) of a JSON-serialisable configuration, key order ignored."""
    try:
        text = json.dumps(config, sort_keys=True, default=str)
    except TypeError as err:
        raise ValueError(f"cache configuration must be JSON-serialisable; got {config!r}") from err
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def frontend_fingerprint(frontend: torch.nn.Module) -> str:
    """A hash of a frontend's configuration: module types, their plain attributes, all weights.

    Two frontends that compute different features (another ``n_fft``, ``n_mels``, log mode or
    filter bank) get different fingerprints, so their cached features never mix; so do the same
    frontend under two versions of the code (``mirbook.representations.REPRESENTATION_VERSION``).
    """
    from mirbook.representations import REPRESENTATION_VERSION

    digest = hashlib.sha256(f"representations {REPRESENTATION_VERSION};".encode())
    for name, module in frontend.named_modules():
        plain = {k: v for k, v in sorted(vars(module).items())
                 if not k.startswith("_") and isinstance(v, (bool, int, float, str, tuple, type(None)))}
        digest.update(f"{name}:{type(module).__module__}.{type(module).__qualname__}:{plain!r};".encode())
    for name, tensor in frontend.state_dict().items():
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().to("cpu", torch.float64).contiguous().numpy().tobytes())
    return digest.hexdigest()[:24]


class ArrayCache:
    """A folder of ``<key>.npz`` entries, each a dict of numpy arrays, written atomically.

    ``directory=None`` disables caching (``load`` misses, ``save`` does nothing). An entry that
    cannot be read (e.g. a file truncated by another program) counts as a miss and is replaced.
    """

    def __init__(self, directory: str | os.PathLike | None):
        self.directory = None if directory is None else Path(directory)

    def path(self, key: str) -> Path:
        """The file an entry lives in."""
        if self.directory is None:
            raise ValueError("this cache is disabled (directory=None); it has no paths")
        if not key or not all(c.isalnum() or c in "-_" for c in key):
            raise ValueError(f"cache keys are alphanumeric (plus '-' and '_'); got {key!r}")
        return self.directory / f"{key}.npz"

    def load(self, key: str) -> dict[str, np.ndarray] | None:
        """The arrays stored under ``key``, or None when absent or unreadable."""
        if self.directory is None:
            return None
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as entry:
                return {name: entry[name] for name in entry.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError):
            return None

    def save(self, key: str, arrays: dict[str, np.ndarray]) -> Path | None:
        """Store ``arrays`` under ``key`` atomically; returns the path (None when disabled)."""
        if self.directory is None:
            return None
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return write_atomically(self.path(key), buffer.getvalue())
