"""Measurements that ship with the package, so a chapter can quote them outside a checkout too.

``mirbook/results/gpu_presets.json`` holds each model's "paper" preset trained for a few epochs on a
GPU (time per epoch, peak memory; written by ``benchmarks/gpu_presets.py``). The model chapters
print these figures where they tell a reader what a GPU run costs (paper Section 5.7).

``mirbook/results/model_comparison.json`` holds every model chapter executed with three seeds
(written by ``benchmarks/model_comparison.py``), each record with where it comes from: the commit,
a hash of the package code, the chapter's code, the library versions, the CPU and the torch
threads. The comparison page ("Comparing the six models") reads and checks them.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import statistics
from functools import cache
from importlib import resources
from pathlib import Path

__all__ = ["gpu_timing", "gpu_timing_sentence", "load_records", "summarise", "chapter_fingerprint",
           "package_sha256", "state_sha256", "cpu_model", "PROVENANCE", "missing_provenance"]

# Where a comparison record comes from: (section of the record or None for the top level, field).
PROVENANCE = ((None, "commit"), (None, "dirty"), (None, "package_sha256"), (None, "chapter_sha256"),
              (None, "state_sha256"), ("versions", "representations"), ("versions", "generator"),
              ("versions", "torch"), ("versions", "numpy"), ("machine", "cpu_model"),
              ("machine", "cpu_count"), ("machine", "torch_threads"))


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


def load_records(path: str | os.PathLike | None = None) -> dict:
    """The comparison records ``{"runs": {model: {seed: record}}}`` ("Comparing the six models").

    ``path=None`` reads the file shipped with the package; a missing file is a ValueError that says
    how to make it.
    """
    source = resources.files("mirbook").joinpath("results", "model_comparison.json") if path is None \
        else Path(path)
    if not source.is_file():
        raise ValueError(f"{source} does not exist: run `python benchmarks/model_comparison.py` first")
    return json.loads(source.read_text())


def summarise(records: list[dict]) -> dict:
    """Mean and sample standard deviation over seeds of every metric and of the training time."""
    def stats(values):
        return (statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0)

    names = records[0]["metrics"]
    return {"seeds": sorted(r["seed"] for r in records), "parameters": records[0]["parameters"],
            "train_seconds": stats([r["train_seconds"] for r in records]),
            "metrics": {k: stats([r["metrics"][k] for r in records]) for k in names},
            "bars": records[0]["bars"], "passed": all(r["passed"] for r in records)}


def chapter_fingerprint(path: str | os.PathLike) -> str:
    """SHA-256 of a chapter notebook's code cells: a record is stale once the chapter's code changed.

    Markdown cells and outputs do not count, so prose edits and executed copies keep the fingerprint.
    """
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    sources = ("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
               for c in cells if c["cell_type"] == "code")
    return hashlib.sha256("\n\n".join(sources).encode()).hexdigest()


def package_sha256(root: str | os.PathLike | None = None) -> str:
    """SHA-256 of the package's code: every ``.py`` file under ``root``, by sorted relative path.

    ``root=None`` hashes the imported mirbook, wherever it is installed (a checkout or a wheel give
    the same hash for the same code). Each file contributes its relative path and its contents, so
    renaming, adding, removing or editing a file changes the hash; the order in which the file
    system lists files does not.
    """
    root = Path(__file__).resolve().parent if root is None else Path(root)
    files = sorted((p.relative_to(root).as_posix(), p) for p in root.rglob("*.py") if p.is_file())
    digest = hashlib.sha256()
    for name, path in files:
        digest.update(f"{name}\0{hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return digest.hexdigest()


def state_sha256(model) -> str:
    """SHA-256 of a model's state (names, dtypes, shapes and bytes of every parameter and buffer).

    Two runs that end with this hash equal trained bit for bit the same network; the comparison
    records carry it beside the metrics.
    """
    import torch

    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        value = tensor.detach().cpu().contiguous()
        digest.update(f"{name} {value.dtype} {tuple(value.shape)}\n".encode())
        digest.update(value.flatten().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def cpu_model() -> str:
    """The processor's name: ``model name`` of /proc/cpuinfo on Linux, else platform.processor()."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    return platform.processor() or platform.machine() or "unknown"


def missing_provenance(record: dict) -> list[str]:
    """The PROVENANCE fields a comparison record lacks, as ``section.field`` names (empty: complete)."""
    missing = []
    for section, field in PROVENANCE:
        where = record if section is None else record.get(section, {})
        if field not in where:
            missing.append(field if section is None else f"{section}.{field}")
    return missing
