"""mirbook.records in detail: the summary's first-record fields and edge spreads, the exact keys of a
run's environment, git state in a scratch repository, and the budget records' messages."""

import json
import re
import subprocess
from pathlib import Path

import nbformat
import numpy as np
import pytest

from mirbook import records

GPU_PRESETS = Path(records.__file__).resolve().parent / "results" / "gpu_presets.json"
BUDGETS = GPU_PRESETS.with_name("tagger_budgets.json")


def _run(seed, metrics, parameters=10, bars=None, seconds=10.0):
    return {"seed": seed, "parameters": parameters, "train_seconds": seconds, "metrics": metrics,
            "bars": bars or {"acc": 0.5}, "passed": True}


def test_summary_of_one_seed_has_no_spread_and_of_two_the_sample_sd():
    one = records.summarise([_run(0, {"acc": 0.8})])
    assert one["metrics"]["acc"] == (0.8, 0.0) and one["train_seconds"] == (10.0, 0.0)
    two = records.summarise([_run(0, {"acc": 0.8}), _run(1, {"acc": 0.6}, seconds=14.0)])
    assert two["metrics"]["acc"] == pytest.approx((0.7, np.sqrt(0.02)))
    assert two["train_seconds"] == pytest.approx((12.0, np.sqrt(8.0)))


def test_summary_takes_sizes_bars_and_metric_names_from_the_first_record():
    first = _run(0, {"acc": 0.8}, parameters=10, bars={"acc": 0.5})
    second = _run(1, {"acc": 0.6, "extra": 1.0}, parameters=11, bars={"acc": 0.7})
    summary = records.summarise([first, second])
    assert set(summary) == {"seeds", "parameters", "train_seconds", "metrics", "bars", "passed"}
    assert summary["parameters"] == 10 and summary["bars"] == {"acc": 0.5}
    assert set(summary["metrics"]) == {"acc"}


def test_environment_has_exactly_the_documented_fields():
    env = records.environment()
    assert set(env) == {"date", "machine", "versions"}
    assert set(env["machine"]) == {"platform", "processor", "cpu_model", "cpu_count", "load_average_1min", "cuda"}
    assert set(env["versions"]) == {"python", "mirbook", "generator", "representations", "torch", "numpy",
                                    "librosa", "mir_eval", "scikit-learn"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", env["date"]), env["date"]
    load = env["machine"]["load_average_1min"]
    assert isinstance(load, float) and round(load, 2) == load and env["machine"]["processor"]


def _repository(root):
    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root, check=True,
                       capture_output=True)
    git("init", "-q")
    (root / "mirbook" / "results").mkdir(parents=True)
    (root / "mirbook" / "code.py").write_text("x = 1\n")
    (root / "mirbook" / "results" / "records.json").write_text("{}\n")
    git("add", ".")
    git("commit", "-q", "-m", "a")
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True,
                          text=True).stdout.strip()


def test_git_state_is_the_commit_as_text_and_ignores_only_the_records_folder(tmp_path):
    head = _repository(tmp_path)
    paths = [tmp_path / "mirbook"]
    assert records.git_state(paths, tmp_path) == {"commit": head, "dirty": False}
    assert re.fullmatch(r"[0-9a-f]{40}", head)
    (tmp_path / "mirbook" / "results" / "records.json").write_text('{"runs": {}}\n')  # new records: not dirty
    (tmp_path / "mirbook" / "results" / "new.json").write_text("{}\n")
    assert records.git_state(paths, tmp_path)["dirty"] is False
    (tmp_path / "mirbook" / "new_module.py").write_text("y = 2\n")  # untracked code: dirty
    assert records.git_state(paths, tmp_path)["dirty"] is True


def test_git_state_outside_a_repository_is_an_error(tmp_path):
    with pytest.raises(subprocess.CalledProcessError):
        records.git_state([tmp_path], tmp_path)


def test_chapter_fingerprint_reads_sources_written_as_one_string_or_as_lines(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("a = 1\nb = 'é'\n"),
                                         nbformat.v4.new_markdown_cell("words")])
    as_string, as_lines = tmp_path / "string.ipynb", tmp_path / "lines.ipynb"
    as_string.write_text(json.dumps(nb), encoding="utf-8")
    nb.cells[0].source = ["a = 1\n", "b = 'é'\n"]
    as_lines.write_text(json.dumps(nb), encoding="utf-8")
    assert records.chapter_fingerprint(as_string) == records.chapter_fingerprint(as_lines)


def test_decoded_floats_are_float32():
    values = records.decode_floats(records.encode_floats(np.array([[0.5, 1.0]])), (1, 2))
    assert values.dtype == np.float32 and values.tolist() == [[0.5, 1.0]]


def test_gpu_timing_dates_are_the_day_of_the_measurement():
    day = json.loads(GPU_PRESETS.read_text())["date"][:10]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", day)
    assert {records.gpu_timing(run["model"])["date"] for run in json.loads(GPU_PRESETS.read_text())["runs"]} == {day}


def test_the_shipped_budget_records_are_read_by_default():
    assert records.load_budget_records() == json.loads(BUDGETS.read_text())


def test_budget_problems_name_every_missing_field_of_a_run_and_compare_the_package_given():
    expected = ", ".join(field if section is None else f"{section}.{field}"
                         for section, field in records.BUDGET_PROVENANCE)
    problems = records.budget_record_problems({"runs": {"k": {}}}, package="p")
    assert problems["stale"] == [f"k: no {expected}"]
    assert "machine.cpu_model" in expected and "benchmark_sha256" in expected
    complete = {field: "p" if field == "package_sha256" else False if field == "dirty" else "x"
                for section, field in records.BUDGET_PROVENANCE if section is None}
    complete.update({section: {f: "x" for s, f in records.BUDGET_PROVENANCE if s == section}
                     for section in {s for s, _ in records.BUDGET_PROVENANCE if s is not None}})
    assert records.budget_record_problems({"runs": {"k": complete}}, package="p")["package"] == []
    assert records.budget_record_problems({"runs": {"k": complete}}, package="q")["package"] == ["k"]
