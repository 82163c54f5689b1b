"""What a `serve` holds alone: the data folder lock and the listening addresses."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from sinkhole.servers import claims


def test_data_lock_names_its_holder(tmp_path: Path) -> None:
    first = claims.DataLock(tmp_path).acquire()
    try:
        with pytest.raises(
            claims.ClaimError, match=r"in use by another sinkhole serve \(PID \d+\)"
        ):
            claims.DataLock(tmp_path).acquire()
    finally:
        first.release()
    claims.DataLock(tmp_path).acquire().release()  # free again


def test_port_zero_gets_a_port_free_for_udp_and_tcp(tmp_path: Path) -> None:
    [port], held = claims.claim([("127.0.0.1", 0, (socket.SOCK_DGRAM, socket.SOCK_STREAM))])
    try:
        assert port > 0
        assert sorted(s.type for s in held) == sorted([socket.SOCK_DGRAM, socket.SOCK_STREAM])
        # held: nobody else binds it without SO_REUSEPORT
        with pytest.raises(claims.ClaimError, match=f"127.0.0.1:{port} \\(udp\\)"):
            claims.probe("127.0.0.1", port, socket.SOCK_DGRAM)
    finally:
        claims.release(held)
    claims.probe("127.0.0.1", port, socket.SOCK_DGRAM)  # and free once released


def test_a_wildcard_and_a_specific_address_on_one_port_are_both_ours() -> None:
    udp = (socket.SOCK_DGRAM,)
    [port], held = claims.claim([("127.0.0.1", 0, udp)])
    claims.release(held)
    ports, held = claims.claim([("0.0.0.0", port, udp), ("127.0.0.2", port, udp)])
    claims.release(held)
    assert ports == [port, port]
    with pytest.raises(claims.ClaimError, match=f"127.0.0.1:{port} \\(udp\\) is given to two"):
        claims.claim([("127.0.0.1", port, udp), ("127.0.0.1", port, udp)])
