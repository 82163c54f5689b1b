"""monerodownloader: a Monero-miner downloader and its MD5 DGA over five gTLDs.

An unnamed downloader that installs a Monero (XMR) miner, analysed by J. Bader
in January 2020 (baderj/domain_generation_algorithms ``monerodownloader/``,
"DGA of a monero miner downloader"). Its C&C names come from the domain
generation algorithm below, the only channel modelled here.

Algorithm: for ``n`` in 0..499 the bot hashes the text
``<magic>-<days>-<n>`` with MD5, where ``magic`` is a build string
(``jkhhksugrhtijys78g46`` in the published sample) and ``days`` the number of
days since 1970-01-01. The label is the first 13 hex digits of the digest,
except for ``n = 0``, whose label is a fixed string (``31b4bd31fg1x2``): the
same five names lead every day's list. Each label is tried under ``.org``,
``.tickets``, ``.blackfriday``, ``.hosting`` and ``.feedback`` in that order:
2500 names a day. The sample's bot can also walk back over earlier days
(a build option that is off in the published sample and not modelled).

Active years: 2020-2020. Bader's analysis and published sample (dated
2020-01-12) are the dated public record we know of; look further with
``--around``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_PER_DAY = 500
_TLDS = ("org", "tickets", "blackfriday", "hosting", "feedback")
_SUFFIXES = tuple("." + tld for tld in _TLDS)
_EPOCH = dt.date(1970, 1, 1).toordinal()
DEFAULT_MAGIC = "jkhhksugrhtijys78g46"
DEFAULT_FIRST = "31b4bd31fg1x2"


class MonerodownloaderDga(BaseDga):
    """Monero-miner downloader: 500 MD5 labels a day, each under five gTLDs."""

    name = "monerodownloader"
    info = DgaInfo(
        period="daily",
        per_period=_PER_DAY * len(_TLDS),
        tlds=_TLDS,
        seeding="time-dependent",
        active_years=(2020, 2020),
        params=(
            DgaParam("magic", DEFAULT_MAGIC, "build string hashed with the day count"),
            DgaParam("first", DEFAULT_FIRST, "fixed label that leads every day's list"),
        ),
        reference="baderj/domain_generation_algorithms monerodownloader/ (J. Bader, 2020)",
        notes="the fixed first label gives the same five names every day",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The day's 2500 names: label by label, each under the five TLDs."""
        magic, first = str(params["magic"]), str(params["first"])
        if not magic.isascii():
            raise DgaError(f"monerodownloader: magic={magic!r} is not ASCII text")
        if not first.isascii() or not first.isalnum() or len(first) > 63:
            raise DgaError(
                f"monerodownloader: first={first!r} is not a DNS label of letters/digits"
            )
        prefix = hashlib.md5(f"{magic}-{key.toordinal() - _EPOCH}-".encode("ascii"))
        labels = [first.lower()]
        for n in range(1, _PER_DAY):
            digest = prefix.copy()
            digest.update(str(n).encode("ascii"))
            labels.append(digest.hexdigest()[:13])
        return [label + suffix for label in labels for suffix in _SUFFIXES]


FAMILY = Family(
    name="monerodownloader",
    summary="Monero-miner downloader: 2500 MD5-derived names a day under five new gTLDs",
    channels=(
        Channel(
            "dga",
            dga=MonerodownloaderDga(),
            note="2500 names a day, the first five fixed (label 31b4bd31fg1x2)",
        ),
    ),
    references=(
        "J. Bader, DGA of a monero miner downloader (January 2020), "
        "github.com/baderj/domain_generation_algorithms, monerodownloader/ (published example "
        "domains)",
    ),
)
