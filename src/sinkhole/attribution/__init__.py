"""IP -> network: ASN, AS name, announced prefix, country and abuse contact.

One lookup interface over offline datasets the user points to; one module per
dataset format (pyasn, iptoasn, ip-location-db, MaxMind DB, RIR delegated,
RPSL, overrides), chosen by the file's content. Each dataset becomes a table of
sorted, flattened intervals (`table`), looked up for many addresses at once
with numpy. Across datasets the most specific prefix wins per attribute, the
overrides CSV wins over all, and every attribute records the dataset it came
from. The lab dataset shipped with sinkhole (an overrides CSV) maps
127.0.0.0/8 sub-ranges to fictional networks, so the demo, the emulator and
the tests run without any download.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.resources import as_file, files
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from sinkhole.attribution import (
    addresses,
    delegated,
    iplocationdb,
    iptoasn,
    mmdb,
    overrides,
    pyasn,
    rpsl,
)
from sinkhole.attribution.addresses import Addresses
from sinkhole.attribution.table import FIELDS, AttributionError, Table, head

__all__ = ["COLUMNS", "Attribution", "AttributionError", "Attributor", "Network", "Table"]

#: The columns of an attribution, in output order.
COLUMNS = ("ip", "asn", "as_name", "prefix", "country", "abuse_contact", "source")

#: Text formats, tried in this order on a file's first bytes (MaxMind DB is told by its tail).
TEXT_FORMATS: tuple[ModuleType, ...] = (overrides, rpsl, delegated, pyasn, iptoasn, iplocationdb)

#: Per-attribute score bonus that makes an overrides dataset beat any prefix length.
_OVERRIDE = 1 << 20
_NONE = -(1 << 40)


@dataclass(frozen=True)
class Network:
    """What is known about the network an address belongs to."""

    prefix: str
    asn: int
    as_name: str
    country: str
    abuse_contact: str


def detect(path: Path) -> str:
    """The format of a dataset file, from its content."""
    if not path.is_file():
        raise AttributionError(f"{path}: no such attribution dataset file")
    if mmdb.taste(path):
        return mmdb.KIND
    start = head(path)
    for module in TEXT_FORMATS:
        if module.taste(start):
            return str(module.KIND)
    raise AttributionError(
        f"{path}: not an attribution dataset sinkhole knows (pyasn .dat, iptoasn TSV, "
        "ip-location-db CSV, MaxMind DB, RIR delegated stats, RPSL dump, overrides CSV)"
    )


def load(path: Path | str, name: str | None = None) -> Table:
    """One dataset file as a table, its format detected from its content."""
    path = Path(path)
    kind = detect(path)
    module = mmdb if kind == mmdb.KIND else next(m for m in TEXT_FORMATS if kind == m.KIND)
    table: Table = module.load(path, name or path.name)
    return table


@dataclass
class Attribution:
    """The attribution of many addresses: one entry per valid address, in input order."""

    ip: npt.NDArray[np.object_]
    asn: npt.NDArray[np.int64]
    as_name: npt.NDArray[np.object_]
    prefix: npt.NDArray[np.object_]
    country: npt.NDArray[np.object_]
    abuse_contact: npt.NDArray[np.object_]
    source: npt.NDArray[np.object_]
    #: texts that were not addresses: their count and the first few
    invalid: int = 0
    examples: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.ip)

    def to_arrow(self) -> pa.Table:
        """The rows as an Arrow table (ASN null where unknown)."""
        return pa.table(
            {
                "ip": pa.array(self.ip, pa.string()),
                "asn": pa.array(self.asn, pa.int64(), mask=self.asn == 0),
                "as_name": pa.array(self.as_name, pa.string()),
                "prefix": pa.array(self.prefix, pa.string()),
                "country": pa.array(self.country, pa.string()),
                "abuse_contact": pa.array(self.abuse_contact, pa.string()),
                "source": pa.array(self.source, pa.string()),
            }
        )

    def rows(self) -> list[dict[str, Any]]:
        """The rows as dicts (ASN None where unknown)."""
        rows: list[dict[str, Any]] = self.to_arrow().to_pylist()
        return rows


class Attributor:
    """Datasets in priority order, answering for many addresses at once."""

    def __init__(self, tables: Iterable[Table]) -> None:
        given = list(tables)
        # overrides first: on equal scores argmax keeps the first
        self.tables = [t for t in given if t.kind == overrides.KIND] + [
            t for t in given if t.kind != overrides.KIND
        ]

    @property
    def networks(self) -> list[Network]:
        """The prefixes of the overrides datasets (the lab table's rows)."""
        nets = []
        for table in self.tables:
            if table.kind != overrides.KIND:
                continue
            prefixes = table.prefixes(np.arange(len(table), dtype=np.int64))
            cols = table.columns
            for rec in range(len(table)):
                nets.append(
                    Network(
                        str(prefixes[rec]),
                        int(cols["asn"][rec]),
                        str(cols["as_name"][rec]),
                        str(cols["country"][rec]),
                        str(cols["abuse_contact"][rec]),
                    )
                )
        return nets

    def lookup(self, ip: str) -> Network | None:
        """The network holding one address, or None (not an address, or no dataset covers it)."""
        found = self.attribute([ip])
        if not len(found) or not found.source[0]:
            return None
        return Network(
            str(found.prefix[0]),
            int(found.asn[0]),
            str(found.as_name[0]),
            str(found.country[0]),
            str(found.abuse_contact[0]),
        )

    def attribute(self, texts: Sequence[str | None] | pa.Array) -> Attribution:
        """Attribute addresses given as text; what is not an address is counted and left out."""
        return self.attribute_parsed(addresses.parse(texts))

    def attribute_parsed(self, addrs: Addresses) -> Attribution:
        """Attribute parsed addresses."""
        n = len(addrs)
        recs = [_find(table, addrs) for table in self.tables]
        # per attribute: which table answers each address (-1: none), by specificity
        choice: dict[str, npt.NDArray[np.int64]] = {}
        values: dict[str, npt.NDArray[Any]] = {}
        for name in FIELDS:
            scores = np.full((len(self.tables) + 1, n), _NONE, dtype=np.int64)
            for k, (table, rec) in enumerate(zip(self.tables, recs, strict=True)):
                safe = np.maximum(rec, 0)
                column = table.columns[name]
                known = (column[safe] != 0) if name == "asn" else (column[safe] != "")
                known &= rec >= 0
                bonus = _OVERRIDE if table.kind == overrides.KIND else 0
                scores[k + 1] = np.where(known, table.spec[safe] + bonus, _NONE)
            best = np.argmax(scores, axis=0) - 1  # row 0 (never above _NONE) means nobody
            choice[name] = best
            out: npt.NDArray[Any] = (
                np.zeros(n, dtype=np.int64) if name == "asn" else np.full(n, "", dtype=object)
            )
            for k, (table, rec) in enumerate(zip(self.tables, recs, strict=True)):
                mask = best == k
                out[mask] = table.columns[name][rec[mask]]
            values[name] = out
        # the prefix is the range of the record that gave the ASN (else the country, the contact)
        prefix_from = choice["asn"].copy()
        for name in ("country", "abuse_contact", "as_name"):
            prefix_from = np.where(prefix_from >= 0, prefix_from, choice[name])
        prefix = np.full(n, "", dtype=object)
        for k, (table, rec) in enumerate(zip(self.tables, recs, strict=True)):
            mask = prefix_from == k
            if mask.any():
                prefix[mask] = table.prefixes(rec[mask])
        self._per_asn(values, choice)
        choice["prefix"] = prefix_from
        return Attribution(
            addrs.text,
            values["asn"],
            values["as_name"],
            prefix,
            values["country"],
            values["abuse_contact"],
            self._sources(choice, n),
            addrs.invalid,
            tuple(addrs.examples),
        )

    def _per_asn(
        self, values: dict[str, npt.NDArray[Any]], choice: dict[str, npt.NDArray[np.int64]]
    ) -> None:
        """Override rows that name an ASN set their fields on every address of that ASN."""
        for k, table in enumerate(self.tables):
            if not table.by_asn:
                continue
            hits = np.isin(values["asn"], np.fromiter(table.by_asn, dtype=np.int64))
            if not hits.any():
                continue
            for asn in np.unique(values["asn"][hits]).tolist():
                mask = values["asn"] == asn
                for name, value in table.by_asn[int(asn)].items():
                    values[name][mask] = value
                    choice[name][mask] = k

    def _sources(self, choice: dict[str, npt.NDArray[np.int64]], n: int) -> npt.NDArray[np.object_]:
        """Per address: `name` when one dataset gave everything, else `name:field/field;…`."""
        order = ("asn", "as_name", "prefix", "country", "abuse_contact")
        base = len(self.tables) + 1
        code = np.zeros(n, dtype=np.int64)
        for name in order:
            code = code * base + (choice[name] + 1)
        combos, inverse = np.unique(code, return_inverse=True)
        texts = []
        for combo in combos.tolist():
            picks: dict[str, int] = {}
            rest = combo
            for name in reversed(order):
                rest, pick = divmod(rest, base)
                picks[name] = pick - 1
            by_table: dict[int, list[str]] = {}
            for name in order:
                if picks[name] >= 0:
                    by_table.setdefault(picks[name], []).append(name)
            if len(by_table) == 1:
                texts.append(self.tables[next(iter(by_table))].name)
            else:
                texts.append(
                    ";".join(f"{self.tables[k].name}:{'/'.join(f)}" for k, f in by_table.items())
                )
        source = np.full(n, "", dtype=object)
        if n:
            source[:] = np.array(texts, dtype=object)[inverse.reshape(-1)]
        return source


def _find(table: Table, addrs: Addresses) -> npt.NDArray[np.int64]:
    rec = np.full(len(addrs), -1, dtype=np.int64)
    rec[~addrs.is6] = table.v4.find(addrs.v4)
    rec[addrs.is6] = table.v6.find(addrs.v6)
    return rec


def open_datasets(paths: Iterable[Path | str]) -> Attributor:
    """Load dataset files (`lab`: the shipped lab table); overrides win, then specificity."""
    tables = []
    names: set[str] = set()
    for path in paths:
        if str(path) == "lab":
            tables.extend(lab().tables)
            continue
        name = Path(path).name
        while name in names:  # two files of one name stay distinguishable in `source`
            name = f"{name}'"
        names.add(name)
        tables.append(load(path, name))
    return Attributor(tables)


def lab_path() -> Path:
    """Where the shipped lab dataset is (an overrides CSV)."""
    with as_file(files("sinkhole").joinpath("data/lab-networks.csv")) as path:
        return Path(path)


def lab() -> Attributor:
    """The shipped lab dataset."""
    return Attributor([overrides.load(lab_path(), "lab-networks.csv")])


def load_csv(path: Path | str) -> Attributor:
    """An overrides CSV (prefix, asn, as_name, country, abuse_contact) on its own."""
    path = Path(path)
    if not path.is_file():
        raise AttributionError(f"{path}: cannot read attribution dataset: no such file")
    return Attributor([overrides.load(path, path.name)])


#: The name earlier code used for one loaded dataset.
Dataset = Attributor
