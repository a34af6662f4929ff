"""The package as a reader installs it: the sdist and wheel `python -m build` makes from this
checkout, the wheel installed in a fresh virtual environment and used from outside the checkout
(a chapter's smoke path, then the comparison page executed from a copy of its notebook), and the
project metadata that points readers at the published book.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import nbformat
import pytest
import yaml
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
BOOK_URL = CONFIG["html"]["baseurl"]
PYTHONS = ("3.10", "3.11", "3.12", "3.13")


@pytest.fixture(scope="module")
def dists(tmp_path_factory):
    """The sdist and the wheel built from it, with the build-system pyproject.toml declares."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], check=True,
                   capture_output=True, text=True, timeout=600)
    (sdist,), (wheel,) = sorted(out.glob("*.tar.gz")), sorted(out.glob("*.whl"))
    return sdist, wheel


@pytest.fixture(scope="module")
def fresh_venv(dists, tmp_path_factory):
    """A new virtual environment holding the built wheel; the heavy dependencies (torch, librosa,
    jupyter ...) are borrowed from the running environment through a .pth file, not downloaded."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = Path(subprocess.check_output(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    "--no-index", str(dists[1])], check=True, timeout=300)
    return venv


def _outside_env(tmp_path: Path) -> dict:
    """Environment for a process run outside the checkout: caches and data under ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(MIRBOOK_CACHE_DIR=str(tmp_path / "cache"), MIRBOOK_DATA_DIR=str(tmp_path / "data"),
               MPLBACKEND="Agg")
    return env


def test_the_sdist_holds_the_tests_their_conftest_and_the_citation(dists):
    sdist, _ = dists
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    tests = {p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").rglob("*.py")}
    assert "tests/conftest.py" in tests and tests <= names, sorted(tests - names)
    assert {"CITATION.cff", "LICENSE", "README.md", "pyproject.toml", "constraints.txt"} <= names
    shipped = {p.relative_to(ROOT).as_posix() for p in (ROOT / "mirbook" / "results").glob("*.json")}
    assert shipped and shipped <= names
    assert not any("__pycache__" in name for name in names)


def test_the_wheel_holds_the_package_and_its_records_and_declares_the_pythons(dists):
    _, wheel = dists
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = Parser().parsestr(archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
                                     .decode())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "mirbook").rglob("*.py")
               if "__pycache__" not in p.parts}
    assert modules <= names, sorted(modules - names)
    assert {p.relative_to(ROOT).as_posix() for p in (ROOT / "mirbook" / "results").glob("*.json")} <= names
    assert not any(name.startswith(("tests/", "book/", "benchmarks/")) for name in names)
    assert metadata["Version"] == PROJECT["version"] == str(CONFIG["sphinx"]["config"]["release"])
    requires = SpecifierSet(metadata["Requires-Python"])
    assert all(version in requires for version in PYTHONS)
    classifiers = set(metadata.get_all("Classifier"))
    assert {f"Programming Language :: Python :: {v}" for v in PYTHONS} <= classifiers
    assert f"Documentation, {BOOK_URL}" in metadata.get_all("Project-URL")


SMOKE = """
import json, sys
import numpy as np
import mirbook
from mirbook.models import MODELS
from mirbook.predict import predict
from mirbook.records import gpu_timing

sr = 22050
t = np.arange(2 * sr) / sr
audio = sum(0.2 * np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0)).astype(np.float32)
model = MODELS["deep_chroma"].from_preset("cpu")
intervals, labels = predict(model, audio, sr, smooth=3)
print(json.dumps({"file": mirbook.__file__, "timing": gpu_timing("deep_chroma"),
                  "intervals": intervals.tolist(), "labels": labels, "notation": model.notation,
                  "hop_seconds": model.hop_length / model.sample_rate}))
"""


def test_the_installed_wheel_runs_a_chapters_smoke_path_outside_the_checkout(fresh_venv, tmp_path):
    from mirbook.vocab import CHORD_LABELS

    run = subprocess.run([str(fresh_venv / "bin" / "python"), "-c", SMOKE], cwd=tmp_path, env=_outside_env(tmp_path),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert Path(out["file"]).is_relative_to(fresh_venv), f"imported {out['file']}, not the wheel's mirbook"
    presets = json.loads((ROOT / "mirbook" / "results" / "gpu_presets.json").read_text())
    measured = next(r for r in presets["runs"] if r["model"] == "deep_chroma")
    assert out["timing"]["epoch_seconds"] == measured["epoch_seconds"]
    assert out["timing"]["gpu"] == presets["gpu"]
    assert out["notation"] == "d2-d2-d2-d1"
    intervals = out["intervals"]
    assert intervals[0][0] == 0.0 and 2.0 - out["hop_seconds"] <= intervals[-1][1] <= 2.0
    assert all(a[1] == b[0] for a, b in zip(intervals, intervals[1:]))
    assert len(out["labels"]) == len(intervals) and set(out["labels"]) <= set(CHORD_LABELS)


def test_the_comparison_page_executes_from_a_copy_outside_the_checkout(fresh_venv, tmp_path, monkeypatch):
    """The page's notebook, copied alone to a folder outside the checkout, runs on a kernel of the
    fresh environment (the wheel's mirbook and its records); a last cell checks which mirbook ran."""
    from nbclient import NotebookClient

    page = nbformat.read(ROOT / "book" / "models" / "comparison.ipynb", as_version=4)
    page.cells.append(nbformat.v4.new_code_cell(
        "import mirbook, pathlib\n"
        f"assert pathlib.Path(mirbook.__file__).is_relative_to({str(fresh_venv)!r}), mirbook.__file__"))
    folder = tmp_path / "reader"
    folder.mkdir()
    nbformat.write(page, folder / "comparison.ipynb")
    kernels = tmp_path / "jupyter" / "kernels" / "mirbook-wheel"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(fresh_venv / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "mirbook from the wheel", "language": "python",
        "env": _outside_env(tmp_path)}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    NotebookClient(page, timeout=600, kernel_name="mirbook-wheel",
                   resources={"metadata": {"path": str(folder)}}).execute()
    assert not any(o.get("output_type") == "error" for c in page.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))


def test_the_book_address_is_in_one_place_and_everyone_quotes_it():
    assert re.fullmatch(r"https://[a-z0-9.-]+/([a-z0-9_-]+/)?", BOOK_URL), BOOK_URL
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["url"] == cff["preferred-citation"]["url"] == BOOK_URL
    assert PROJECT["urls"]["Documentation"] == BOOK_URL
    assert PROJECT["urls"]["Homepage"] == CONFIG["repository"]["url"]
    readme = (ROOT / "README.md").read_text()
    assert BOOK_URL in readme
    assert set(re.findall(r"https://[a-z0-9-]+\.github\.io/[^\s)>`\"]*", readme)) == {BOOK_URL}


def test_readme_and_environment_state_the_python_versions_pyproject_declares():
    readme = (ROOT / "README.md").read_text()
    assert f"Python {PYTHONS[0]}-{PYTHONS[-1]}" in readme
    assert SpecifierSet(PROJECT["requires-python"]).contains(
        str(yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"][0]).split("=")[1])
