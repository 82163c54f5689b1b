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
