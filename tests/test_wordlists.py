"""Shipped DGA wordlists load through one loader, comments dropped."""

from __future__ import annotations

import pytest

from sinkhole import wordlists
from sinkhole.exceptions import DgaError


def test_comment_lines_are_not_entries() -> None:
    tlds = wordlists.load("qsnatch", "tlds-b")
    assert len(tlds) == 30
    assert not any(entry.startswith("#") for entry in tlds)
    assert tlds[0] == "cf"


def test_a_missing_list_is_one_dga_error() -> None:
    with pytest.raises(DgaError, match="wordlist 'nope' is not shipped"):
        wordlists.load("qsnatch", "nope")


def test_every_data_file_is_shipped_by_the_package_data_globs() -> None:
    # setuptools expands each glob under the package and keeps files only (no recursion
    # into folders), so a data file in a new folder needs its own glob in pyproject.toml
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    package = root / "src" / "sinkhole"
    config = tomllib.loads((root / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["sinkhole"]
    shipped = {p for g in globs for p in package.glob(g) if p.is_file()}
    data = {p for p in (package / "data").rglob("*") if p.is_file()}
    assert sorted(str(p.relative_to(package)) for p in data - shipped) == []
