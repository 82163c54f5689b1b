"""Domain generation algorithms: the shared base, parameters and date handling.

A DGA maps a date (and family parameters such as a seed) to the list of
domains a bot tries that day, in the bot's own order. Each family module
subclasses :class:`BaseDga`, fills in :class:`DgaInfo` and implements
:meth:`BaseDga.domains_for`, which returns the domains seeded by one period.

Some DGAs make a bot on day D try the lists of several neighbouring periods
(Pushdo walks from 30 days back to 14 days ahead). `DgaInfo.lookaround` says
so; :meth:`BaseDga.generate` then concatenates the neighbouring lists, and the
plan and the reverse index work on the per-period lists.

Two date ranges matter and are kept apart: the bot dates a model *can*
generate for (`BaseDga.bounds`, the algorithm's own limits and Python's
0001-01-01..9999-12-31, checked before any output), and the years a family
was *seen* active (`DgaInfo.active_years`, from the public record, the default
coverage of the reverse index).
"""

from __future__ import annotations

import abc
import datetime as dt
import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from sinkhole.exceptions import DgaError
from sinkhole.types import ParamValue, Seeding

#: The key every date maps to in a time-independent DGA.
TIMELESS = dt.date(1970, 1, 1)
#: How far `BaseDga.bounds` walks in from the calendar's ends (a month plus a lookaround).
_EDGE_PROBE = 400
_DATE_SHAPE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@dataclass(frozen=True)
class DgaParam:
    """One tunable input of a DGA (a seed, a key, a variant switch)."""

    name: str
    default: ParamValue
    help: str
    choices: tuple[ParamValue, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    def parse(self, raw: ParamValue) -> ParamValue:
        """Convert a value from the CLI or an operation file to this parameter's type."""
        value: ParamValue
        if isinstance(self.default, bool):
            value = _parse_bool(self.name, raw)
        elif isinstance(self.default, int):
            value = _parse_int(self.name, raw)
        else:
            value = str(raw)
        if isinstance(value, int) and not isinstance(value, bool):
            low = self.minimum if self.minimum is not None else value
            high = self.maximum if self.maximum is not None else value
            if not low <= value <= high:
                raise DgaError(f"parameter {self.name}={raw!r} is out of range {low}..{high}")
        if self.choices and value not in self.choices:
            allowed = ", ".join(str(c) for c in self.choices)
            raise DgaError(f"parameter {self.name}={raw!r} is not one of: {allowed}")
        return value


def _parse_bool(name: str, raw: ParamValue) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise DgaError(f"parameter {name}={raw!r} is not a boolean (true/false)")


def _parse_int(name: str, raw: ParamValue) -> int:
    if isinstance(raw, bool):
        raise DgaError(f"parameter {name}={raw!r} is not an integer")
    if isinstance(raw, int):
        return raw
    try:
        return int(str(raw).strip(), 0)
    except ValueError:
        raise DgaError(f"parameter {name}={raw!r} is not an integer") from None


Period = Literal[
    "daily", "2-day", "weekly", "4-day", "10-day", "20-day", "half-month", "monthly", "none"
]


@dataclass(frozen=True)
class DgaInfo:
    """What a DGA is, as an analyst would describe it."""

    period: Period
    per_period: int
    tlds: tuple[str, ...]
    seeding: Seeding
    params: tuple[DgaParam, ...] = ()
    lookaround: tuple[int, int] = (0, 0)
    reference: str = ""
    notes: str = ""
    #: First and last year the family's bots were seen using this DGA (public record; the
    #: module docstring cites it). None: unknown, and the reverse index covers recent years.
    active_years: tuple[int, int] | None = None
    #: False when a period's list length varies (Pitou's undefined last letters); per_period
    #: is then the most a period can hold.
    exact_count: bool = True

    @property
    def per_day(self) -> int:
        """How many domains (with repeats) a bot tries on one day."""
        before, after = self.lookaround
        return self.per_period * (after - before + 1)


class BaseDga(abc.ABC):
    """Shared behaviour of every DGA; subclasses implement `domains_for`."""

    name: ClassVar[str]
    info: ClassVar[DgaInfo]
    #: The bot dates the algorithm is defined for; `bounds` narrows it further so
    #: that neighbouring periods never fall off Python's calendar.
    supported: ClassVar[tuple[dt.date, dt.date]] = (dt.date.min, dt.date.max)

    @abc.abstractmethod
    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The domains seeded by one period, identified by its `period_start`."""

    def domains_for_keys(
        self, keys: Sequence[dt.date], params: Mapping[str, ParamValue]
    ) -> list[list[str]]:
        """The lists of several periods, in one call so that a DGA can compute them together."""
        return [self.domains_for(key, params) for key in keys]

    def period_start(self, date: dt.date) -> dt.date:
        """The first day of the period `date` falls in (the seeding key)."""
        if self.info.seeding == "time-independent":
            return TIMELESS
        return date

    def params(self, overrides: Mapping[str, ParamValue] | None = None) -> dict[str, ParamValue]:
        """Defaults merged with `overrides`, each checked and converted."""
        known = {p.name: p for p in self.info.params}
        values: dict[str, ParamValue] = {p.name: p.default for p in self.info.params}
        for key, raw in (overrides or {}).items():
            if key not in known:
                names = ", ".join(known) or "none"
                raise DgaError(f"{self.name} has no parameter {key!r} (parameters: {names})")
            values[key] = known[key].parse(raw)
        return values

    @functools.cached_property
    def bounds(self) -> tuple[dt.date, dt.date]:
        """The first and last bot date this DGA generates for."""
        low, high = self.supported
        # a period start or a lookaround neighbour of an edge day may lie outside the
        # calendar; walk inwards to the first day whose every key exists
        for _ in range(_EDGE_PROBE):
            if self._keys_exist(low):
                break
            low += dt.timedelta(days=1)
        for _ in range(_EDGE_PROBE):
            if self._keys_exist(high):
                break
            high -= dt.timedelta(days=1)
        return low, high

    def _keys_exist(self, date: dt.date) -> bool:
        try:
            self.keys_for_day(date)
        except (OverflowError, ValueError, DgaError):
            return False
        return True

    def check_dates(self, first: dt.date, last: dt.date) -> None:
        """A DgaError unless every bot date in [first, last] is within `bounds`."""
        low, high = self.bounds
        if first < low or last > high:
            span = str(first) if first == last else f"{first}..{last}"
            raise DgaError(f"{self.name} generates for bot dates {low}..{high} only, not {span}")

    def keys_for_day(self, date: dt.date) -> list[dt.date]:
        """The period keys whose lists a bot tries on `date`, in order."""
        before, after = self.info.lookaround
        return [self.period_start(date + dt.timedelta(days=k)) for k in range(before, after + 1)]

    def key_spans(self, first: dt.date, last: dt.date) -> dict[dt.date, tuple[dt.date, dt.date]]:
        """For each period key, the first and last bot day in [first, last] that uses it."""
        self.check_dates(first, last)
        spans: dict[dt.date, tuple[dt.date, dt.date]] = {}
        for offset in range((last - first).days + 1):
            day = first + dt.timedelta(days=offset)
            for key in self.keys_for_day(day):
                span = spans.get(key)
                spans[key] = (day, day) if span is None else (span[0], day)
        return spans

    def generate(self, date: dt.date, **params: ParamValue) -> list[str]:
        """Every domain a bot tries on `date`, in the bot's own order."""
        low, high = self.bounds
        if not low <= date <= high:
            self.check_dates(date, date)
        values = self.params(params)
        out: list[str] = []
        for key in self.keys_for_day(date):
            out.extend(self.domains_for(key, values))
        return out


def parse_date(text: str) -> dt.date:
    """A YYYY-MM-DD date, or a DgaError saying what was wrong."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        pass
    shape = _DATE_SHAPE.fullmatch(text.strip())
    if shape is None:
        raise DgaError(f"bad date {text!r}: expected YYYY-MM-DD") from None
    try:
        dt.date(*(int(part) for part in shape.groups()))
    except ValueError as exc:
        # well formed but impossible (2024-02-30): say why, not what shape to use
        raise DgaError(f"bad date {text!r}: not a real date: {exc}") from None
    raise DgaError(f"bad date {text!r}: expected YYYY-MM-DD")  # pragma: no cover


def date_span(start: dt.date, count: int) -> tuple[dt.date, dt.date]:
    """The first and last of `count` consecutive days from `start`, or a DgaError."""
    if count < 1:
        raise DgaError(f"{count} days: expected at least 1")
    try:
        return start, start + dt.timedelta(days=count - 1)
    except OverflowError:
        raise DgaError(
            f"{count} days from {start} run past {dt.date.max}, the last date there is"
        ) from None


def days(start: dt.date, count: int) -> Iterator[dt.date]:
    """`count` consecutive days from `start`."""
    for offset in range(count):
        yield start + dt.timedelta(days=offset)


def parse_params(pairs: list[str]) -> dict[str, str]:
    """KEY=VALUE strings from the command line to a dict."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise DgaError(f"bad parameter {pair!r}: expected KEY=VALUE")
        out[key.strip()] = value.strip()
    return out
