"""Compare the six reference models (paper Section 5.7): run every model chapter on the test world, 5 seeds.

Each model chapter (``book/models/<key>.ipynb``) is executed as it stands, with its CPU preset and
the book's synthetic data, once per seed, scoring the test world (``HELD_OUT = "test"``: the
world's test songs and the out-of-world test pieces, which the book's own runs never read): the
seed and ``HELD_OUT`` are injected after the chapter's ``parameters`` cell (as papermill does) and one cell appended at the end reads the ``RESULTS`` dict that the
chapter's last cell builds before asserting its bars, with a hash of the trained model's weights,
the torch thread count the chapter ran with and the hash of the package code its kernel imported. The chapter itself is the single
source of the training recipe, so the comparison always measures what the reader runs.

The runs are merged into ``mirbook/results/model_comparison.json`` (package data, written
atomically), one record per model and seed with where it comes from: the git commit and whether
``mirbook/`` or the chapter had uncommitted changes, the package and chapter hashes, the library,
generator and representation versions, the CPU, its core count and the torch threads, the date
and the load average. ``book/models/comparison.ipynb`` reads that file through
``mirbook.records``. Times are those of the machine named in each record; the machine is noisy,
so compare models measured in the same invocation.

Run: ``python benchmarks/model_comparison.py [--models conv2d_voice brnn_voice] [--seeds 0 1 2 3 4]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from mirbook.io import write_atomically
from mirbook.models import MODELS
from mirbook.records import chapter_fingerprint, environment, git_state

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "book" / "models"
OUTPUT = ROOT / "mirbook" / "results" / "model_comparison.json"
MARKER = "MIRBOOK_RESULTS "
READ_RESULTS = (
    "import json as _json\n"
    "import torch as _torch\n"
    "from mirbook.records import package_sha256 as _package_sha256, state_sha256 as _state_sha256\n"
    "_results = dict(RESULTS)\n"
    "_results['config'] = model.config\n"
    "_results['state_sha256'] = _state_sha256(model)\n"
    "_results['torch_threads'] = _torch.get_num_threads()\n"
    "_results['package_sha256'] = _package_sha256()\n"
    f"print({MARKER!r} + _json.dumps(_results, default=list))"
)


def parameterised_notebook(path: Path, parameters: dict) -> nbformat.NotebookNode:
    """The chapter with ``parameters`` injected after its parameters cell and a RESULTS reader appended."""
    nb = nbformat.read(path, as_version=4)
    where = [i for i, cell in enumerate(nb.cells) if "parameters" in cell.metadata.get("tags", [])]
    if len(where) != 1:
        raise ValueError(f"{path} must have exactly one cell tagged 'parameters'; found {len(where)}")
    source = "# injected by benchmarks/model_comparison.py\n" + "".join(
        f"{name} = {value!r}\n" for name, value in parameters.items())
    nb.cells.insert(where[0] + 1, nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]}))
    nb.cells.append(nbformat.v4.new_code_cell(READ_RESULTS))
    return nb


def execute_chapter(path: Path, parameters: dict, *, timeout: int) -> dict:
    """Execute a chapter in a fresh kernel with ``parameters``; its RESULTS plus threads, package hash,
    ``passed`` (no cell raised), ``error`` (the first one) and ``wall_seconds``."""
    nb = parameterised_notebook(path, parameters)
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
        raise RuntimeError(f"{path.name} with {parameters}: the chapter did not produce RESULTS "
                           f"({error or 'no output'})")
    record = json.loads(lines[-1][len(MARKER):])
    record.update(passed=not errors, error=error, wall_seconds=round(wall, 1))
    return record


def run_chapter(name: str, seed: int, *, timeout: int) -> dict:
    """Execute one chapter with one seed on the test world: its comparison record (RESULTS, provenance,
    environment)."""
    path = CHAPTERS / f"{name}.ipynb"
    if not path.exists():
        raise ValueError(f"no chapter notebook {path} for model {name!r}")
    source = {"chapter_sha256": chapter_fingerprint(path), **git_state([ROOT / "mirbook", path], root=ROOT)}
    record = execute_chapter(path, {"SEED": seed, "HELD_OUT": "test"}, timeout=timeout)
    record.update(source, **environment())
    record["machine"]["torch_threads"] = record.pop("torch_threads")
    return record


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
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
                  f"chapter {record['wall_seconds']:.0f} s, {record['machine']['torch_threads']} torch "
                  f"threads, {'dirty ' if record['dirty'] else ''}commit {record['commit'][:10]}, "
                  f"{'bars met' if record['passed'] else record['error']}", flush=True)
            # write after every run so that an interrupted comparison keeps what it measured
            write_atomically(args.output, (json.dumps(table, indent=1, sort_keys=True) + "\n").encode())
    print(f"wrote {args.output}")


if __name__ == "__main__":
    sys.exit(main())
