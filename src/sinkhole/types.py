"""Protocols and aliases shared across rooms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping, Sequence
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


#: Decoded bot fields: any of ``bot_id``, ``version``, ``machine_name``.
BotFields = dict[str, str]


@runtime_checkable
class Decoder(Protocol):
    """A family's check-in decoder: recognises its bots' requests and names the bot.

    Decoders are small pure functions of the bytes a listener received; they
    must return None (never raise) for anything that is not theirs. The
    replies are fixed, minimal and never executable: just enough to keep a
    bot talking (an empty ``http_reply`` means ``200 OK`` with no body; an
    empty ``raw_reply`` means the raw listeners stay silent).
    """

    #: The family name, as in the registry.
    name: str
    #: Body of the ``200 OK`` answer to this family's HTTP requests.
    http_reply: bytes
    #: What the raw TCP/UDP listeners answer to a decoded check-in.
    raw_reply: bytes

    def taste(self, data: bytes, port: int) -> float:
        """How sure (0.0-1.0) the decoder is that `data` sent to `port` is its family's."""
        ...

    def decode_http(
        self, method: bytes, url: bytes, headers: Sequence[tuple[bytes, bytes]], body: bytes
    ) -> BotFields | None:
        """Bot fields from one HTTP request (header names lowercase; body: its first bytes)."""
        ...

    def decode_raw(self, payload: bytes) -> BotFields | None:
        """Bot fields from the first bytes of a TCP connection or a UDP datagram."""
        ...
