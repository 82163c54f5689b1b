"""Blocklists: the listing of bot addresses, its DNSBL table and its exports.

`policy` decides who is listed (seen by the sinkhole within the grace period,
not excluded) and keeps it in `state` (SQLite); `exports` writes it for
rbldnsd, firewalls, STIX and MISP consumers. The DNSBL server itself is a
listener (``servers/dnsbl.py``) and imports nothing from here: the command
line hands it the listing's entries and serial (``cli_blocklist.py``).
"""

from __future__ import annotations

from sinkhole.blocklist.policy import (
    CODE_LISTED,
    CODE_OTHER,
    DEFAULT_GRACE_DAYS,
    FAMILY_CODES,
    Counts,
    Verdict,
    add,
    build,
    check,
    exclude,
    update,
)
from sinkhole.blocklist.state import BlocklistError

__all__ = [
    "CODE_LISTED",
    "CODE_OTHER",
    "DEFAULT_GRACE_DAYS",
    "FAMILY_CODES",
    "BlocklistError",
    "Counts",
    "Verdict",
    "add",
    "build",
    "check",
    "exclude",
    "update",
]
