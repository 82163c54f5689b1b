"""verblecon: the Verblecon loader and its one-name-a-day MD5 DGA (.tk).

Verblecon is a Java-based loader described by Symantec's Threat Hunter Team in
January 2022 ("Verblecon: Sophisticated New Loader Used in Low-level
Attacks"), used to drop cryptocurrency miners. The only C&C channel modelled
here is its domain generation algorithm; a bot derives one name a day.

Algorithm (J. Bader, baderj/domain_generation_algorithms ``verblecon/``,
2022): the second-level label is the 32 hex digits of the MD5 of the text
``YYYY-MM-DD`` (the bot's date) followed by a seed string (``verble`` in the
published sample); the TLD is ``.tk``. One name per day.

Active years: 2022-2022. Symantec's report (January 2022) and Bader's
published sample (dated 2022-07-14) are the dated public record we know of;
look further with ``--around``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

#: Seed string of the published sample.
DEFAULT_SEED = "verble"


class VerbleconDga(BaseDga):
    """Verblecon: MD5 of the date and a seed string, one ``.tk`` name a day."""

    name = "verblecon"
    info = DgaInfo(
        period="daily",
        per_period=1,
        tlds=("tk",),
        seeding="time-dependent",
        active_years=(2022, 2022),
        params=(DgaParam("seed", DEFAULT_SEED, "seed string appended to the date"),),
        reference="baderj/domain_generation_algorithms verblecon/ (J. Bader, 2022)",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The one name of the day `key`."""
        seed = str(params["seed"])
        if not seed.isascii():
            raise DgaError(f"verblecon: seed={seed!r} is not ASCII text")
        digest = hashlib.md5((key.isoformat() + seed).encode("ascii")).hexdigest()
        return [digest + ".tk"]


FAMILY = Family(
    name="verblecon",
    summary="Java loader dropping miners: one MD5-derived .tk name a day",
    channels=(
        Channel("dga", dga=VerbleconDga(), note="one name a day; the seed string is per build"),
    ),
    references=(
        "Symantec Threat Hunter Team, 'Verblecon: Sophisticated New Loader Used in "
        "Low-level Attacks' (January 2022)",
        "github.com/baderj/domain_generation_algorithms, verblecon/ (published example domain)",
    ),
)
