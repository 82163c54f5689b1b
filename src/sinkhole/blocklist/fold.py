"""Reading the store into the listing's state: bot contacts per address, C&C names.

DuckDB aggregates the events (one row per contacting address, one per name
asked for), attribution adds each address's network in bulk, and the rows are
merged into ``seen`` and ``domains`` idempotently (first contact = min, last
contact = max): a segment read once from the live WAL and later as Parquet
counts once. Only Parquet files not folded yet are read again.
"""

from __future__ import annotations

import ipaddress
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sinkhole import duck
from sinkhole.attribution import Attributor, addresses
from sinkhole.blocklist.state import BlocklistError
from sinkhole.events import store
from sinkhole.events.writer import EVENTS_DIR

#: RFC 5782 test points: always listed / never listed.
TEST_LISTED = ("127.0.0.2", "::ffff:7f00:2")
TEST_UNLISTED = ("127.0.0.1", "::ffff:7f00:1")
TEST_REASON = "RFC 5782 test point, always listed"

#: Bot contacts: every event with a family but DNS queries relayed by a resolver.
_CONTACTS = " AND ".join(
    (
        "family IS NOT NULL",
        "src_ip IS NOT NULL",
        "(application <> 'dns' OR channel = 'dns-servers')",
    )
)
_NAME = "coalesce(http_host, ssl_servername, dns_qname)"
#: A Host header's port and a trailing dot are not part of the name.
_CLEAN = "rtrim(regexp_replace(lower(name), ':[0-9]+$', ''), '.')"
_DOMAIN_SHAPE = r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*\.[a-z][a-z0-9-]*$"


def canonical(text: str) -> str:
    """An address in canonical form (IPv4-mapped IPv6 as IPv4); BlocklistError if none."""
    try:
        addr = ipaddress.ip_address(text.strip())
    except ValueError:
        raise BlocklistError(f"{text!r} is not an IPv4 or IPv6 address") from None
    tests = TEST_LISTED + TEST_UNLISTED
    if addr.version == 6 and addr.ipv4_mapped is not None and str(addr) not in tests:
        return str(addr.ipv4_mapped)  # how dual-stack listeners log IPv4 clients
    return str(addr)


def fold(
    con: sqlite3.Connection, root: Path, networks: Attributor, full: bool
) -> tuple[list[str], int]:
    """Read the store's new contacts into `seen` and `domains`; (addresses, files) read."""
    snap = store.snapshot(root)
    done = {} if full else dict(con.execute("SELECT path, size FROM folded").fetchall())
    events_dir = Path(root) / EVENTS_DIR
    new: list[tuple[str, int]] = []
    for path in snap.parquet:
        try:
            key, size = str(path.relative_to(events_dir)), path.stat().st_size
        except (OSError, ValueError):
            continue
        if done.get(key) != size:
            new.append((key, size))
    duckdb_con = duck.connect()
    try:
        duckdb_con.execute("SET TimeZone = 'UTC'")
        duckdb_con.register("wal_events", snap.wal)
        if new:
            files = [str(events_dir / key) for key, _ in new]
            duckdb_con.read_parquet(files, union_by_name=True).create_view("parquet_events")
            duckdb_con.execute(
                "CREATE VIEW events AS SELECT * FROM parquet_events "
                "UNION ALL BY NAME SELECT * FROM wal_events"
            )
        else:
            duckdb_con.execute("CREATE VIEW events AS SELECT * FROM wal_events")
        hosts = duckdb_con.sql(
            "SELECT src_ip, min(epoch_us(timestamp)) AS first_seen, "
            "max(epoch_us(timestamp)) AS last_seen, arg_max(family, timestamp) AS family "
            f"FROM events WHERE {_CONTACTS} GROUP BY src_ip ORDER BY src_ip"
        ).to_arrow_table()
        # grouped by the name as logged first (a few thousand names for millions of
        # events), then lowercased, checked and grouped again
        names = duckdb_con.sql(
            f"WITH raw AS (SELECT {_NAME} AS name, arg_max(family, timestamp) AS family, "
            "min(timestamp) AS first_seen, max(timestamp) AS last_seen FROM events "
            f"WHERE family IS NOT NULL AND {_NAME} IS NOT NULL GROUP BY name) "
            f"SELECT {_CLEAN} AS domain, arg_max(family, last_seen) AS family, "
            "min(epoch_us(first_seen)), max(epoch_us(last_seen)) FROM raw "
            f"WHERE regexp_matches({_CLEAN}, '{_DOMAIN_SHAPE}') GROUP BY domain"
        ).fetchall()
    except Exception as exc:
        message = " ".join(str(exc).split())[:300]
        raise BlocklistError(f"cannot read events under {root}: {message}") from None
    finally:
        duckdb_con.close()
    rows = sorted(_attributed(hosts, networks))  # in key order: B-tree appends, not splits
    con.executemany(
        "INSERT INTO seen (ip, family, first_seen, last_seen, asn, as_name, prefix) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ip) DO UPDATE SET "
        "family = CASE WHEN excluded.last_seen >= seen.last_seen THEN excluded.family "
        "ELSE seen.family END, "
        "first_seen = min(seen.first_seen, excluded.first_seen), "
        "last_seen = max(seen.last_seen, excluded.last_seen), "
        "asn = coalesce(excluded.asn, seen.asn), "
        "as_name = CASE WHEN excluded.as_name <> '' THEN excluded.as_name ELSE seen.as_name END, "
        "prefix = CASE WHEN excluded.prefix <> '' THEN excluded.prefix ELSE seen.prefix END",
        rows,
    )
    con.executemany(
        "INSERT INTO domains (domain, family, first_seen, last_seen) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (domain) DO UPDATE SET "
        "family = CASE WHEN excluded.last_seen >= domains.last_seen THEN excluded.family "
        "ELSE domains.family END, "
        "first_seen = min(domains.first_seen, excluded.first_seen), "
        "last_seen = max(domains.last_seen, excluded.last_seen)",
        names,
    )
    con.executemany(
        "INSERT INTO folded (path, size) VALUES (?, ?) "
        "ON CONFLICT (path) DO UPDATE SET size = excluded.size",
        new,
    )
    return [row[0] for row in rows], len(new)


