"""Compare the six reference models (paper Section 5.7): run every model chapter with 3 seeds.

Each model chapter (``book/models/<key>.ipynb``) is executed as it stands, with its CPU preset and
the book's synthetic data, once per seed: the seed is injected after the chapter's ``parameters``
cell (as papermill does) and one cell appended at the end reads the ``RESULTS`` dict that the
chapter's last cell builds before asserting its bars. The chapter itself is the single source of
the training recipe, so the comparison always measures what the reader runs.

The runs are merged into ``benchmarks/results/model_comparison.json`` (written atomically), one
record per model and seed with the date, the machine, the load average and the library versions
at the time of the run; ``book/models/comparison.ipynb`` reads that file. Times are those of
the machine named in each record; the machine is noisy, so compare models measured in the same
invocation.

Run: ``python benchmarks/model_comparison.py [--models conv2d_voice brnn_voice] [--seeds 0 1 2]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbclient import NotebookClient

import mirbook
from mirbook.data import GENERATOR_VERSION
from mirbook.models import MODELS
from mirbook.io import write_atomically

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "book" / "models"
OUTPUT = ROOT / "benchmarks" / "results" / "model_comparison.json"
MARKER = "MIRBOOK_RESULTS "
READ_RESULTS = (
    "import json as _json\n"
    "_results = dict(RESULTS)\n"
    "_results['config'] = model.config\n"
    f"print({MARKER!r} + _json.dumps(_results, default=list))"
)


def environment() -> dict:
    """Machine, load and library versions at the time of a run."""
    import librosa
    import mir_eval
    import numpy
    import sklearn
    import torch

    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpu_count": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2),
                    "cuda": torch.cuda.is_available()},
        "versions": {"python": platform.python_version(), "mirbook": mirbook.__version__,
                     "generator": GENERATOR_VERSION, "torch": torch.__version__, "numpy": numpy.__version__,
                     "librosa": librosa.__version__, "mir_eval": mir_eval.__version__,
                     "scikit-learn": sklearn.__version__},
    }


def chapter_fingerprint(path: Path) -> str:
    """SHA-256 of a chapter's code cells: a record is stale once the chapter's code has changed."""
    nb = nbformat.read(path, as_version=4)
    code = "\n\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    return hashlib.sha256(code.encode()).hexdigest()


def load_results(path: Path = OUTPUT) -> dict:
    """The comparison file: ``{"runs": {model: {seed: record}}}``; a clear error if it is missing."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path} does not exist: run `python benchmarks/model_comparison.py` first")
    return json.loads(path.read_text())


def summarise(records: list[dict]) -> dict:
    """Mean and sample standard deviation over seeds of every metric and of the training time."""
    def stats(values):
        return (statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0)

    names = records[0]["metrics"]
    return {"seeds": sorted(r["seed"] for r in records), "parameters": records[0]["parameters"],
            "train_seconds": stats([r["train_seconds"] for r in records]),
            "metrics": {k: stats([r["metrics"][k] for r in records]) for k in names},
            "bars": records[0]["bars"], "passed": all(r["passed"] for r in records)}


def seeded_notebook(path: Path, seed: int) -> nbformat.NotebookNode:
    """The chapter with ``SEED = seed`` injected after its parameters cell and a RESULTS reader appended."""
    nb = nbformat.read(path, as_version=4)
    where = [i for i, cell in enumerate(nb.cells) if "parameters" in cell.metadata.get("tags", [])]
    if len(where) != 1:
        raise ValueError(f"{path} must have exactly one cell tagged 'parameters'; found {len(where)}")
    injected = nbformat.v4.new_code_cell(f"SEED = {seed}  # injected by benchmarks/model_comparison.py",
                                         metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(where[0] + 1, injected)
    nb.cells.append(nbformat.v4.new_code_cell(READ_RESULTS))
    return nb


def run_chapter(name: str, seed: int, *, timeout: int) -> dict:
    """Execute one chapter with one seed; its RESULTS, whether its asserts passed, and the wall time."""
    path = CHAPTERS / f"{name}.ipynb"
    if not path.exists():
        raise ValueError(f"no chapter notebook {path} for model {name!r}")
    nb = seeded_notebook(path, seed)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    wall = time.perf_counter() - start
    errors = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
              if out.get("output_type") == "error"]
    lines = [line for out in nb.cells[-1].get("outputs", []) if out.get("output_type") == "stream"
             for line in out.get("text", "").splitlines() if line.startswith(MARKER)]
    error = f"{errors[0]['ename']}: {errors[0]['evalue']}" if errors else None
    if not lines:
        raise RuntimeError(f"{name} seed {seed}: the chapter did not produce RESULTS ({error or 'no output'})")
    record = json.loads(lines[-1][len(MARKER):])
    record.update(chapter_sha256=chapter_fingerprint(path), passed=not errors, error=error,
                  wall_seconds=round(wall, 1), **environment())
    return record


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    args = parser.parse_args(argv)

    for name in args.models:
        for seed in args.seeds:
            record = run_chapter(name, seed, timeout=args.timeout)
            # re-read just before writing: another comparison may have recorded other models meanwhile
            table = json.loads(args.output.read_text()) if args.output.exists() else {"runs": {}}
            table["runs"].setdefault(name, {})[str(seed)] = record
            metrics = ", ".join(f"{k} {v:.3f}" for k, v in record["metrics"].items())
            print(f"{name:14s} seed {seed}: {metrics}; training {record['train_seconds']:.0f} s, "
                  f"chapter {record['wall_seconds']:.0f} s, {'bars met' if record['passed'] else record['error']}",
                  flush=True)
            # write after every run so that an interrupted comparison keeps what it measured
            write_atomically(args.output, (json.dumps(table, indent=1, sort_keys=True) + "\n").encode())
    print(f"wrote {args.output}")


if __name__ == "__main__":
    sys.exit(main())
