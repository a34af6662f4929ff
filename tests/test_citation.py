"""CITATION.cff's preferred citation (the book) converted to BibTeX agrees with the cite page.

cffconvert cannot be installed beside jupyter-book's pins (it needs jsonschema < 4), so the
conversion follows its rules here: an entity author (``name:``) becomes one braced BibTeX name,
a person becomes "family, given"; pybtex, which the book's bibliography uses, parses both sides.
"""

from __future__ import annotations

import re
from pathlib import Path

import pybtex.database
import yaml

ROOT = Path(__file__).resolve().parents[1]
CFF = yaml.safe_load((ROOT / "CITATION.cff").read_text())
FIELDS = {"title": "title", "year": "year", "url": "url", "notes": "note"}


def _bibtex_name(author: dict) -> str:
    if "name" in author:
        return "{" + author["name"] + "}"
    return ", ".join(p for p in (author.get("family-names"), author.get("given-names")) if p)


def cff_to_bibtex(reference: dict, key: str) -> str:
    """A CFF reference (here ``preferred-citation``) as one BibTeX entry."""
    fields = {"author": " and ".join(_bibtex_name(a) for a in reference["authors"])}
    fields |= {bib: str(reference[cff]) for cff, bib in FIELDS.items() if cff in reference}
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields.items())
    return f"@{reference['type']}{{{key},\n{body}\n}}\n"


def _cite_page_entry():
    page = (ROOT / "book" / "cite.md").read_text()
    blocks = re.findall(r"```bibtex\n(.*?)```", page, flags=re.S)
    books = [pybtex.database.parse_string(b, "bibtex") for b in blocks if b.lstrip().startswith("@book")]
    assert len(books) == 1, "the cite page must give exactly one @book entry"
    ((key, entry),) = books[0].entries.items()
    return key, entry


def test_the_preferred_citation_is_the_book_by_one_entity_author():
    preferred = CFF["preferred-citation"]
    assert preferred["type"] == "book"
    assert {"type", "title", "authors"} <= set(preferred)
    assert preferred["authors"] == [{"name": "mirbook contributors"}]
    assert preferred["title"] == yaml.safe_load((ROOT / "_config.yml").read_text())["title"]


def test_the_converted_bibtex_keeps_the_author_as_one_name():
    entry = pybtex.database.parse_string(cff_to_bibtex(CFF["preferred-citation"], "k"), "bibtex").entries["k"]
    (person,) = entry.persons["author"]
    assert person.first_names == [] and person.last_names == ["{mirbook contributors}"]
    # without the entity braces BibTeX splits the words: "mirbook" becomes a "von" part, the last
    # name is "contributors" alone
    (split,) = pybtex.database.parse_string("@book{k, author = {mirbook contributors}}", "bibtex") \
        .entries["k"].persons["author"]
    assert split.prelast_names == ["mirbook"] and split.last_names == ["contributors"]


def test_the_cite_page_gives_the_converted_entry():
    key, page = _cite_page_entry()
    converted = pybtex.database.parse_string(cff_to_bibtex(CFF["preferred-citation"], key), "bibtex").entries[key]
    assert page.type == converted.type == "book"
    assert [str(p) for p in page.persons["author"]] == [str(p) for p in converted.persons["author"]]
    assert dict(page.fields) == dict(converted.fields)
    assert page.fields["year"] == str(CFF["date-released"])[:4]
