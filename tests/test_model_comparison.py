"""benchmarks/model_comparison.py: seed injection, fingerprints and summaries (the comparison page's input)."""

import json
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import model_comparison as mc  # noqa: E402


def _chapter(tmp_path, cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    return path


def test_seed_is_injected_after_the_parameters_cell_and_results_read_at_the_end(tmp_path):
    path = _chapter(tmp_path, [nbformat.v4.new_code_cell("import time"),
                               nbformat.v4.new_code_cell("SEED = 0\nEPOCHS = 3", metadata={"tags": ["parameters"]}),
                               nbformat.v4.new_code_cell("RESULTS = {'seed': SEED}")])
    nb = mc.seeded_notebook(path, 2)
    assert nb.cells[0].source == "import time" and nb.cells[1].source.startswith("SEED = 0")
    assert nb.cells[2].source.startswith("SEED = 2") and nb.cells[2].metadata["tags"] == ["injected-parameters"]
    assert mc.MARKER.strip() in nb.cells[-1].source and len(nb.cells) == 5


def test_a_chapter_without_exactly_one_parameters_cell_is_refused(tmp_path):
    path = _chapter(tmp_path, [nbformat.v4.new_code_cell("SEED = 0")])
    with pytest.raises(ValueError, match="exactly one cell tagged 'parameters'"):
        mc.seeded_notebook(path, 1)


def test_fingerprint_follows_code_not_prose(tmp_path):
    code = nbformat.v4.new_code_cell("x = 1")
    first = mc.chapter_fingerprint(_chapter(tmp_path, [nbformat.v4.new_markdown_cell("one"), code]))
    prose = mc.chapter_fingerprint(_chapter(tmp_path, [nbformat.v4.new_markdown_cell("two"), code]))
    changed = mc.chapter_fingerprint(_chapter(tmp_path, [nbformat.v4.new_code_cell("x = 2")]))
    assert first == prose != changed


def test_summary_gives_mean_and_sample_sd_over_seeds():
    runs = [{"seed": s, "parameters": 10, "train_seconds": t, "metrics": {"acc": a}, "bars": {"acc": 0.5},
             "passed": True} for s, t, a in ((0, 10.0, 0.8), (1, 20.0, 0.9), (2, 30.0, 1.0))]
    summary = mc.summarise(runs)
    assert summary["seeds"] == [0, 1, 2] and summary["passed"]
    assert summary["train_seconds"] == pytest.approx((20.0, 10.0))
    assert summary["metrics"]["acc"] == pytest.approx((0.9, 0.1))


def test_missing_results_file_says_how_to_make_it(tmp_path):
    with pytest.raises(ValueError, match="run `python benchmarks/model_comparison.py`"):
        mc.load_results(tmp_path / "none.json")
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"runs": {}}))
    assert mc.load_results(path) == {"runs": {}}
