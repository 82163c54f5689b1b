"""Necurs: hard-coded C&C hosts, then 2048 DGA names per 4-day bucket, then P2P.

Necurs (2012-2020) was a rootkit-protected spam and malware-distribution
botnet, among the largest ever seen. Public analyses describe three ways a bot
finds its C&C, in this order: hosts hard-coded in the build (Bader's 2015
sample first tried ``qcmbartuop.bit``; others carry IP addresses), the main
domain generation algorithm below, and a peer-to-peer network used mainly to
hand out fresh C&C addresses (Nominum/Akamai 2016; the 2020 Microsoft-led
takedown had to cover the DGA years ahead). Bader also describes a first
"DGA" of four random ``.com`` names used only to detect fake lab internet;
those names are unpredictable and are not modelled.

Algorithm (Johannes Bader, "The DGAs of Necurs", johannesbader.ch / bin.re,
Feb. 2015; DGArchive; reimplemented in baderj/domain_generation_algorithms
``necurs/``): a 64-bit mixing function ``f`` runs ``(v & 0x7F) + 21`` rounds of
``v += ((7 v) ^ (v << 15)) + 8 i - (v >> 5)`` (mod 2**64). The bot chains
``f`` over the year, ``month + 43690``, ``day >> 2`` (so days 1-3, 4-7, ..,
28-31 share a list), the sequence number 0..2047 and a build constant
("magic", 9 in the published sample). The label has ``n % 15 + 7`` letters;
each letter is ``chr(97 + n % 25)`` after ``n = f(n + i)``, followed by
``n = f(n + 0xABBEDF)``; the TLD is ``n % 43`` in a table of 43 TLDs.

The optimized generator runs ``f`` for all 2048 domains at once: the 64-bit
values sit in 80-bit lanes of one big integer (the largest intermediate,
``v + (v << 15) + 8 i``, stays below 2**80, so lanes never carry into each
other), sorted by their round count so lanes that are done can be split off
the top. Each CPython big-integer operation then does the work of every lane.

Active years: 2012-2020. Microsoft's Digital Crimes Unit counts infections
"since 2012" and disrupted the botnet on 2020-03-10 (Microsoft DCU, Shadowserver
"Has the Sun Set on the Necurs Botnet?", 2020). Microsoft also blocked the
names of the next 25 months (to 2022); look those up with ``--around``.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Mapping

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

_COUNT = 2048
_MASK64 = (1 << 64) - 1
_TLDS = (
    "tj", "in", "jp", "tw", "ac", "cm", "la", "mn", "so", "sh", "sc", "nu", "nf", "mu",
    "ms", "mx", "ki", "im", "cx", "cc", "tv", "bz", "me", "eu", "de", "ru", "co", "su",
    "pw", "kz", "sx", "us", "ug", "ir", "to", "ga", "com", "net", "org", "biz", "xxx",
    "pro", "bit",
)  # fmt: skip
_SUFFIXES = tuple("." + tld for tld in _TLDS)
_LETTER_STEP = 0xABBEDF
#: round constants 8 i of a run of n rounds, for every possible n (21..148)
_STEPS = tuple(tuple(range(0, 8 * n, 8)) for n in range(149))

#: lane layout: 80 bits, little-endian; the 64-bit value sits in the low 8 bytes
_LANE_BITS = 80
_LANE_BYTES = 10
_LANE_MASK = b"\xff" * 8 + b"\x00" * 2
_LANE_ONE = b"\x01" + b"\x00" * 9
_LANE = struct.Struct("<Q2x")


def mix(value: int) -> int:
    """The bot's 64-bit mixing function on one value (reduced mod 2**64 first)."""
    value &= _MASK64
    for step in _STEPS[(value & 0x7F) + 21]:
        value = (value + ((value * 7) ^ (value << 15)) + step - (value >> 5)) & _MASK64
    return value


