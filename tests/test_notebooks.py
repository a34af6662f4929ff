"""Notebook policy (README "Contributing"): outputs stripped, Colab setup cell, parameters cell.

Also keeps the table of contents and the files on disk in step, so no chapter is orphaned.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").rglob("*.ipynb"))
NOTEBOOKS = [nb for nb in NOTEBOOKS if ".ipynb_checkpoints" not in nb.parts]


def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))
            walk(entry.get("chapters", []))

    walk(toc.get("parts", []))
    return files


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_there_are_notebooks():
    assert NOTEBOOKS, "book/ holds no notebooks: nbval would run nothing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_outputs_are_stripped(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{_id(path)}: cells {dirty} carry outputs or execution counts; run `make strip`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_first_cell_installs_mirbook_on_colab_from_the_configured_url(path):
    url = _config()["repository"]["url"]
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "code", f"{_id(path)}: the first cell must be the Colab setup cell"
    assert "remove-cell" in first.metadata.get("tags", []), f"{_id(path)}: setup cell must be tagged remove-cell"
    assert '"google.colab" in sys.modules' in first.source, f"{_id(path)}: setup cell must only act on Colab"
    urls = re.findall(r"git\+(\S+?)[\"']", first.source)
    assert urls == [url], f"{_id(path)}: setup cell installs from {urls}, _config.yml says {url}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_has_a_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{_id(path)}: expected exactly one cell tagged 'parameters', found {len(tagged)}"
    assigned = re.findall(r"^([A-Z][A-Z0-9_]*)\s*=", tagged[0].source, flags=re.M)
    assert assigned, f"{_id(path)}: the parameters cell assigns no UPPERCASE knobs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_last_code_cell_asserts(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "assert " in code[-1].source, f"{_id(path)}: the last code cell must assert the chapter's checks"


def test_every_toc_entry_exists_and_every_page_is_in_the_toc():
    toc = _toc_files()
    for entry in toc:
        matches = [p for p in (ROOT / f"{entry}.md", ROOT / f"{entry}.ipynb") if p.exists()]
        assert len(matches) == 1, f"_toc.yml entry {entry!r} must match exactly one .md or .ipynb, found {matches}"
    pages = {str(p.relative_to(ROOT).with_suffix("")) for p in (ROOT / "book").rglob("*") if p.suffix in (".md", ".ipynb")}
    pages = {p for p in pages if ".ipynb_checkpoints" not in p}
    assert pages - set(toc) == set(), f"pages missing from _toc.yml: {sorted(pages - set(toc))}"
