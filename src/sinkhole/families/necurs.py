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

The optimized generator runs ``f`` on NumPy arrays of unsigned 64-bit lanes
(NumPy's uint64 arithmetic wraps mod 2**64, exactly the bot's): lanes are
sorted by their round count, so each round works on a shrinking prefix. The
reverse index hands it every period of a year at once (`domains_for_keys`),
a few hundred thousand lanes per call.

Active years: 2012-2020. Microsoft's Digital Crimes Unit counts infections
"since 2012" and disrupted the botnet on 2020-03-10 (Microsoft DCU, Shadowserver
"Has the Sun Set on the Necurs Botnet?", 2020). Microsoft also blocked the
names of the next 25 months (to 2022); look those up with ``--around``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np

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


def mix(value: int) -> int:
    """The bot's 64-bit mixing function on one value (reduced mod 2**64 first)."""
    value &= _MASK64
    for step in _STEPS[(value & 0x7F) + 21]:
        value = (value + ((value * 7) ^ (value << 15)) + step - (value >> 5)) & _MASK64
    return value


def mix_array(values: np.ndarray) -> np.ndarray:
    """`mix` of every lane of a uint64 array, as a new array in the same order."""
    rounds = (values & np.uint64(0x7F)).astype(np.int64) + 21
    order = np.argsort(-rounds, kind="stable")
    lanes = values[order]
    # most rounds first: the lanes still running after `step` rounds are a prefix
    active = np.searchsorted(-rounds[order], -np.arange(149), side="left").tolist()
    seven, fifteen, five = np.uint64(7), np.uint64(15), np.uint64(5)
    for step in range(int(rounds.max(initial=0))):
        head = lanes[: active[step]]
        mixed = head * seven
        mixed ^= head << fifteen
        mixed += head
        mixed += np.uint64(step << 3)
        mixed -= head >> five
        head[:] = mixed
    out = np.empty_like(lanes)
    out[order] = lanes
    return out


def mix_many(values: list[int]) -> list[int]:
    """`mix` of every value (each already below 2**64)."""
    return [int(v) for v in mix_array(np.array(values, dtype=np.uint64)).tolist()]


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
        return self.domains_for_keys([key], params)[0]

    def domains_for_keys(
        self, keys: Sequence[dt.date], params: Mapping[str, ParamValue]
    ) -> list[list[str]]:
        """The names of several buckets, computed together (one lane per name)."""
        magic = int(params["magic"])
        if not 0 <= magic <= _MASK64:
            raise DgaError(f"necurs: magic {magic} is not a 64-bit value")
        if not keys:
            return []
        seeds = np.array([bucket_seed(key) for key in keys], dtype=np.uint64)
        state = (seeds[:, None] + np.arange(_COUNT, dtype=np.uint64)).ravel()
        state = mix_array(mix_array(state) + np.uint64(magic))
        lengths = (state % np.uint64(15)).astype(np.int64) + 7
        labels = np.zeros((len(state), 21), dtype=np.uint8)
        active = np.arange(len(state))
        for position in range(21):
            active = active[lengths[active] > position]
            letters = mix_array(state[active] + np.uint64(position))
            labels[active, position] = (letters % np.uint64(25)).astype(np.uint8) + 97
            state[active] = mix_array(letters + np.uint64(_LETTER_STEP))
        # one fixed-width byte string per label: NumPy drops the zero padding
        words = labels.view("S21").ravel().tolist()
        suffixes = _SUFFIXES
        names = [
            word.decode() + suffixes[tld]
            for word, tld in zip(words, (state % np.uint64(43)).tolist(), strict=True)
        ]
        return [names[i : i + _COUNT] for i in range(0, len(names), _COUNT)]


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
