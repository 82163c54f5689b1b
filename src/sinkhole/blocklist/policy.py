"""The listing policy: who is listed, why, since when and until when.

An address is listed while it keeps contacting the sinkhole and for a grace
period after its last contact (7 days unless changed), then delisted. Only
contacts from the bots themselves count: DNS queries that reached us through
an ISP's resolver name the resolver, not a bot, so they list nothing (queries
to a hard-coded resolver redirected to us, channel ``dns-servers``, do come
from the bot). Never listed: shared address space whose one address stands for
a whole town of customers (RFC 6598 carrier-grade NAT, the DS-Lite range), the
RFC 5782 negative test point 127.0.0.1, and whatever the operator excluded by
prefix or by AS number. Manual additions are listed with their own reason,
until they expire or are removed.

Building reads the store (DuckDB over Parquet and the live WAL) into ``seen``;
updating folds only the Parquet files not folded yet, plus the live WAL, so
the DNSBL can keep the listing current while `serve` writes. Merges are
idempotent (first contact = min, last contact = max), so reading one segment
twice (once from the WAL, later as Parquet) changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from sinkhole.attribution import Attributor, addresses
from sinkhole.blocklist import state
from sinkhole.blocklist.fold import TEST_LISTED, TEST_REASON, canonical, fold
from sinkhole.blocklist.state import BlocklistError
from sinkhole.events import store

DEFAULT_GRACE_DAYS = 7.0
#: TXT strings are one character-string: at most 255 octets.
TXT_MAX = 255

#: The A record's last octet per family (127.0.0.x). Fixed, so a family keeps its code
#: when others are added; new families take the next free number.
FAMILY_CODES: dict[str, int] = {
    "banjori": 10,
    "cryptolocker": 11,
    "dircrypt": 12,
    "kraken-v2": 13,
    "megad-sim": 14,
    "murofet-v1": 15,
    "murofet-v2": 16,
    "necurs": 17,
    "newgoz": 18,
    "pushdo": 19,
    "qakbot": 20,
    "ramnit": 21,
    "torpig": 22,
}
#: Listed by hand (no family), and the RFC 5782 test point.
CODE_LISTED = 2
#: A family without a code of its own (a third-party family, or several families at once).
CODE_OTHER = 3

#: Never listed: one address shared by many customers, and the negative test points.
SHARED_RANGES: dict[str, str] = {
    "100.64.0.0/10": "shared address space for carrier-grade NAT (RFC 6598)",
    "192.0.0.0/29": "DS-Lite shared address space (RFC 6333)",
    "127.0.0.1/32": "RFC 5782 test point, never listed",
    "::ffff:7f00:1/128": "RFC 5782 test point, never listed",
}


def code_for(family: str | None) -> int:
    """The 127.0.0.x code of a family (2: none, 3: one without a code of its own)."""
    if not family:
        return CODE_LISTED
    return FAMILY_CODES.get(family, CODE_OTHER)


def _us(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def _when(us: int | None) -> str:
    if us is None:
        return ""
    return dt.datetime.fromtimestamp(us / 1e6, dt.UTC).isoformat(timespec="seconds")


@dataclass
class Exclusions:
    """Ranges and AS numbers never listed, with why."""

    networks: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]]
    asns: dict[int, str]

    def why(self, ip: str, asn: int | None) -> str | None:
        """Why `ip` (in network `asn`) is never listed, or None."""
        addr = ipaddress.ip_address(ip)
        for net, note in self.networks:
            if addr.version == net.version and addr in net:
                return note
        if asn and asn in self.asns:
            return self.asns[asn]
        return None

    def mask(self, ips: list[str], asns: list[int | None]) -> npt.NDArray[np.bool_]:
        """Which of many canonical addresses are never listed (IPv4 compared in bulk)."""
        addrs = addresses.parse(pa.array(ips, pa.string()))
        if len(addrs) != len(ips):
            raise BlocklistError("the listing holds a text that is not an address: rebuild it")
        out = np.isin(np.array([a or 0 for a in asns], dtype=np.int64), list(self.asns))
        four = np.flatnonzero(~addrs.is6)
        for net, _ in self.networks:
            if net.version == 4:
                first, last = int(net.network_address), int(net.broadcast_address)
                inside = (addrs.v4 >= first) & (addrs.v4 <= last)
                out[four[inside]] = True
        for index in np.flatnonzero(addrs.is6).tolist():
            out[index] = out[index] or self.why(ips[index], None) is not None
        return out


def exclusions(con: sqlite3.Connection) -> Exclusions:
    """The built-in shared ranges and the operator's exclusions."""
    nets = [(ipaddress.ip_network(p), note) for p, note in SHARED_RANGES.items()]
    asns: dict[int, str] = {}
    for kind, value, note in con.execute("SELECT kind, value, note FROM exclusions"):
        if kind == "prefix":
            nets.append((ipaddress.ip_network(value), note or f"excluded: {value}"))
        else:
            asns[int(value)] = note or f"excluded: AS{value}"
    return Exclusions(nets, asns)


