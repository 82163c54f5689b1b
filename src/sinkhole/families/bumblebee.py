"""bumblebee: the Bumblebee loader and its DGA of 100 ``.life`` names.

Bumblebee is a malware loader first seen in March 2022 (Google TAG,
Proofpoint, April 2022) that took over from BazarLoader as an access broker's
tool for ransomware crews; Europol's Operation Endgame (May 2024) disrupted
its infrastructure. Some builds carry a domain generation algorithm
(published by J. Bader in September 2023), the only channel modelled here;
other builds use C&C addresses from their configuration, not published as a
list.

Algorithm (J. Bader, baderj/domain_generation_algorithms ``bumblebee/``,
September 2023): the seed is a build string read as a little-endian integer
(``TEST_SEE`` in the published sample) plus ``s | ((m + 256) << 8)`` plus a
year ``y``; the build of the published example uses the fixed values
``s = 32``, ``m = 13``, ``y = 1899`` instead of the clock. The generator step is
``r = 1664525 r + 1013904223 (mod 2**64)`` followed by 32 rounds of
``r = r >> 1``, XORed with 0xF5000000 when the bit shifted out was 1. Each
of 100 names has 11 characters ``"a-z0-9"[r mod 36]``, one step each, and
``.life``. Builds that take ``s``, ``m`` and ``y`` from the clock (seconds,
month - 1, year) make 60 lists a month, one per value of the seconds; they
have no published sample and are not modelled.

Active years: 2023-2024. Bader published the DGA in September 2023 and
Operation Endgame took the loader's infrastructure down in May 2024; the
list does not depend on the date, so this is metadata only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

DEFAULT_MAGIC = "TEST_SEE"
_COUNT = 100
_LENGTH = 11
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_M64 = (1 << 64) - 1
_FEEDBACK = 0xF5000000
#: the clock-less build's fixed second, month - 1 and year
_FIXED = (32 | ((13 + 256) << 8)) + 1899


def _shift32(low: int) -> int:
    """The 32 feedback rounds applied to a value below 2**32."""
    for _ in range(32):
        low = (low >> 1) ^ _FEEDBACK if low & 1 else low >> 1
    return low


# The 32 rounds are linear over GF(2), and bits 32-63 only shift down: the low
# word's part is the XOR of one table entry per byte.
_ROUNDS = tuple(tuple(_shift32(b << (8 * k)) for b in range(256)) for k in range(4))


def seed_of(magic: str) -> int:
    """The clock-less build's seed for the build string `magic`."""
    return int.from_bytes(magic.encode("ascii"), "little") + _FIXED


@lru_cache(maxsize=16)
def names(seed: int) -> tuple[str, ...]:
    """The 100 names of a seed."""
    t0, t1, t2, t3 = _ROUNDS
    r = seed
    out = []
    for _ in range(_COUNT):
        label = []
        for _ in range(_LENGTH):
            r = (r * 1664525 + 1013904223) & _M64
            r = (
                (r >> 32)
                ^ t0[r & 0xFF]
                ^ t1[(r >> 8) & 0xFF]
                ^ t2[(r >> 16) & 0xFF]
                ^ t3[(r >> 24) & 0xFF]
            )
            label.append(_ALPHABET[r % 36])
        out.append("".join(label) + ".life")
    return tuple(out)


class BumblebeeDga(BaseDga):
    """Bumblebee: 100 eleven-character ``.life`` names from a build string."""

    name = "bumblebee"
    info = DgaInfo(
        period="none",
        per_period=_COUNT,
        tlds=("life",),
        seeding="time-independent",
        active_years=(2023, 2024),
        params=(DgaParam("magic", DEFAULT_MAGIC, "build string read as a little-endian number"),),
        reference="J. Bader, baderj/domain_generation_algorithms bumblebee/ (2023)",
        notes="the clock-less build; builds seeded by the clock are not modelled",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The build's 100 names."""
        magic = str(params["magic"])
        if not magic or not magic.isascii():
            raise DgaError(f"bumblebee: magic={magic!r} is not a non-empty ASCII string")
        return list(names(seed_of(magic)))


FAMILY = Family(
    name="bumblebee",
    summary="Ransomware-access loader (2022-2024): 100 DGA names under .life per build",
    channels=(
        Channel("dga", dga=BumblebeeDga(), note="the build string differs per campaign (magic)"),
    ),
    references=(
        "Proofpoint, 'This isn't Optimus Prime's Bumblebee but it's still transforming' "
        "(April 2022)",
        "Europol, Operation Endgame (May 2024)",
        "github.com/baderj/domain_generation_algorithms, bumblebee/ (J. Bader, 2023; "
        "published example domains)",
    ),
)
