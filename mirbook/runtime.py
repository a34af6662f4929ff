"""Device selection, seeding and timing shared by every chapter (book: "First steps").

Everything in mirbook runs on CPU or CUDA without code changes: pass ``device="auto"``.
"""

from __future__ import annotations

import os
import random
import sys
import time
from contextlib import contextmanager

import numpy as np
import torch

__all__ = ["resolve_device", "seed_everything", "describe_device", "evaluation_mode", "median_seconds"]


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Return a ``torch.device``; ``"auto"`` picks CUDA when available, else the CPU.

    Used by ``mirbook.train`` and by the chapters' device printout.
    """
    if isinstance(device, torch.device):
        return device
    if not isinstance(device, str):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got {device!r}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got {device!r}") from err
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was requested but CUDA is not available; use 'auto' or 'cpu'")
    return resolved


def describe_device(device: str | torch.device = "auto") -> str:
    """One line naming the device (on CUDA, the GPU model) and, on a CPU, what to do for a GPU.

    Printed by every chapter's first visible cell, so a reader on a CPU runtime learns it before training:
    the ``cpu`` presets are sized for a CPU; ``PRESET = "paper"`` wants a GPU (on Colab: Runtime >
    Change runtime type > GPU, then run the notebook again).
    """
    resolved = resolve_device(device)
    if resolved.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(resolved)})"
    line = f"cpu ({os.cpu_count()} logical cores, {torch.get_num_threads()} torch threads)"
    if "google.colab" in sys.modules:
        return (line + ": this Colab runtime has no GPU. The cpu preset runs here; for PRESET = 'paper' choose "
                "Runtime > Change runtime type > GPU and run the notebook again.")
    return line + ": no CUDA GPU found. The cpu preset is sized for a CPU; PRESET = 'paper' needs a GPU."


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) so a chapter's run is repeatable.

    ``seed``: an int in ``[0, 2**64)``, torch's seed range (larger seeds are refused, not reduced,
    so two different seeds never give the same run). NumPy takes ``seed % 2**32``.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise ValueError(f"seed must be an int in [0, 2**64) (torch's seed range); got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


@contextmanager
def evaluation_mode(model: torch.nn.Module):
    """Run the block with ``model`` in eval mode and without autograd; restore its mode after.

    Every inference path (prediction, scoring, validation loss) uses this, so dropout and
    batch-norm statistics never leak from training into a score.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)


def median_seconds(fn, *, runs: int, warmup: int = 1) -> float:
    """Median wall-clock seconds of ``runs`` calls of ``fn()``, after ``warmup`` calls not counted.

    CUDA work is asynchronous, so when CUDA is in use each call is timed between two
    synchronisations. ``fn`` is called ``warmup + runs`` times in all. Chapters:
    ``book/representations.ipynb`` (the cost of each representation), ``book/practical_advice.ipynb``
    (the cost of each input setting).
    """
    if runs < 1 or warmup < 0:
        raise ValueError(f"median_seconds needs runs >= 1 and warmup >= 0; got runs={runs}, warmup={warmup}")
    synchronise = torch.cuda.synchronize if torch.cuda.is_available() and torch.cuda.is_initialized() else (lambda: None)
    samples = []
    for _ in range(warmup + runs):
        synchronise()
        start = time.perf_counter()
        fn()
        synchronise()
        samples.append(time.perf_counter() - start)
    return float(np.median(samples[warmup:]))
