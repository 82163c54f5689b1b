"""pykspa-v2: the improved Pykspa DGA (Skype worm): an MD6-seeded real set and a noise set.

Pykspa spreads over Skype and reaches its C&C through generated names. The
improved DGA (J. Bader, "The DGA of Pykspa", 2015-03,
http://johannesbader.ch/2015/03/the-dga-of-pykspa/; seeding reimplemented in
baderj/domain_generation_algorithms ``pykspa/improved`` in 2020) makes two
sets of names: set 1, whose seed changes every 20 days, holds the names the
bot really uses (DGArchive's pykspa_v2_real); set 2, reseeded daily, is noise
to hide them (pykspa_v2_fake). The earlier DGA is ``pykspa-v1``. No static
C&C names are described.

The algorithm in words:

* Seed: ``n`` = days since 1970-01-01 divided by 20 (set 1) or 1 (set 2),
  (the bot uses its local clock; we use UTC). The MD6-256 hex digest of ``n``
  as 4 little-endian bytes is the key material. Its 32 pairs of hex
  characters become 16-bit values ``256*c0 + c1``, padded with zeros to 128
  registers. A step on register ``i`` advances it as an LCG (``v = 22695477*v
  + 1 mod 2**32``) and folds bits 16-30 of it into a running result:
  ``result = rotl32(result + ((v >> 16) & 0x7FFF), result & 15)``. The
  seeding runs triangular rounds (register ``i`` stepped ``i + 1`` times),
  then rewrites a 256-byte buffer holding the hex digest: each write steps
  all 128 registers, stores the result's low byte in the buffer and adds the
  old byte to the result and to the last register (256 writes from index 0,
  then 2570 from index 255, wrapping), rebuilds the 128 registers from the
  buffer's byte pairs, runs triangular rounds again from a zero result and
  finally turns four hex characters of the digest at offset ``n mod 50``
  into the four bytes of the 32-bit seed (each the character xor the low byte
  after stepping all registers).
* Names: for ``k`` = 0, 1, ...: ``seed += seed mod (k+1) + 1``; the length is
  ``6 + (seed + k) mod 7``; letter ``i`` is ``(a + (seed*(seed mod 5 + seed
  mod 123456 + i*((seed & 1) + seed mod 4567)) mod 2**32)) mod 26`` with ``a =
  length**2 + i*length``, a local copy of the seed moving on by ``(7837632 *
  seed * length mod 2**32 + 82344) mod (541*length + 4)`` per letter; the TLD
  is ``seed & 3`` into ``com net org info`` (the table's fifth entry, ``cc``,
  is never reached).

MD6 (Rivest et al., 2008) is not in Python's hashlib and no maintained package
provides it, so :func:`md6_256` implements the one case used: an unkeyed
256-bit digest of a message of at most 512 bytes, which is one compression
(104 rounds) of one padded block; it reproduces the published MD6 test values.

Active years: 2015-2016. Bader published the improved DGA in March 2015 from
current samples; the published list is for the 20-day period from
2015-08-13; we add the year after.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.exceptions import DgaError
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

TLDS = ("com", "net", "org", "info")
DEFAULT_COUNT = 200
_M = 0xFFFFFFFF
_M64 = (1 << 64) - 1
_UNIX_DAY0 = dt.date(1970, 1, 1).toordinal()
_REGISTERS = 128

# MD6 constants (Rivest et al., "The MD6 hash function", 2008): Q is sqrt(6)'s fraction
_MD6_Q = (
    0x7311C2812425CFA0, 0x6432286434AAC8E7, 0xB60450E9EF68B7C1, 0xE8FB23908D9F06F1,
    0xDD2E76CBA691E5BF, 0x0CD0D63B2C30BC41, 0x1F8CCF6823058F8A, 0x54E5ED5B88E3775D,
    0x4AD12AAE0A6D6031, 0x3E7F16BB88222E0D, 0x8AF8671D3FB50C2C, 0x995AD1178BD25C31,
    0xC878C1DD04C4B633, 0x3B72066C7A1552AC, 0x0D6F3522631EFFCB,
)  # fmt: skip
_MD6_RIGHT = (10, 5, 13, 10, 11, 12, 2, 7, 14, 15, 7, 13, 11, 7, 6, 12)
_MD6_LEFT = (11, 24, 9, 16, 15, 9, 27, 15, 6, 2, 29, 8, 15, 5, 31, 9)
_MD6_S0 = 0x0123456789ABCDEF
_MD6_SMASK = 0x7311C2812425CFA0


def md6_256(message: bytes) -> bytes:
    """MD6-256 (unkeyed, default mode) of a message of at most 512 bytes."""
    if len(message) > 512:
        raise DgaError("md6_256 here covers messages of at most 512 bytes (one block)")
    rounds, digest_bits = 104, 256
    padding = 512 - len(message)
    block = message + bytes(padding)
    node = 1 << 56  # level 1, index 0
    control = (rounds << 48) | (64 << 40) | (1 << 36) | ((8 * padding) << 20) | digest_bits
    a = list(_MD6_Q) + [0] * 8 + [node, control]
    a += [int.from_bytes(block[i : i + 8], "big") for i in range(0, 512, 8)]
    s = _MD6_S0
    for _ in range(rounds):
        for right, left in zip(_MD6_RIGHT, _MD6_LEFT, strict=True):
            x = s ^ a[-89] ^ a[-17] ^ (a[-18] & a[-21]) ^ (a[-31] & a[-67])
            x ^= x >> right
            a.append(x ^ ((x << left) & _M64))
        s = (((s << 1) & _M64) | (s >> 63)) ^ (s & _MD6_SMASK)
    chain = b"".join(w.to_bytes(8, "big") for w in a[-16:])
    return chain[-digest_bits // 8 :]


class _Registers:
    """The 128 LCG registers and the running result of Pykspa's seeding."""

    def __init__(self, values: list[int]) -> None:
        self.values = values
        self.result = 0

    def step_all(self) -> None:
        """Step every register once, in order."""
        values = self.values = [(v * 22695477 + 1) & _M for v in self.values]
        result = self.result
        for v in values:
            a = (((v >> 16) & 0x7FFF) + result) & _M
            shift = result & 15
            # a >> 32 is 0, so shift 0 needs no special case
            result = ((a << shift) | (a >> (32 - shift))) & _M
        self.result = result

    def triangle(self) -> None:
        """Step register i (i + 1) times, for each i in order."""
        values, result = self.values, self.result
        for i in range(_REGISTERS):
            v = values[i]
            for _ in range(i + 1):
                v = (v * 22695477 + 1) & _M
                a = (((v >> 16) & 0x7FFF) + result) & _M
                shift = result & 15
                result = ((a << shift) | (a >> (32 - shift))) & _M
            values[i] = v
        self.result = result

    def encrypt(self, key: int) -> int:
        """Step all registers; the result's low byte (key xor'ed out), then mix the key in."""
        self.step_all()
        low = self.result & 0xFF
        self.result = (self.result + key) & _M
        self.values[-1] = (self.values[-1] + key) & _M
        return low


