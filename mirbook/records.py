"""Measurements that ship with the package, so a chapter can quote them outside a checkout too.

``mirbook/results/gpu_presets.json`` holds each model's "paper" preset trained for a few epochs on a
GPU (time per epoch, peak memory; written by ``benchmarks/gpu_presets.py``). The model chapters
print these figures where they tell a reader what a GPU run costs (paper Section 5.7).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

__all__ = ["gpu_timing", "gpu_timing_sentence"]


@cache
def _gpu_presets() -> dict:
    return json.loads(resources.files("mirbook").joinpath("results", "gpu_presets.json").read_text())


def gpu_timing(model: str) -> dict:
    """The GPU measurement of ``model``'s paper preset, with the GPU, torch version and date added.

    Keys: ``epoch_seconds`` (median of the epochs after the first), ``seconds_per_1000_examples``,
    ``peak_memory_mib``, ``train_examples``, ``batch_size``, ``inputs`` ("synthetic songs" or
    "random features"), ``gpu``, ``torch``, ``date``. A ValueError names the models measured.
    """
    table = _gpu_presets()
    runs = {run["model"]: run for run in table["runs"]}
    if model not in runs:
        raise ValueError(f"no GPU measurement for model {model!r}; measured: {sorted(runs)}")
    return {**runs[model], "gpu": table["gpu"], "torch": table["torch"], "date": table["date"][:10]}


def gpu_timing_sentence(model: str) -> str:
    """One sentence a chapter prints: the paper preset's measured time per epoch and peak GPU memory."""
    t = gpu_timing(model)
    return (f"Measured on an {t['gpu']} (torch {t['torch']}, {t['date']}), the paper preset of {model} trains "
            f"in {t['epoch_seconds']:.2f} s per epoch of {t['train_examples']:,} {t['inputs']} examples "
            f"(batch {t['batch_size']}; {t['seconds_per_1000_examples']:.3f} s per 1,000 examples) and peaks "
            f"at {t['peak_memory_mib']:,.0f} MiB of GPU memory; scale by your dataset's size.")
