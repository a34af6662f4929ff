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


def _release() -> str:
    """The book's release: `_config.yml`'s sphinx.config.release, which must equal the package version."""
    release = str(_config()["sphinx"]["config"]["release"])
    project = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), flags=re.M).group(1)
    assert release == project, f"_config.yml release {release} != pyproject.toml version {project}"
    return release


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_first_cell_installs_mirbook_on_colab_from_the_configured_url(path):
    url = _config()["repository"]["url"]
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "code", f"{_id(path)}: the first cell must be the Colab setup cell"
    assert "remove-cell" in first.metadata.get("tags", []), f"{_id(path)}: setup cell must be tagged remove-cell"
    assert '"google.colab" in sys.modules' in first.source, f"{_id(path)}: setup cell must only act on Colab"
    installs = re.findall(r"\"(mirbook\S*) @ git\+(\S+?)@(\S+?)\"", first.source)
    assert installs == [("mirbook", url, f"v{_release()}")], (
        f"{_id(path)}: setup cell installs {installs}; expected plain mirbook (no extras, which would make Colab "
        f"downgrade its own packages) from {url} at tag v{_release()} (_config.yml)")


TRAINING_CHAPTERS = [p for p in NOTEBOOKS if p.parent.name == "models" and p.stem != "comparison"]


def test_every_model_chapter_is_a_training_chapter():
    assert len(TRAINING_CHAPTERS) == 6, [p.stem for p in TRAINING_CHAPTERS]


@pytest.mark.parametrize("path", TRAINING_CHAPTERS, ids=_id)
def test_training_chapters_ask_colab_for_a_gpu(path):
    meta = nbformat.read(path, as_version=4).metadata
    assert meta.get("accelerator") == "GPU", f"{_id(path)}: notebook metadata needs \"accelerator\": \"GPU\" for Colab"
    assert meta.get("colab", {}).get("gpuType"), f"{_id(path)}: notebook metadata needs colab.gpuType"


# A number that reads as a measurement: a decimal (0.84, 1.5) or a percentage (44 %, 0.5%).
_MEASURED = re.compile(r"(?<![\w.])(\d+\.\d+|\d+(?:\.\d+)?\s?%)")
# Settings stated with their unit (22.05 kHz, 0.58 s, 1.5 dB) are parameters, not measurements.
_UNIT = re.compile(r"\s?(k?Hz|ms|s|dB|semitones?|octaves?)\b")


def _prose(text: str) -> str:
    """Markdown without code blocks, inline code, math and directives' option lines."""
    text = re.sub(r"^(```|~~~|:::).*?^\1\s*$", "", text, flags=re.M | re.S)
    text = re.sub(r"\$\$.*?\$\$", "", text, flags=re.S)
    text = re.sub(r"\$[^$\n]+\$", "", text)
    text = re.sub(r"`[^`\n]*`", "", text)
    text = re.sub(r"\{math\}`[^`]*`", "", text)
    # References to the paper's sections: "Section 5.7", "Sections 4.1 to 4.6", "(5.1)".
    text = re.sub(r"(Sections?|§)\s*\d+(\.\d+)*(\s*(,|and|to|or|-|–)\s*\d+(\.\d+)*)*", "", text)
    text = re.sub(r"\([1-9]\.\d(\.\d)?\)", "", text)
    return text


def measured_numbers(markdown: str) -> list[str]:
    """Numbers in Markdown prose that no cell computed: decimals and percentages outside code and math,
    except settings with a unit and paragraphs that cite their source ({cite:...}: published numbers)."""
    found = []
    for paragraph in re.split(r"\n\s*\n", _prose(markdown)):
        if "{cite" in paragraph:
            continue
        for match in _MEASURED.finditer(paragraph):
            number = match.group(1)
            if "%" not in number and _UNIT.match(paragraph, match.end()):
                continue
            found.append(number.strip())
    return found


def test_measured_numbers_finds_what_it_should():
    assert measured_numbers("scores about 0.84 instead of 0.89") == ["0.84", "0.89"]
    assert measured_numbers("holds 44 % of the power") == ["44 %"]
    assert measured_numbers("at 22.05 kHz, windows of 0.58 s") == []
    assert measured_numbers("a threshold `0.5` and $o > 0.3$") == []
    assert measured_numbers("```python\nx = 0.25\n```") == []
    assert measured_numbers("reported 0.894 ROC-AUC {cite:p}`choi2016automatic`") == []
    assert measured_numbers("version 3, 80 bands, Figure 13") == []
    assert measured_numbers("Section 5.7 and Sections 4.1 to 4.6; Depth (5.3)") == []


PAGES = NOTEBOOKS + sorted((ROOT / "book").rglob("*.md"))


@pytest.mark.parametrize("path", PAGES, ids=_id)
def test_prose_states_no_number_that_a_cell_did_not_compute(path):
    if path.suffix == ".md":
        texts = [path.read_text()]
    else:
        texts = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]
    numbers = [n for text in texts for n in measured_numbers(text)]
    assert not numbers, (
        f"{_id(path)}: Markdown states {numbers}: compute measured numbers in a cell (display a formatted "
        f"sentence), write settings with their unit or as code, and cite published ones in the same paragraph")


CHAPTERS = [p for p in NOTEBOOKS if p.stem != "comparison"]


@pytest.mark.parametrize("path", CHAPTERS, ids=_id)
def test_every_chapter_ends_with_exercises(path):
    cells = nbformat.read(path, as_version=4).cells
    headings = [i for i, c in enumerate(cells) if c.cell_type == "markdown"
                and re.search(r"^#+ .*Exercises", c.source, flags=re.M)]
    assert headings, f"{_id(path)}: no 'Exercises' section"
    later = [c for c in cells[headings[-1] + 1:] if c.cell_type == "markdown"]
    assert not any(re.search(r"^#+ ", c.source, flags=re.M) for c in later), (
        f"{_id(path)}: the Exercises section must be the chapter's last section")


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
