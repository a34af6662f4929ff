"""benchmarks/model_comparison.py: parameter injection and the provenance of each record (the comparison
page's input). A short chapter run reproduced in fresh kernels: tests/integration/test_reproducibility.py."""

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from mirbook.records import (chapter_fingerprint, cpu_model, missing_provenance, package_sha256,
                             state_sha256)
from mirbook.representations import REPRESENTATION_VERSION

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import model_comparison as mc  # noqa: E402


def _chapter(path, cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def test_parameters_are_injected_after_the_parameters_cell_and_results_read_at_the_end(tmp_path):
    path = _chapter(tmp_path / "chapter.ipynb",
                    [nbformat.v4.new_code_cell("import time"),
                     nbformat.v4.new_code_cell("SEED = 0\nEPOCHS = 3", metadata={"tags": ["parameters"]}),
                     nbformat.v4.new_code_cell("RESULTS = {'seed': SEED}")])
    nb = mc.parameterised_notebook(path, {"SEED": 2, "N_SONGS": {"train": 2}})
    assert nb.cells[0].source == "import time" and nb.cells[1].source.startswith("SEED = 0")
    assert nb.cells[2].metadata["tags"] == ["injected-parameters"]
    namespace = {}
    exec(nb.cells[2].source, namespace)
    assert namespace["SEED"] == 2 and namespace["N_SONGS"] == {"train": 2}
    assert mc.MARKER.strip() in nb.cells[-1].source and len(nb.cells) == 5


def test_a_chapter_without_exactly_one_parameters_cell_is_refused(tmp_path):
    path = _chapter(tmp_path / "chapter.ipynb", [nbformat.v4.new_code_cell("SEED = 0")])
    with pytest.raises(ValueError, match="exactly one cell tagged 'parameters'"):
        mc.parameterised_notebook(path, {"SEED": 1})


def _git(root, *args):
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root, check=True,
                          capture_output=True, text=True).stdout.strip()


TINY_MODEL = "class Model(torch.nn.Linear):\n    config = {'width': 3}\n\n\n"


def _repository(root):
    """A git repository with a package folder and a chapter, all committed."""
    (root / "mirbook").mkdir(parents=True)
    (root / "mirbook" / "a.py").write_text("x = 1\n")
    (root / "other.txt").write_text("elsewhere\n")
    chapter = _chapter(root / "book" / "models" / "tiny.ipynb", [
        nbformat.v4.new_code_cell("import torch\ntorch.set_num_threads(3)"),
        nbformat.v4.new_code_cell("SEED = 0\nHELD_OUT = 'ci'", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(TINY_MODEL + "torch.manual_seed(SEED)\nmodel = Model(2, 1)\n"
                                  "RESULTS = {'model': 'tiny', 'seed': SEED, 'held_out': HELD_OUT, 'metrics': {'score': 0.5 + SEED}}")])
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "tiny")
    return chapter


def test_git_state_names_the_commit_and_sees_changes_only_in_the_given_paths(tmp_path):
    chapter = _repository(tmp_path)
    paths = [tmp_path / "mirbook", chapter]
    head = _git(tmp_path, "rev-parse", "HEAD")
    assert mc.git_state(paths, root=tmp_path) == {"commit": head, "dirty": False}
    (tmp_path / "other.txt").write_text("changed\n")
    assert mc.git_state(paths, root=tmp_path) == {"commit": head, "dirty": False}
    (tmp_path / "mirbook" / "results").mkdir()
    (tmp_path / "mirbook" / "results" / "model_comparison.json").write_text("{}")  # the run's own output
    assert mc.git_state(paths, root=tmp_path) == {"commit": head, "dirty": False}
    (tmp_path / "mirbook" / "new.py").write_text("")  # untracked code counts
    assert mc.git_state(paths, root=tmp_path)["dirty"]
    (tmp_path / "mirbook" / "new.py").unlink()
    chapter.write_text(chapter.read_text().replace("0.5 + SEED", "0.25 + SEED"))
    assert mc.git_state(paths, root=tmp_path)["dirty"]


def test_a_record_says_where_it_comes_from(tmp_path, monkeypatch):
    chapter = _repository(tmp_path)
    monkeypatch.setattr(mc, "ROOT", tmp_path)
    monkeypatch.setattr(mc, "CHAPTERS", chapter.parent)
    before = package_sha256()
    record = mc.run_chapter("tiny", 3, timeout=120)
    assert missing_provenance(record) == []
    assert record["seed"] == 3 and record["metrics"] == {"score": 3.5} and record["config"] == {"width": 3}
    assert record["held_out"] == "test"  # the runner reports the test world, never the CI split
    assert record["commit"] == _git(tmp_path, "rev-parse", "HEAD") and record["dirty"] is False
    assert record["machine"]["torch_threads"] == 3  # what the chapter set (not the default), read in its kernel
    # the mirbook the kernel imported (before or after: a checkout may be edited meanwhile)
    assert record["package_sha256"] in {before, package_sha256()}
    assert record["chapter_sha256"] == chapter_fingerprint(chapter)
    namespace = {"torch": torch}
    exec(TINY_MODEL, namespace)
    torch.manual_seed(3)
    assert record["state_sha256"] == state_sha256(namespace["Model"](2, 1))  # the trained model's weights
    assert record["machine"]["cpu_model"] == cpu_model()
    assert record["versions"]["representations"] == REPRESENTATION_VERSION
    assert record["passed"] and record["error"] is None
    json.dumps(record)  # the comparison file can hold it
