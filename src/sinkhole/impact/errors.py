"""The impact room's error."""

from __future__ import annotations

from sinkhole.exceptions import SinkholeError


class ImpactError(SinkholeError):
    """The mail evidence could not be read or analysed."""