def parse_exclusion(text: str) -> tuple[str, str]:
    """('prefix', '192.0.2.0/24') or ('asn', '64500') from PREFIX, ADDRESS or ASnnn."""
    word = text.strip()
    if word.upper().startswith("AS") and word[2:].isdigit():
        number = int(word[2:])
        if not 0 < number < 2**32:
            raise BlocklistError(f"{text!r}: an AS number is 1 to 4294967295")
        return "asn", str(number)
    try:
        net = ipaddress.ip_network(word, strict=False)
    except ValueError:
        raise BlocklistError(
            f"{text!r}: expected a prefix (192.0.2.0/24), an address or an AS number (AS64500)"
        ) from None
    return "prefix", str(net)


@dataclass
class Counts:
    """What a build or an update did."""

    listed: int = 0
    delisted: int = 0
    excluded: int = 0
    added: int = 0
    seen: int = 0
    folded_files: int = 0
    serial: int = 0
    seconds: float = 0.0
    per_family: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """For --json."""
        return dict(vars(self))


def _reason(family: str | None, asn: int | None, as_name: str) -> str:
    network = (
        f" in AS{asn}" + (f" {as_name.split(maxsplit=1)[0]}" if as_name else "") if asn else ""
    )
    return f"{family or 'botnet'} bot contacting a sinkhole{network}"


