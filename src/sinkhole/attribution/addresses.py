"""Many addresses as text -> numbers, in bulk: IPv4 in Arrow compute, IPv6 one by one."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_V4 = rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$"


@dataclass
class Addresses:
    """The valid addresses of an input, in input order, with their numeric values."""

    text: pa.Array
    is6: npt.NDArray[np.bool_]
    v4: npt.NDArray[np.uint64]
    v6: npt.NDArray[np.bytes_]
    invalid: int
    #: the first few texts that were not addresses, for the message
    examples: list[str]

    def __len__(self) -> int:
        return len(self.text)


def parse(texts: Sequence[str | None] | pa.Array) -> Addresses:
    """Parse addresses; what is neither IPv4 nor IPv6 is counted, not kept."""
    arr = texts if isinstance(texts, pa.Array) else pa.array(texts, pa.string())
    arr = pc.utf8_trim_whitespace(arr)
    # dual-stack listeners log IPv4 clients as ::ffff:a.b.c.d: they are IPv4 addresses
    arr = pc.replace_substring_regex(arr, r"(?i)^::ffff:(\d+\.\d+\.\d+\.\d+)$", r"\1")
    is4 = pc.fill_null(pc.match_substring_regex(arr, _V4), False)
    four = np.asarray(is4.to_numpy(zero_copy_only=False), dtype=bool)
    octets = pc.cast(pc.list_flatten(pc.split_pattern(arr.filter(is4), ".")), pa.uint64())
    flat = np.asarray(octets.to_numpy(), dtype=np.uint64).reshape(-1, 4)
    v4 = (flat[:, 0] << 24) | (flat[:, 1] << 16) | (flat[:, 2] << 8) | flat[:, 3]
    rest = np.flatnonzero(~four)
    six = np.zeros(len(four), dtype=bool)
    packed: list[bytes] = []
    examples: list[str] = []
    invalid = 0
    for index, text in zip(rest.tolist(), arr.filter(pc.invert(is4)).to_pylist(), strict=True):
        try:
            packed.append(socket.inet_pton(socket.AF_INET6, text or ""))
            six[index] = True
        except (OSError, ValueError):
            invalid += 1
            if len(examples) < 3:
                examples.append(text or "")
    keep = four | six
    text = arr.filter(pa.array(keep))
    return Addresses(
        text,
        six[keep],
        v4.astype(np.uint64),
        np.array(packed, dtype="S16"),
        invalid,
        examples,
    )