def mix_many(values: list[int]) -> list[int]:
    """`mix` of every value (each already below 2**64), computed lane-parallel."""
    count = len(values)
    if not count:
        return []
    # lanes sorted by round count, most rounds first (lowest lanes): the lanes
    # that finish are then always the top ones and are split off with a shift
    buckets: list[list[int]] = [[] for _ in range(128)]
    for index, value in enumerate(values):
        buckets[value & 0x7F].append(index)
    order = [index for bucket in reversed(buckets) for index in bucket]
    ends = [(values[index] & 0x7F) + 21 for index in order]
    packed = int.from_bytes(
        b"".join([values[index].to_bytes(_LANE_BYTES, "little") for index in order]), "little"
    )
    size = count
    mask = int.from_bytes(_LANE_MASK * count, "little")
    ones = int.from_bytes(_LANE_ONE * count, "little")
    finished: list[tuple[int, int]] = []
    for step in range(ends[0]):
        if ends[size - 1] <= step:
            old = size
            while ends[size - 1] <= step:
                size -= 1
            finished.append((old - size, packed >> (_LANE_BITS * size)))
            drop = _LANE_BITS * (old - size)
            mask >>= drop
            ones >>= drop
        # the top lanes just split off are cleared by the final mask
        packed = (
            packed + ((packed * 7) ^ (packed << 15)) + ones * (step << 3) - ((packed >> 5) & mask)
        ) & mask
    parts = [packed.to_bytes(_LANE_BYTES * size, "little")]
    parts.extend(top.to_bytes(_LANE_BYTES * lanes, "little") for lanes, top in reversed(finished))
    out = [0] * count
    for index, (value,) in zip(order, _LANE.iter_unpack(b"".join(parts)), strict=True):
        out[index] = value
    return out


def bucket_seed(date: dt.date) -> int:
    """The state after mixing in the year, the month and ``day >> 2``."""
    state = mix(date.year)
    state = mix(state + date.month + 43690)
    return mix(state + (date.day >> 2))


class NecursDga(BaseDga):
    """Necurs' main DGA: 2048 names per ``day >> 2`` bucket, 43 TLDs."""

    name = "necurs"
    info = DgaInfo(
        period="4-day",
        per_period=_COUNT,
        tlds=_TLDS,
        seeding="time-dependent",
        active_years=(2012, 2020),
        params=(
            DgaParam(
                "magic",
                9,
                "build constant mixed in after the sequence number (9 in the published sample)",
            ),
        ),
        reference="Johannes Bader, 'The DGAs of Necurs' (bin.re, 2015); DGArchive",
        notes=(
            "buckets are day >> 2 within each month: days 1-3, 4-7, 8-11, .., 28-31 "
            "(a month's last bucket has 1-4 days); 64-bit arithmetic throughout"
        ),
    )

    def period_start(self, date: dt.date) -> dt.date:
        """The first day of the date's ``day >> 2`` bucket (1, 4, 8, .., 28)."""
        return date.replace(day=max(1, date.day & ~3))

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The bucket's 2048 names, in sequence-number order."""
        magic = int(params["magic"])
        if not 0 <= magic <= _MASK64:
            raise DgaError(f"necurs: magic {magic} is not a 64-bit value")
        mask = _MASK64
        seed = bucket_seed(key)
        state = mix_many([(seed + sequence) & mask for sequence in range(_COUNT)])
        state = mix_many([(value + magic) & mask for value in state])
        lengths = [value % 15 + 7 for value in state]
        labels = [bytearray() for _ in range(_COUNT)]
        active = list(range(_COUNT))
        for position in range(21):
            active = [index for index in active if lengths[index] > position]
            letters = mix_many([(state[index] + position) & mask for index in active])
            for index, value in zip(active, letters, strict=True):
                labels[index].append(97 + value % 25)
            after = mix_many([(value + _LETTER_STEP) & mask for value in letters])
            for index, value in zip(active, after, strict=True):
                state[index] = value
        return [
            label.decode() + _SUFFIXES[value % 43]
            for label, value in zip(labels, state, strict=True)
        ]


FAMILY = Family(
    name="necurs",
    summary="Spam/malware botnet: hard-coded hosts, 2048 DGA names per 4-day bucket, P2P fallback",
    channels=(
        Channel(
            "static-domains",
            note="C&C hosts hard-coded per build (e.g. qcmbartuop.bit in Bader's 2015 sample, "
            "IP addresses in others); not published as a list, supply them in the operation "
            "file",
        ),
        Channel(
            "dga",
            dga=NecursDga(),
            note="2048 names per day>>2 bucket over 43 TLDs (.bit and others cannot be seized "
            "at a registry)",
        ),
        Channel(
            "p2p",
            note="peer-to-peer network that hands out C&C addresses; cannot be closed by "
            "seizing names, only by peer poisoning or cleanup",
        ),
    ),
    references=(
        "Johannes Bader, 'The DGAs of Necurs' (johannesbader.ch / bin.re, 2015); DGArchive",
        "github.com/baderj/domain_generation_algorithms, necurs/ (published example domains)",
        "Nominum / Akamai, 'Preventing the Necurs Bot from Phoning Home' (2016): "
        "hard-coded servers, DGA and P2P",
        "Peter Ferrie, 'The Curse of Necurs' (Virus Bulletin, 2014)",
        "Microsoft Digital Crimes Unit, Necurs disruption (March 2020)",
    ),
)