def _relist(con: sqlite3.Connection, grace: dt.timedelta, as_of: dt.datetime) -> Counts:
    """Rewrite the listing from `seen`, the additions and the exclusions (in a transaction)."""
    now = _us(as_of)
    keep = int(grace.total_seconds() * 1_000_000)
    excluded = exclusions(con)
    counts = Counts()
    rows: list[tuple[Any, ...]] = []
    reasons: dict[tuple[Any, ...], str] = {}
    seen = con.execute(
        "SELECT ip, family, first_seen, last_seen, asn, as_name FROM seen"
    ).fetchall()
    out = excluded.mask([row[0] for row in seen], [row[4] for row in seen]).tolist()
    for (ip, family, first, last, asn, as_name), never in zip(seen, out, strict=True):
        counts.seen += 1
        if never:
            counts.excluded += 1
            continue
        expires = last + keep
        if expires <= now:
            counts.delisted += 1
            continue
        why = reasons.get((family, asn, as_name))
        if why is None:
            why = reasons[family, asn, as_name] = _reason(family, asn, as_name)
        rows.append((ip, family, code_for(family), first, last, expires, asn, as_name, why,
                     "seen"))  # fmt: skip
        counts.per_family[family or ""] = counts.per_family.get(family or "", 0) + 1
    listed = {row[0] for row in rows}
    for ip, reason, added, until in con.execute(
        "SELECT ip, reason, added, expires FROM additions"
    ).fetchall():
        if until is not None and until <= now:
            continue
        if ip in listed:
            continue  # the store's own record says more
        rows.append((ip, None, CODE_LISTED, added, added, until, None, "", reason, "added"))
        counts.added += 1
    rows.sort()  # in key order: B-tree appends
    counts.listed = len(rows)
    # what the DNSBL answers (address, code, reason) decides whether the serial moves
    digest = hashlib.blake2b(repr([(r[0], r[2], r[8]) for r in rows]).encode(), digest_size=16)
    digest.update(state.get_meta(con, "removal").encode())
    counts.serial = int(state.get_meta(con, "serial", "0"))
    con.execute("DELETE FROM listing")
    con.executemany("INSERT INTO listing VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    if digest.hexdigest() != state.get_meta(con, "digest"):
        # a new serial only when an answer changed: every DNSBL worker reloads on it
        counts.serial += 1
        state.set_meta(con, "serial", counts.serial)
        state.set_meta(con, "digest", digest.hexdigest())
    state.set_meta(con, "as_of", as_of.isoformat())
    state.set_meta(con, "grace_seconds", grace.total_seconds())
    return counts


def _relist_touched(
    con: sqlite3.Connection, grace: dt.timedelta, as_of: dt.datetime, touched: list[str]
) -> Counts:
    """Bring the listing up to date for the addresses just folded, and drop what expired.

    The cost follows what changed, not the listing's size (a DNSBL folds every minute);
    the serial moves only when an answer changes: an address listed or delisted, or a
    listed address's code or reason.
    """
    now = _us(as_of)
    keep = int(grace.total_seconds() * 1_000_000)
    counts = Counts()
    changed = False
    con.execute("CREATE TEMP TABLE IF NOT EXISTS touched (ip TEXT PRIMARY KEY)")
    con.execute("DELETE FROM touched")
    con.executemany("INSERT OR IGNORE INTO touched VALUES (?)", [(ip,) for ip in touched])
    seen = con.execute(
        "SELECT s.ip, s.family, s.first_seen, s.last_seen, s.asn, s.as_name FROM seen s "
        "JOIN touched USING (ip)"
    ).fetchall()
    before = {
        ip: (code, reason)
        for ip, code, reason in con.execute(
            "SELECT l.ip, l.code, l.reason FROM listing l JOIN touched USING (ip)"
        )
    }
    never = exclusions(con).mask([r[0] for r in seen], [r[4] for r in seen]).tolist()
    upsert: list[tuple[Any, ...]] = []
    drop: list[tuple[str]] = []
    for (ip, family, first, last, asn, as_name), out in zip(seen, never, strict=True):
        expires = last + keep
        if out or expires <= now:
            if ip in before:
                drop.append((ip,))
            continue
        row = (ip, family, code_for(family), first, last, expires, asn, as_name,
               _reason(family, asn, as_name), "seen")  # fmt: skip
        upsert.append(row)
        changed = changed or before.get(ip) != (row[2], row[8])
    con.executemany("DELETE FROM listing WHERE ip = ?", drop)
    con.executemany("INSERT OR REPLACE INTO listing VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", upsert)
    expired = con.execute(
        "DELETE FROM listing WHERE expires IS NOT NULL AND expires <= ?", (now,)
    ).rowcount
    counts.delisted = len(drop) + expired
    changed = changed or counts.delisted > 0
    counts.listed = con.execute("SELECT count(*) FROM listing").fetchone()[0]
    counts.seen = len(seen)
    counts.serial = int(state.get_meta(con, "serial", "0"))
    if changed:
        counts.serial += 1
        state.set_meta(con, "serial", counts.serial)
        state.set_meta(con, "digest", "")  # the next full rewrite compares afresh
    state.set_meta(con, "as_of", as_of.isoformat())
    return counts


def _grace(con: sqlite3.Connection, days: float | None) -> dt.timedelta:
    if days is None:
        stored = state.get_meta(con, "grace_seconds")
        return (
            dt.timedelta(seconds=float(stored)) if stored else dt.timedelta(days=DEFAULT_GRACE_DAYS)
        )
    if not 0 <= days <= 3660:
        raise BlocklistError(f"--grace-days {days}: expected 0 to 3660")
    return dt.timedelta(days=days)


def build(
    root: Path,
    networks: Attributor,
    grace_days: float | None = None,
    as_of: dt.datetime | None = None,
    removal: str | None = None,
) -> Counts:
    """Rebuild the listing from the whole store (exclusions and additions are kept)."""
    return _run(root, networks, grace_days, as_of, removal, full=True)


def update(
    root: Path,
    networks: Attributor,
    as_of: dt.datetime | None = None,
) -> Counts:
    """Fold the store's new closed segments and its live WAL into the listing."""
    return _run(root, networks, None, as_of, None, full=False)


def _run(
    root: Path,
    networks: Attributor,
    grace_days: float | None,
    as_of: dt.datetime | None,
    removal: str | None,
    full: bool,
) -> Counts:
    began = time.monotonic()
    moment = as_of or dt.datetime.now(dt.UTC)
    if not Path(root).is_dir():
        raise BlocklistError(f"no event store at {root}")
    with state.connect(root, write=True) as con, state.transaction(con):
        grace = _grace(con, grace_days)
        if full:
            con.execute("DELETE FROM seen")
            con.execute("DELETE FROM domains")
            con.execute("DELETE FROM folded")
        try:
            touched, files = fold(con, root, networks, full)
        except store.StoreError as exc:
            raise BlocklistError(exc.message) from None
        if removal is not None:
            state.set_meta(con, "removal", removal)
        if full:
            counts = _relist(con, grace, moment)
        else:
            counts = _relist_touched(con, grace, moment, touched)
    counts.folded_files = files
    counts.seconds = time.monotonic() - began
    return counts


def relist(root: Path, as_of: dt.datetime | None = None) -> Counts:
    """Recompute the listing from what was already read (after an exclusion or addition)."""
    with state.connect(root, write=True) as con, state.transaction(con):
        return _relist(con, _grace(con, None), as_of or dt.datetime.now(dt.UTC))


def exclude(root: Path, what: str, note: str = "", remove: bool = False) -> tuple[str, str]:
    """Never list a prefix or an AS (or stop excluding it); the listing is recomputed."""
    kind, value = parse_exclusion(what)
    with state.connect(root, write=True) as con, state.transaction(con):
        if remove:
            gone = con.execute(
                "DELETE FROM exclusions WHERE kind = ? AND value = ?", (kind, value)
            ).rowcount
            if not gone:
                raise BlocklistError(f"{what!r} is not excluded")
        else:
            shown = f"AS{value}" if kind == "asn" else value
            con.execute(
                "INSERT INTO exclusions VALUES (?, ?, ?, ?) ON CONFLICT (kind, value) "
                "DO UPDATE SET note = excluded.note",
                (kind, value, note or f"excluded by the operator: {shown}", _us(_now())),
            )
    relist(root)
    return kind, value


def add(root: Path, ip: str, reason: str, days: float | None = None, remove: bool = False) -> str:
    """List an address by hand (for `days`, or until removed); the listing is recomputed."""
    key = canonical(ip)
    if len(reason.encode()) > 200 or "\n" in reason:
        raise BlocklistError("--reason: one line of at most 200 bytes")
    if days is not None and not 0 < days <= 3660:
        raise BlocklistError(f"--days {days}: expected more than 0, at most 3660")
    now = _us(_now())
    with state.connect(root, write=True) as con, state.transaction(con):
        if remove:
            if not con.execute("DELETE FROM additions WHERE ip = ?", (key,)).rowcount:
                raise BlocklistError(f"{key} was not added by hand")
        else:
            until = None if days is None else now + int(days * 86400 * 1_000_000)
            con.execute(
                "INSERT INTO additions VALUES (?, ?, ?, ?) ON CONFLICT (ip) DO UPDATE SET "
                "reason = excluded.reason, expires = excluded.expires",
                (key, reason or "listed by the operator", now, until),
            )
    relist(root)
    return key


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Verdict:
    """What the listing says about one address."""

    ip: str
    listed: bool
    why: str
    code: int | None = None
    family: str | None = None
    first_seen: str = ""
    last_seen: str = ""
    expires: str = ""

    def as_dict(self) -> dict[str, Any]:
        """For --json."""
        return dict(vars(self))


def check(root: Path, texts: list[str]) -> list[Verdict]:
    """Listed or not, why, since when, until when, for each address."""
    keys = [canonical(text) for text in texts]  # one bad address: one error, nothing else
    out = []
    with state.connect(root) as con:
        excluded = exclusions(con)
        for key in keys:
            out.append(_verdict(con, excluded, key))
    return out


def _verdict(con: sqlite3.Connection, excluded: Exclusions, ip: str) -> Verdict:
    if ip in TEST_LISTED:
        return Verdict(ip, True, TEST_REASON, CODE_LISTED)
    row = con.execute(
        "SELECT code, family, first_seen, last_seen, expires, reason FROM listing WHERE ip = ?",
        (ip,),
    ).fetchone()
    if row is not None:
        code, family, first, last, expires, reason = row
        return Verdict(ip, True, reason, code, family, _when(first), _when(last), _when(expires))
    seen = con.execute(
        "SELECT family, first_seen, last_seen, asn FROM seen WHERE ip = ?", (ip,)
    ).fetchone()
    if seen is None:
        why = excluded.why(ip, None)
        return Verdict(ip, False, why or "never seen contacting the sinkhole")
    family, first, last, asn = seen
    why = excluded.why(ip, asn)
    if why is None:
        why = "delisted: no contact within the grace period"
    return Verdict(ip, False, why, None, family, _when(first), _when(last))


def txt(reason: str, removal: str) -> str:
    """The TXT template of a listing (`$` stands for the address, as in rbldnsd)."""
    text = f"$ listed: {reason.replace('$', '')}"
    if removal:
        text += f"; removal: {removal.replace('$', '')}"
    raw = text.encode("utf-8", errors="replace")
    # the address replaces the `$`: leave room for the longest IPv6 text
    budget = TXT_MAX - 39
    return raw[:budget].decode("utf-8", errors="ignore") if len(raw) > budget else text


def entries(root: Path) -> Iterator[tuple[str, int, str]]:
    """(address, code, TXT template) of every listed address, test points first."""
    with state.connect(root) as con:
        removal = state.get_meta(con, "removal")
        test = txt(TEST_REASON, removal)
        for ip in TEST_LISTED:
            yield ip, CODE_LISTED, test
        texts: dict[str, str] = {}
        for ip, code, reason in con.execute("SELECT ip, code, reason FROM listing"):
            template = texts.get(reason)
            if template is None:
                template = texts[reason] = txt(reason, removal)
            yield ip, code, template


def families_in(root: Path) -> dict[str, int]:
    """Listed addresses per family."""
    with state.connect(root) as con:
        return {
            str(family or ""): int(n)
            for family, n in con.execute("SELECT family, count(*) FROM listing GROUP BY family")
        }