#: Set 1 seeds of the active years' 20-day periods (2015-2016), computed by `seed_of` and
#: checked against it in the tests: the seeding costs ~0.4 s of Python per period.
_ACTIVE_SEEDS: dict[int, int] = {
    821: 0xF085A446, 822: 0xFFC222D4, 823: 0xF3FC72BB, 824: 0x2FF654D0,
    825: 0x54D64257, 826: 0xEC343337, 827: 0xCCD10407, 828: 0x91F7E71C, 829: 0x5CEA1D7A,
    830: 0xB6FCD7EF, 831: 0x7C562F77, 832: 0x4936D2DB, 833: 0xB8B2C9E1, 834: 0x31B275C5,
    835: 0x00A13852, 836: 0x06F4F5A0, 837: 0x90864D97, 838: 0x225A3E31, 839: 0xF400AC9C,
    840: 0x1F5C0EED, 841: 0x484515A0, 842: 0x2FE28339, 843: 0xD989ADB6, 844: 0x890165EF,
    845: 0xCF84A4C0, 846: 0x845D2318, 847: 0x6F3B5C78, 848: 0xE85FD87C, 849: 0xA7A19F23,
    850: 0xFF32DD4D, 851: 0xC7258FAA, 852: 0x81E244B0, 853: 0x0A32631D, 854: 0x1639FACA,
    855: 0xB63DE100, 856: 0x4873592C, 857: 0xA8B65C27, 858: 0x7F4D798D,
}  # fmt: skip


