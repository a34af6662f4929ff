"""Measurements that ship with the package, so a chapter can quote them outside a checkout too.

``mirbook/results/gpu_presets.json`` holds each model's "paper" preset trained for a few epochs on a
GPU (time per epoch, peak memory; written by ``benchmarks/gpu_presets.py``). The model chapters
print these figures where they tell a reader what a GPU run costs (paper Section 5.7).

``mirbook/results/model_comparison.json`` holds every model chapter executed with three seeds
(written by ``benchmarks/model_comparison.py``), each record with where it comes from: the commit,
a hash of the package code, the chapter's code, the library versions, the CPU and the torch
threads. The comparison page ("Comparing the six models") reads and checks them.

``mirbook/results/tagger_budgets.json`` holds the three taggers trained at equal parameter budgets
(written by ``benchmarks/tagger_budgets.py``; paper Section 5.7.2), each run with the same
provenance, a fingerprint of the benchmark file and the per-clip test outputs the paired tests of
``mirbook.intervals`` need. The comparison page reads it with :func:`load_budget_records` and checks
it with :func:`budget_record_problems`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import platform
import statistics
import subprocess
from datetime import datetime, timezone
from functools import cache
from importlib import resources
from pathlib import Path

__all__ = [
    "BUDGET_PROVENANCE",
    "PROVENANCE",
    "budget_record_problems",
    "chapter_fingerprint",
    "cpu_model",
    "decode_floats",
    "encode_floats",
    "environment",
    "file_sha256",
    "git_state",
    "gpu_timing",
    "gpu_timing_sentence",
    "load_budget_records",
    "load_records",
    "missing_provenance",
    "package_sha256",
    "state_sha256",
    "summarise",
]

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


def environment() -> dict:
    """Machine, load and library versions at the time of a run (every record of the benchmarks)."""
    import librosa
    import mir_eval
    import numpy
    import sklearn
    import torch

    import mirbook
    from mirbook.data import GENERATOR_VERSION
    from mirbook.representations import REPRESENTATION_VERSION

    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpu_model": cpu_model(), "cpu_count": os.cpu_count(),
                    "load_average_1min": round(os.getloadavg()[0], 2), "cuda": torch.cuda.is_available()},
        "versions": {"python": platform.python_version(), "mirbook": mirbook.__version__,
                     "generator": GENERATOR_VERSION, "representations": REPRESENTATION_VERSION,
                     "torch": torch.__version__, "numpy": numpy.__version__,
                     "librosa": librosa.__version__, "mir_eval": mir_eval.__version__,
                     "scikit-learn": sklearn.__version__},
    }


def git_state(paths: list[Path], root: Path) -> dict:
    """The commit checked out at ``root`` and whether ``paths`` differ from it (edited or untracked)."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout

    # the records files change while a benchmark runs: they are not a change to the code measured
    changes = git("status", "--porcelain", "--untracked-files=all", "--", *[str(p) for p in paths],
                  ":(exclude)mirbook/results")
    return {"commit": git("rev-parse", "HEAD").strip(), "dirty": bool(changes.strip())}


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes: the fingerprint of a benchmark script in its records."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def encode_floats(values) -> str:
    """An array as base64 of little-endian float32 bytes (compact per-clip outputs in a JSON record)."""
    import numpy as np

    return base64.b64encode(np.ascontiguousarray(values, dtype="<f4").tobytes()).decode("ascii")


def decode_floats(text: str, shape: tuple[int, ...]):
    """The float32 array of ``shape`` that :func:`encode_floats` wrote."""
    import numpy as np

    values = np.frombuffer(base64.b64decode(text), dtype="<f4")
    if values.size != int(np.prod(shape)):
        raise ValueError(f"the encoded array holds {values.size} values, not the {int(np.prod(shape))} "
                         f"of shape {shape}")
    return values.reshape(shape).astype(np.float32)


#: Where a tagger-budget run comes from: the comparison records' fields plus the benchmark file.
BUDGET_PROVENANCE = tuple(field for field in PROVENANCE if field[1] != "chapter_sha256") + \
    ((None, "benchmark_sha256"),)


def load_budget_records(path: str | os.PathLike | None = None) -> dict:
    """The tagger-budget records (comparison page; ``benchmarks/tagger_budgets.py``).

    ``{"settings", "test_set", "runs": {key: record}}``; ``path=None`` reads the file shipped with
    the package. A missing file is a ValueError that says how to make it.
    """
    source = resources.files("mirbook").joinpath("results", "tagger_budgets.json") if path is None \
        else Path(path)
    if not source.is_file():
        raise ValueError(f"{source} does not exist: run `python benchmarks/tagger_budgets.py` first")
    return json.loads(source.read_text())


def budget_record_problems(table: dict, *, benchmark: str | os.PathLike | None = None,
                           package: str | None = None) -> dict[str, list[str]]:
    """What keeps the tagger-budget records from being current, as ``{"stale", "unchecked"}`` sentences.

    "stale": a run that lacks a :data:`BUDGET_PROVENANCE` field, was made from uncommitted code, or
    whose ``benchmark_sha256`` differs from the file ``benchmark`` (the page flags these). A run whose
    package code differs from ``package`` (default: the installed mirbook's hash) is listed under
    "package" instead: the numbers were made by other package code, which the page says. Outside a
    checkout (``benchmark`` None or absent) "unchecked" says what cannot be checked.
    """
    package = package_sha256() if package is None else package
    problems = {"stale": [], "package": [], "unchecked": []}
    fingerprint = None
    if benchmark is not None and Path(benchmark).is_file():
        fingerprint = file_sha256(benchmark)
    else:
        problems["unchecked"].append("the benchmark file is not here, so the records cannot be checked "
                                     "against its code")
    for key, run in table["runs"].items():
        missing = [field if section is None else f"{section}.{field}" for section, field in BUDGET_PROVENANCE
                   if field not in (run if section is None else run.get(section, {}))]
        if missing:
            problems["stale"].append(f"{key}: no {', '.join(missing)}")
            continue
        if run["dirty"]:
            problems["stale"].append(f"{key}: made from a checkout with uncommitted changes")
        if fingerprint is not None and run["benchmark_sha256"] != fingerprint:
            problems["stale"].append(f"{key}: the benchmark file changed since this run")
        if run["package_sha256"] != package:
            problems["package"].append(key)
    return problems
