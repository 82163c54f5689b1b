"""PadCrypt ransomware: a daily SHA-256 DGA of 24 (later 72) names over eleven TLDs.

PadCrypt is a ransomware family found in February-March 2016 (the first one
with a live support chat, BleepingComputer). Its bots reach the payment and
key server through names derived from the date; the DGA is the only C&C
channel described publicly. Its TLDs include ``co.uk`` and new gTLDs
(``online``, ``website``).

Algorithm (Johannes Bader, "The DGA of PadCrypt", johannesbader.ch, March
2016; reimplemented in baderj/domain_generation_algorithms ``padcrypt/``): for
each index ``i`` the bot hashes the text ``"<day>-<month>-<year><sep><i>"``
(numbers without leading zeros) with SHA-256 and takes characters 3-18 of the
hex digest, writing each digit ``d`` as the ``d``-th letter of ``abcdnfolmk``
(hex letters ``a``-``f`` stay). The last hex digit picks the TLD from ``com
co.uk de org net eu info online co cc website``, or ``com`` when it is 11 or
more. Version 2.2.86.1 uses ``:`` as the separator and 24 indices; version
2.2.97.0 uses ``|`` and 72. Version 11.37.0.0 (360netlab/DGA issue #34 and
``code/padcrypt``, from a later sample) uses ``|``, 72 indices, appends ``38``
to the hashed text and has twelve TLDs: ``com co.uk de org net tk info online
ga co cc website``.

Active years: 2016-2017. Both versions are from February-March 2016
(BleepingComputer; Bader, with samples from MalwareHunterTeam); the end is not
published, so we cover the following year too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_TLDS = ("com", "co.uk", "de", "org", "net", "eu", "info", "online", "co", "cc", "website")
_TLDS_11 = ("com", "co.uk", "de", "org", "net", "tk", "info", "online", "ga", "co", "cc", "website")
#: version -> (separator, names per day, text appended to the hashed string, TLD table)
VERSIONS = {
    "2.2.86.1": (":", 24, "", _TLDS),
    "2.2.97.0": ("|", 72, "", _TLDS),
    "11.37.0.0": ("|", 72, "38", _TLDS_11),
}
_DIGITS = str.maketrans("0123456789", "abcdnfolmk")


def _suffixes(tlds: tuple[str, ...]) -> dict[str, str]:
    """Last hex digit -> ".tld" (digits past the table fall back to its first TLD)."""
    return {f"{v:x}": "." + (tlds[v] if v < len(tlds) else tlds[0]) for v in range(16)}


_SUFFIXES = {version: _suffixes(tlds) for version, (*_, tlds) in VERSIONS.items()}


class PadcryptDga(BaseDga):
    """PadCrypt: daily SHA-256 names, 16 letters from a-f and a digit mapping."""

    name = "padcrypt"
    info = DgaInfo(
        period="daily",
        per_period=VERSIONS["2.2.86.1"][1],
        tlds=tuple(sorted({tld.rsplit(".", 1)[-1] for tld in (*_TLDS, *_TLDS_11)})),
        seeding="time-dependent",
        active_years=(2016, 2017),
        params=(
            DgaParam(
                "version",
                "2.2.86.1",
                "PadCrypt version: 2.2.86.1 (24 names a day), 2.2.97.0 or 11.37.0.0 (72)",
                choices=tuple(VERSIONS),
            ),
        ),
        reference="Johannes Bader, 'The DGA of PadCrypt' (johannesbader.ch, 2016)",
        notes="co.uk names end in the uk TLD; a last hex digit of 11-15 falls back to com",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The day's names, index 0 first."""
        version = str(params["version"])
        separator, count, extra, _ = VERSIONS[version]
        suffixes = _SUFFIXES[version]
        prefix = f"{key.day}-{key.month}-{key.year}{separator}"
        sha256 = hashlib.sha256
        out: list[str] = []
        for index in range(count):
            digest = sha256(f"{prefix}{index}{extra}".encode()).hexdigest()
            out.append(digest[3:19].translate(_DIGITS) + suffixes[digest[-1]])
        return out


FAMILY = Family(
    name="padcrypt",
    summary="PadCrypt ransomware: 24 (or 72) daily SHA-256 names over eleven TLDs",
    channels=(
        Channel(
            "dga",
            dga=PadcryptDga(),
            note="the described rendezvous with the ransom server; the version sets the "
            "separator and the count",
        ),
    ),
    references=(
        "Johannes Bader, 'The DGA of PadCrypt' (johannesbader.ch, 2016)",
        "BleepingComputer, 'PadCrypt: the first ransomware with live support chat' (2016)",
        "github.com/baderj/domain_generation_algorithms, padcrypt/ (published example domains)",
        "360 Netlab, github.com/360netlab/DGA issue #34 (version 11.37.0.0)",
    ),
)
