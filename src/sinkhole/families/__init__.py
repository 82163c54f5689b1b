"""Botnet families: what is known about each one's C&C channels and DGA.

Each built-in family lives in its own module here (`necurs.py`,
`kraken_v2.py` for `kraken-v2`) and ends in ``FAMILY = Family(...)``.
Modules are imported lazily, by name. Third-party packages add families
through the entry-point group ``sinkhole.families`` (each entry point names a
:class:`Family` object), or at run time with :func:`register`.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from importlib.metadata import entry_points

from sinkhole.dga import BaseDga
from sinkhole.exceptions import FamilyError
from sinkhole.types import ChannelKind, Decoder


@dataclass(frozen=True)
class Channel:
    """One way a bot finds its C&C, in the family's fallback order."""

    kind: ChannelKind
    domains: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    dga: BaseDga | None = None
    note: str = ""

    @property
    def seizable(self) -> bool:
        """Whether seizing names or addresses can close this channel."""
        return self.kind != "p2p"


@dataclass(frozen=True)
class Family:
    """A botnet family's reverse-engineered knowledge."""

    name: str
    summary: str
    channels: tuple[Channel, ...]
    references: tuple[str, ...] = ()
    synthetic: bool = False
    aliases: tuple[str, ...] = field(default=())
    decoders: tuple[Decoder, ...] = ()

    @property
    def dga(self) -> BaseDga | None:
        """The family's DGA, if one of its channels has one."""
        for channel in self.channels:
            if channel.dga is not None:
                return channel.dga
        return None

    def channel(self, kind: ChannelKind) -> Channel | None:
        """The first channel of `kind`, if the family has one."""
        for channel in self.channels:
            if channel.kind == kind:
                return channel
        return None


_registry: dict[str, Family] = {}
_state = {"loaded": False}


def register(family: Family) -> None:
    """Add a family (e.g. from a plug-in) to the registry."""
    _registry[family.name] = family


def _module_name(name: str) -> str:
    return name.lower().replace("-", "_")


def _load_all() -> None:
    if _state["loaded"]:
        return
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            _import_builtin(info.name)
    for ep in entry_points(group="sinkhole.families"):
        obj = ep.load()
        if not isinstance(obj, Family):
            raise FamilyError(f"entry point {ep.name!r} does not name a Family")
        register(obj)
    _state["loaded"] = True


def _import_builtin(module: str) -> Family | None:
    try:
        mod = importlib.import_module(f"{__name__}.{module}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__name__}.{module}":
            return None
        raise
    family = getattr(mod, "FAMILY", None)
    if not isinstance(family, Family):
        raise FamilyError(f"module {mod.__name__} has no FAMILY = Family(...)")
    register(family)
    return family


def get(name: str) -> Family:
    """The family called `name` (case-insensitive), or a FamilyError."""
    key = name.strip().lower()
    if key in _registry:
        return _registry[key]
    if key and key.replace("-", "").replace("_", "").isalnum():
        family = _import_builtin(_module_name(key))
        if family is not None and family.name == key:
            return family
    _load_all()
    for family in _registry.values():
        if key == family.name or key in family.aliases:
            return family
    raise FamilyError(name=name, known=", ".join(names()))


def names() -> list[str]:
    """Every known family name, sorted."""
    _load_all()
    return sorted(_registry)


def all_families() -> list[Family]:
    """Every known family, sorted by name."""
    return [_registry[n] for n in names()]
