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

import ipaddress
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
from sinkhole.attribution.table import FIELDS, AttributionError, Side, Table, head

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
    """The attribution of many addresses: one row per valid address, in input order."""

    #: the COLUMNS; ASN null where unknown, strings empty where unknown
    table: pa.Table
    #: texts that were not addresses: their count and the first few
    invalid: int = 0
    examples: tuple[str, ...] = ()
    #: valid addresses no dataset covers (their rows are kept, with empty fields)
    uncovered: int = 0

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def rows(self) -> list[dict[str, Any]]:
        """The rows as dicts."""
        rows: list[dict[str, Any]] = self.table.to_pylist()
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
            codes, texts = table.prefixes(np.arange(len(table), dtype=np.int64))
            cols, vals = table.columns, table.values
            for rec in range(len(table)):
                nets.append(
                    Network(
                        texts[codes[rec]],
                        int(cols["asn"][rec]),
                        vals["as_name"][cols["as_name"][rec]],
                        vals["country"][cols["country"][rec]],
                        vals["abuse_contact"][cols["abuse_contact"][rec]],
                    )
                )
        return nets

    def lookup(self, ip: str) -> Network | None:
        """The network holding one address, or None (not an address, or no dataset covers it).

        The same answer as `attribute` gives, without its bulk set-up: for callers that
        ask about addresses one at a time.
        """
        try:
            addr = ipaddress.ip_address(ip.strip())
        except ValueError:
            return None
        if addr.version == 6 and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped  # how dual-stack listeners log IPv4 clients
        key: Any = np.bytes_(addr.packed) if addr.version == 6 else np.uint64(int(addr))
        recs = [_find_one(t.v6 if addr.version == 6 else t.v4, key) for t in self.tables]
        chosen: dict[str, tuple[int, int]] = {}  # field -> (table, record)
        number = 0
        for name in FIELDS:  # "asn" first: an AS name must agree with the ASN chosen
            best = _NONE
            for k, (table, rec) in enumerate(zip(self.tables, recs, strict=True)):
                if rec < 0 or not table.columns[name][rec]:
                    continue
                theirs = int(table.columns["asn"][rec])
                if name == "as_name" and number and theirs and theirs != number:
                    continue  # a name given for another AS
                score = int(table.spec[rec]) + (_OVERRIDE if table.kind == overrides.KIND else 0)
                if score > best:
                    best, chosen[name] = score, (k, rec)
            if name == "asn" and "asn" in chosen:
                number = int(self.tables[chosen["asn"][0]].columns["asn"][chosen["asn"][1]])
        if not chosen:
            return None
        fields: dict[str, Any] = {"asn": 0, "as_name": "", "country": "", "abuse_contact": ""}
        for name, (k, rec) in chosen.items():
            value = self.tables[k].columns[name][rec]
            fields[name] = int(value) if name == "asn" else self.tables[k].values[name][value]
        for table in self.tables:
            fields.update(table.by_asn.get(fields["asn"], {}) if fields["asn"] else {})
        origin = next(
            chosen[n] for n in ("asn", "country", "abuse_contact", "as_name") if n in chosen
        )
        prefix = self.tables[origin[0]]._prefix(origin[1])
        return Network(prefix, **fields)

    def attribute(self, texts: Sequence[str | None] | pa.Array) -> Attribution:
        """Attribute addresses given as text; what is not an address is counted and left out."""
        return self.attribute_parsed(addresses.parse(texts))

    def attribute_parsed(self, addrs: Addresses) -> Attribution:
        """Attribute parsed addresses."""
        n = len(addrs)
        recs = [_find(table, addrs) for table in self.tables]
        # per attribute: which table answers each address (-1: none), by specificity
        choice: dict[str, npt.NDArray[np.int64]] = {}
        asn = np.zeros(n, dtype=np.int64)
        for name in FIELDS:  # "asn" first: an AS name must agree with the ASN chosen
            scores = np.full((len(self.tables) + 1, n), _NONE, dtype=np.int64)
            for k, (table, rec) in enumerate(zip(self.tables, recs, strict=True)):
                safe = np.maximum(rec, 0)
                known = (table.columns[name][safe] != 0) & (rec >= 0)
                if name == "as_name":  # a name given for another AS is not this AS's name
                    theirs = table.columns["asn"][safe].astype(np.int64)
                    known &= (asn == 0) | (theirs == 0) | (theirs == asn)
                bonus = _OVERRIDE if table.kind == overrides.KIND else 0
                scores[k + 1] = np.where(known, table.spec[safe] + bonus, _NONE)
            choice[name] = np.argmax(scores, axis=0) - 1  # row 0 (never above _NONE): nobody
            if name == "asn":
                for k, (table, rec) in enumerate(zip(self.tables, recs, strict=True)):
                    mask = choice["asn"] == k
                    asn[mask] = table.columns["asn"][rec[mask]]
        strings: dict[str, _Column] = {name: _Column(n) for name in FIELDS[1:]}
        for k, (table, rec) in enumerate(zip(self.tables, recs, strict=True)):
            for name, column in strings.items():
                mask = choice[name] == k
                column.put(mask, table.columns[name][rec[mask]], table.values[name])
        # the prefix is the range of the record that gave the ASN (else the country, the contact)
        prefix_from = choice["asn"].copy()
        for name in ("country", "abuse_contact", "as_name"):
            prefix_from = np.where(prefix_from >= 0, prefix_from, choice[name])
        prefix = _Column(n)
        for k, (table, rec) in enumerate(zip(self.tables, recs, strict=True)):
            mask = prefix_from == k
            if mask.any():
                prefix.put(mask, *table.prefixes(rec[mask]))
        self._per_asn(asn, strings, choice)
        choice["prefix"] = prefix_from
        columns = {
            "ip": addrs.text,
            "asn": pa.array(asn, pa.int64(), mask=asn == 0),
            "as_name": strings["as_name"].array(),
            "prefix": prefix.array(),
            "country": strings["country"].array(),
            "abuse_contact": strings["abuse_contact"].array(),
            "source": self._sources(choice, n),
        }
        uncovered = int(np.count_nonzero(prefix_from < 0))
        return Attribution(pa.table(columns), addrs.invalid, tuple(addrs.examples), uncovered)

    def _per_asn(
        self,
        asn: npt.NDArray[np.int64],
        strings: dict[str, _Column],
        choice: dict[str, npt.NDArray[np.int64]],
    ) -> None:
        """Override rows that name an ASN set their fields on every address of that ASN."""
        for k, table in enumerate(self.tables):
            if not table.by_asn:
                continue
            hits = np.isin(asn, np.fromiter(table.by_asn, dtype=np.int64))
            for number in np.unique(asn[hits]).tolist():
                mask = asn == number
                for name, value in table.by_asn[int(number)].items():
                    strings[name].put(mask, np.zeros(int(mask.sum()), dtype=np.int64), [value])
                    choice[name][mask] = k

    def _sources(self, choice: dict[str, npt.NDArray[np.int64]], n: int) -> pa.Array:
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
        return pa.DictionaryArray.from_arrays(
            pa.array(inverse.reshape(-1).astype(np.int32)), pa.array(texts, pa.string())
        )


class _Column:
    """A string column built as codes into a growing list of distinct values (a dictionary)."""

    def __init__(self, n: int) -> None:
        self.codes = np.zeros(n, dtype=np.int64)
        self.values: list[str] = [""]

    def put(
        self, mask: npt.NDArray[np.bool_], codes: npt.NDArray[np.int64], values: list[str]
    ) -> None:
        """Set the masked rows to values[codes]."""
        self.codes[mask] = codes + len(self.values)
        self.values.extend(values)

    def array(self) -> pa.Array:
        """The column as an Arrow dictionary array of strings."""
        return pa.DictionaryArray.from_arrays(
            pa.array(self.codes.astype(np.int32)), pa.array(self.values, pa.string())
        )


def _find_one(side: Side, key: Any) -> int:
    index = int(np.searchsorted(side.starts, key, side="right")) - 1
    return int(side.recs[index]) if index >= 0 and key <= side.ends[index] else -1


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
