"""Benchmarks: `make bench` (python -m bench) prints figures and ratios."""

from __future__ import annotations

import tempfile

from sinkhole.events import private


def scratch(prefix: str = "sinkhole-bench-") -> tempfile.TemporaryDirectory[str]:
    """A temporary folder in the per-user private cache (0700): emulated victims' addresses
    and reports never sit in a shared /tmp."""
    return tempfile.TemporaryDirectory(prefix=prefix, dir=private.scratch_base())