@lru_cache(maxsize=64)
def seed_of(number: int) -> int:
    """The 32-bit name seed of period `number`."""
    digest = md6_256((number & _M).to_bytes(4, "little")).hex()
    values = [ord(digest[i]) * 256 + ord(digest[i + 1]) for i in range(0, 64, 2)]
    registers = _Registers(values + [0] * (_REGISTERS - len(values)))
    registers.triangle()
    buffer = bytearray(digest.encode("ascii")) + bytearray(256 - len(digest))
    for count, start in ((256, 0), (2570, 255)):
        index = start
        for _ in range(count):
            if index >= 256:
                index = 0
            buffer[index] = registers.encrypt(buffer[index])
            index += 1
    registers.values = [buffer[i] * 256 + buffer[i + 1] for i in range(0, 256, 2)]
    registers.result = 0
    registers.triangle()
    seed = 0
    offset = number % 50
    for i, char in enumerate(digest[offset : offset + 4]):
        seed |= (ord(char) ^ registers.encrypt(ord(char))) << (8 * i)
    return seed


def _label(length: int, seed: int) -> str:
    modulo = 541 * length + 4
    a = length * length
    out = []
    for i in range(length):
        mix = (seed * (seed % 5 + seed % 123456 + i * ((seed & 1) + seed % 4567))) & _M
        out.append(chr(97 + (a + mix) % 26))
        a += length
        seed += (((7837632 * seed * length) & _M) + 82344) % modulo
    return "".join(out)


@lru_cache(maxsize=64)
def _names(number: int, count: int) -> tuple[str, ...]:
    seed = _ACTIVE_SEEDS.get(number)
    if seed is None:
        seed = seed_of(number)
    out = []
    for k in range(count):
        seed += seed % (k + 1) + 1
        out.append(_label(6 + (seed + k) % 7, seed) + "." + TLDS[seed & 3])
    return tuple(out)


class PykspaV2Dga(BaseDga):
    """Pykspa improved: names from an MD6-seeded generator, real set per 20 days, noise daily."""

    name = "pykspa-v2"
    #: the seed counts periods of Unix time, packed as an unsigned number: nothing before 1970
    supported = (dt.date(1970, 1, 1), dt.date.max)
    info = DgaInfo(
        period="20-day",
        per_period=DEFAULT_COUNT,
        tlds=TLDS,
        seeding="time-dependent",
        active_years=(2015, 2016),
        params=(
            DgaParam(
                "set",
                1,
                "1: the names the bot uses (reseeded every 20 days); 2: daily noise names",
                choices=(1, 2),
            ),
            DgaParam(
                "count",
                DEFAULT_COUNT,
                "names listed per seed (the published list shows the first 10)",
                minimum=1,
                maximum=1 << 14,
            ),
        ),
        reference="http://johannesbader.ch/2015/03/the-dga-of-pykspa/",
        notes="set 1 changes every 20 days counted from 1970-01-01, set 2 daily; the "
        "lists are keyed per day and each seed is computed once",
    )

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """The names of the seed period that contains day `key`."""
        days = key.toordinal() - _UNIX_DAY0
        number = days // 20 if int(params["set"]) == 1 else days
        return list(_names(number, int(params["count"])))


FAMILY = Family(
    name="pykspa-v2",
    summary="Pykspa Skype worm, improved DGA: MD6-seeded names every 20 days plus daily noise",
    channels=(
        Channel(
            "dga",
            dga=PykspaV2Dga(),
            note="set 1 holds the names bots use; set 2 (noise) only needs blocking",
        ),
    ),
    references=(
        "J. Bader, 'The DGA of Pykspa' (2015), http://johannesbader.ch/2015/03/the-dga-of-pykspa/",
        "baderj/domain_generation_algorithms, pykspa/improved/ (seeding, example list)",
        "DGArchive (Fraunhofer FKIE), families pykspa_v2_real and pykspa_v2_fake",
        "R. Rivest et al., 'The MD6 hash function' (2008)",
    ),
    aliases=("pykspa", "pykspa-improved"),
)