def _attributed(hosts: pa.Table, networks: Attributor) -> list[tuple[Any, ...]]:
    """(ip, family, first, last, asn, as_name, prefix) per contacting address."""
    # parsed in bulk (IPv4 in Arrow compute): dual-stack spellings become IPv4, IPv4 texts
    # are canonical once they match; only the few IPv6 texts are rewritten one by one
    addrs = addresses.parse(hosts.column("src_ip").combine_chunks())
    if addrs.invalid:  # rare (our listeners log addresses): keep the rows that are some
        hosts = hosts.filter(pa.array([_is_address(t) for t in hosts.column("src_ip").to_pylist()]))
        addrs = addresses.parse(hosts.column("src_ip").combine_chunks())
    texts = addrs.text.to_pylist()
    for index in np.flatnonzero(addrs.is6).tolist():
        texts[index] = canonical(texts[index])
    firsts = _numbers(hosts.column("first_seen"))
    lasts = _numbers(hosts.column("last_seen"))
    fams = _repeated(hosts.column("family"), None)
    if networks.tables and len(addrs):
        found = networks.attribute_parsed(addrs).table
        asns = found.column("asn").to_pylist()
        names = _repeated(found.column("as_name"), "")
        prefixes = _repeated(found.column("prefix"), "")
    else:
        asns, names, prefixes = [None] * len(texts), [""] * len(texts), [""] * len(texts)
    if len(set(texts)) == len(texts):  # the usual case: one spelling per address
        return list(zip(texts, fams, firsts, lasts, asns, names, prefixes, strict=True))
    merged: dict[str, list[Any]] = {}
    for key, first, last, family, asn, name, prefix in zip(
        texts, firsts, lasts, fams, asns, names, prefixes, strict=True
    ):
        row = merged.get(key)
        if row is None:
            merged[key] = [key, family, first, last, asn, name or "", prefix or ""]
        else:  # one address logged in two spellings (dual-stack listeners)
            if last >= row[3]:
                row[1] = family
            row[2], row[3] = min(row[2], first), max(row[3], last)
    return [tuple(row) for row in merged.values()]


def _numbers(column: Any) -> list[int]:
    """A column of integers without nulls as Python ints (faster than to_pylist)."""
    values: list[int] = column.combine_chunks().to_numpy().tolist()
    return values


def _repeated(column: Any, null: str | None) -> list[Any]:
    """A column of few distinct texts as Python strings, each text one shared object."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    words = [null if w is None else w for w in encoded.dictionary.to_pylist()] + [null]
    codes = encoded.indices.fill_null(len(words) - 1).to_numpy().tolist()
    return [words[code] for code in codes]


def _is_address(text: str | None) -> bool:
    try:
        ipaddress.ip_address((text or "").strip())
    except ValueError:
        return False
    return True
