"""Wordlists and tables that DGAs need, shipped in the package under data/dga/<family>/.

Each folder's README names where its lists come from. Lists load once per
process through importlib.resources, so they work from a wheel or a zip too.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from sinkhole.exceptions import DgaError


@lru_cache(maxsize=64)
def load(family: str, name: str) -> tuple[str, ...]:
    """The non-empty lines of data/dga/<family>/<name>.txt but `#` comments, in file order."""
    resource = files("sinkhole").joinpath("data", "dga", family, f"{name}.txt")
    try:
        text = resource.read_text(encoding="ascii")
    except FileNotFoundError:
        raise DgaError(f"{family}: wordlist {name!r} is not shipped") from None
    lines = (line.strip() for line in text.splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))
