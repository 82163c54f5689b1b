"""Fosniw: a numbered-hostname "DGA" of 101 names per build.

Fosniw is a Windows malware family tracked by DGArchive whose bots look for
their C&C under a fixed pattern with a running number: the host name is the
same for every name and only a counter of 0 to 100 in the second-level label
changes (``app2.winsoft0.com`` .. ``app2.winsoft100.com``). Two patterns are
published: ``app2.winsoft<N>.com`` and ``appx.koreasys<N>.com``. Nothing in it
depends on the date, so every bot of a build tries the same 101 names; they
are all under ``com`` and registrable, so a takedown can hold the whole set.

Algorithm (baderj/domain_generation_algorithms ``fosniw/``, added June 2020,
with both patterns' complete lists; DGArchive ``fosniw``): for N = 0..100 the
name is the pattern with N written in decimal.

Active years: 2018-2020. The only public date is the reimplementation's
(June 2020); the start is not published, so we chose two years before it. The
list does not depend on the date, so these years are metadata only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_COUNT = 101
#: published pattern -> (host label, second-level stem)
PATTERNS = {"winsoft": ("app2", "winsoft"), "koreasys": ("appx", "koreasys")}


class FosniwDga(BaseDga):
    """Fosniw: 101 date-independent names, a counter in the second-level label."""

    name = "fosniw"
    info = DgaInfo(
        period="none",
        per_period=_COUNT,
        tlds=("com",),
        seeding="time-independent",
        active_years=(2018, 2020),
        params=(
            DgaParam(
                "pattern",
                "winsoft",
                "published name pattern: winsoft (app2.winsoftN.com) or koreasys "
                "(appx.koreasysN.com)",
                choices=tuple(PATTERNS),
            ),
        ),
        reference="baderj/domain_generation_algorithms fosniw/ (2020); DGArchive",
        notes="the same 101 names on every day; N runs 0..100",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The pattern's 101 names, counter 0 first."""
        host, stem = PATTERNS[str(params["pattern"])]
        return [f"{host}.{stem}{number}.com" for number in range(_COUNT)]


FAMILY = Family(
    name="fosniw",
    summary="Fosniw: 101 date-independent numbered names per build (app2.winsoftN.com)",
    channels=(
        Channel(
            "dga",
            dga=FosniwDga(),
            note="the only described C&C rendezvous: one pattern per build, counter 0..100",
        ),
    ),
    references=(
        "github.com/baderj/domain_generation_algorithms, fosniw/ (published example domains)",
        "DGArchive (Fraunhofer FKIE), fosniw",
    ),
)
