"""Protocols and aliases shared across rooms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping
from typing import Literal, Protocol, runtime_checkable

ParamValue = int | str | bool
Params = Mapping[str, ParamValue]

ChannelKind = Literal["static-domains", "dns-servers", "dga", "static-ips", "p2p"]
CHANNEL_KINDS: tuple[ChannelKind, ...] = (
    "static-domains",
    "dns-servers",
    "dga",
    "static-ips",
    "p2p",
)

Seeding = Literal["time-dependent", "time-independent"]


@runtime_checkable
class Dga(Protocol):
    """A domain generation algorithm: a date (and parameters) to domains."""

    name: str

    def generate(self, date: dt.date, **params: ParamValue) -> list[str]:
        """Every domain a bot tries on `date`, in the bot's own order."""
        ...

    def period_start(self, date: dt.date) -> Hashable:
        """A key that is equal for every date on which the DGA seeds the same list."""
        ...
