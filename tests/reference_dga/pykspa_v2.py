"""Straightforward reference for the improved Pykspa DGA, with a plain MD6-256.

Written from the public descriptions: J. Bader, "The DGA of Pykspa" (2015) and
the seeding as reimplemented in 2020; MD6 from Rivest et al., "The MD6 hash
function" (2008), one compression of one 512-byte block.
"""

from __future__ import annotations

import datetime as dt

M = 0xFFFFFFFF
M64 = (1 << 64) - 1
Q = [
    0x7311C2812425CFA0, 0x6432286434AAC8E7, 0xB60450E9EF68B7C1, 0xE8FB23908D9F06F1,
    0xDD2E76CBA691E5BF, 0x0CD0D63B2C30BC41, 0x1F8CCF6823058F8A, 0x54E5ED5B88E3775D,
    0x4AD12AAE0A6D6031, 0x3E7F16BB88222E0D, 0x8AF8671D3FB50C2C, 0x995AD1178BD25C31,
    0xC878C1DD04C4B633, 0x3B72066C7A1552AC, 0x0D6F3522631EFFCB,
]  # fmt: skip
RIGHT = [10, 5, 13, 10, 11, 12, 2, 7, 14, 15, 7, 13, 11, 7, 6, 12]
LEFT = [11, 24, 9, 16, 15, 9, 27, 15, 6, 2, 29, 8, 15, 5, 31, 9]


def md6_256(data: bytes) -> bytes:
    rounds = 104
    pad = 512 - len(data)
    block = data + bytes(pad)
    words = [int.from_bytes(block[i : i + 8], "big") for i in range(0, 512, 8)]
    u = 1 << 56
    v = (rounds << 48) | (64 << 40) | (1 << 36) | (pad * 8 << 20) | 256
    a = Q + [0] * 8 + [u, v] + words
    s = 0x0123456789ABCDEF
    for step in range(16 * rounds):
        i = 89 + step
        x = s ^ a[i - 89] ^ a[i - 17] ^ (a[i - 18] & a[i - 21]) ^ (a[i - 31] & a[i - 67])
        x ^= x >> RIGHT[step % 16]
        a.append(x ^ ((x << LEFT[step % 16]) & M64))
        if step % 16 == 15:
            s = (((s << 1) | (s >> 63)) & M64) ^ (s & 0x7311C2812425CFA0)
    return b"".join(w.to_bytes(8, "big") for w in a[-16:])[-32:]


def rotl(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (32 - shift))) & M


def seeding(number: int) -> int:
    digest = md6_256(number.to_bytes(4, "little")).hex()
    values = [ord(digest[i]) * 256 + ord(digest[i + 1]) for i in range(0, 64, 2)]
    values += [0] * (128 - len(values))
    state = {"result": 0}

    def lcg(index: int) -> None:
        v = (values[index] * 22695477 + 1) & M
        values[index] = v
        a = (((v >> 16) & 0x7FFF) + state["result"]) & M
        state["result"] = rotl(a, state["result"] & 0xF)

    def triangle() -> None:
        for index in range(128):
            for _ in range(index + 1):
                lcg(index)

    def encrypt(key: int) -> int:
        for index in range(128):
            lcg(index)
        new_key = key ^ (state["result"] & 0xFF)
        state["result"] = (state["result"] + key) & M
        values[127] = (values[127] + key) & M
        return new_key

    triangle()
    buffer = list(digest.encode("ascii")) + [0] * (256 - len(digest))
    for rounds, start in ((256, 0), (2570, 255)):
        index = start
        for _ in range(rounds):
            if index >= 256:
                index = 0
            key = buffer[index]
            buffer[index] = encrypt(key) ^ key
            index += 1
    values = [buffer[i] * 256 + buffer[i + 1] for i in range(0, 256, 2)]
    state["result"] = 0
    triangle()
    seed = 0
    offset = number % 50
    for i, char in enumerate(digest[offset : offset + 4]):
        seed += encrypt(ord(char)) << (8 * i)
    return seed


def label(length: int, seed: int) -> str:
    out = ""
    modulo = 541 * length + 4
    a = length * length
    for i in range(length):
        mix = (seed * ((seed % 5) + (seed % 123456) + i * ((seed & 1) + (seed % 4567)))) & M
        out += chr(ord("a") + (a + mix) % 26)
        a += length
        seed += (((7837632 * seed * length) & M) + 82344) % modulo
    return out


def generate(date: dt.date, set: int = 1, count: int = 200) -> list[str]:
    """The names of the seed period of `date` (UTC)."""
    days = (date - dt.date(1970, 1, 1)).days
    seed = seeding(days // 20 if set == 1 else days)
    names = []
    for k in range(count):
        seed += seed % (k + 1) + 1
        length = (seed + k) % 7 + 6
        names.append(label(length, seed) + "." + ["com", "net", "org", "info", "cc"][seed & 3])
    return names
