"""The raw TCP and UDP listeners: payload heads recorded, check-ins decoded, nothing amplified."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sinkhole.events import store
from sinkhole.families import megad_sim
from sinkhole.testing import running_sinkhole
from tests.servers.inprocess import HOST, Served, operation_text, serving

BOT = "a1b2c3d4e5f60718"
CHECKIN = megad_sim.checkin_raw(BOT, 3, "raw-box")


def tcp_send(port: int, *chunks: bytes, pause: float = 0.0, wait_reply: bool = False) -> bytes:
    with socket.create_connection((HOST, port), timeout=3) as sock:
        for chunk in chunks:
            sock.sendall(chunk)
            time.sleep(pause)
        if not wait_reply:
            return b""
        try:
            return sock.recv(1024)
        except TimeoutError:
            return b""


def udp_send(port: int, payload: bytes, timeout: float = 2.0) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(payload, (HOST, port))
        try:
            return sock.recv(1024)
        except TimeoutError:
            return b""


def test_raw_checkins_through_sinkhole_serve(tmp_path: Path) -> None:
    op = tmp_path / "op.toml"
    listeners = (
        'tcp = [{address = "127.0.0.1:0", family = "megad-sim"}]\nudp = [{address = "127.0.0.1:0"}]'
    )
    op.write_text(operation_text(listeners=listeners))
    data = tmp_path / "data"
    with running_sinkhole(op, data) as sink:
        tcp_host, tcp_port = sink.address("tcp")
        udp_host, udp_port = sink.address("udp")
        assert tcp_send(tcp_port, CHECKIN, wait_reply=True) == megad_sim.RAW_REPLY
        assert tcp_send(tcp_port, b"hello?") == b""
        # the UDP listener has no family: the megad-sim decoder tastes the magic
        assert udp_send(udp_port, CHECKIN) == megad_sim.RAW_REPLY
        assert udp_send(udp_port, b"\x01\x02unknown", timeout=0.3) == b""
    events = store.read(data, store.Filter(application="raw")).to_pylist()
    tcp = [e for e in events if e["protocol"] == "tcp"]
    udp = [e for e in events if e["protocol"] == "udp"]
    assert len(tcp) == 2 and len(udp) == 2
    for event, (host, port) in ((tcp[0], (tcp_host, tcp_port)), (udp[0], (udp_host, udp_port))):
        assert event["application"] == "raw"
        assert (event["dst_ip"], event["dst_port"]) == (host, port)
        assert event["src_ip"] == "127.0.0.1"
        assert event["sensor"] == "sensor-w0"
        assert event["family"] == "megad-sim"
        assert (event["bot_id"], event["version"], event["machine_name"]) == (BOT, "3", "raw-box")
        assert event["payload_head"] == CHECKIN
        assert event["tag"] is None
    # the TCP port belongs to megad-sim even when the bytes do not decode
    assert (tcp[1]["family"], tcp[1]["bot_id"], tcp[1]["payload_head"]) == (
        "megad-sim",
        None,
        b"hello?",
    )
    assert (udp[1]["family"], udp[1]["bot_id"], udp[1]["payload_head"]) == (
        None,
        None,
        b"\x01\x02unknown",
    )


def test_tcp_head_is_capped_and_split_checkins_decode(tmp_path: Path) -> None:
    with serving(tmp_path / "data", {"payload_head": 32, "idle_timeout": 1.0}) as served:
        port = served.ports["tcp"]
        # the check-in in three pieces: decoded once complete, answered
        assert (
            tcp_send(port, CHECKIN[:3], CHECKIN[3:10], CHECKIN[10:], pause=0.05, wait_reply=True)
            == megad_sim.RAW_REPLY
        )
        tcp_send(port, b"x" * 20, b"y" * 20, b"z" * 100, pause=0.02)
        tcp_send(port)  # connects, says nothing
        # a check-in cut short by the client is recorded, undecoded
        tcp_send(port, CHECKIN[:9])
        with socket.create_connection((HOST, port), timeout=5) as sock:
            sock.sendall(b"idle")
            started = time.monotonic()
            assert sock.recv(10) == b""  # closed by the idle timeout
            assert 0.9 < time.monotonic() - started < 3.0
    events = served.events("raw")
    rows = [(e["payload_head"], e["family"], e["bot_id"], e["tag"]) for e in events]
    # connections that end by closing are recorded as they close: in any order
    assert sorted(rows, key=repr) == sorted(
        [
            (CHECKIN, "megad-sim", BOT, None),
            (b"x" * 20 + b"y" * 12, None, None, None),
            (None, None, None, "no-data"),
            (CHECKIN[:9], None, None, None),
            (b"idle", None, None, None),
        ],
        key=repr,
    )
    counters = served.ctx.counters()["tcp"]
    assert counters["connections"] == 5 and counters["decoded"] == 1
    assert counters["idle_closed"] >= 1


def test_tcp_connection_cap_and_byte_cap(tmp_path: Path) -> None:
    with serving(tmp_path / "data", {"max_connections": 1, "body_bytes": 1000}) as served:
        port = served.ports["tcp"]
        with socket.create_connection((HOST, port), timeout=3) as held:
            held.sendall(b"first")
            time.sleep(0.1)
            with (
                socket.create_connection((HOST, port), timeout=3) as extra,
                contextlib.suppress(ConnectionResetError),  # refused with a reset
            ):
                assert extra.recv(10) == b""
        time.sleep(0.1)
        with socket.create_connection((HOST, port), timeout=3) as sock:
            try:
                for _ in range(20):
                    sock.sendall(b"f" * 200)
                    time.sleep(0.01)
            except OSError:
                pass
            with contextlib.suppress(ConnectionResetError):
                assert sock.recv(10) == b""
        counters = served.ctx.counters()["tcp"]
        assert counters["connections_refused"] == 1
        assert counters["oversized"] == 1


def test_udp_datagrams_each_make_an_event_and_only_checkins_get_a_reply(tmp_path: Path) -> None:
    with serving(tmp_path / "data", {"payload_head": 8}) as served:
        port = served.ports["udp"]
        assert udp_send(port, CHECKIN) == megad_sim.RAW_REPLY
        assert udp_send(port, b"MGDS", timeout=0.3) == b""  # tastes right, but incomplete
        assert udp_send(port, b"", timeout=0.3) == b""
    rows = [(e["payload_head"], e["family"], e["bot_id"], e["tag"]) for e in served.events("raw")]
    assert rows == [
        (CHECKIN[:8], "megad-sim", BOT, None),
        (b"MGDS", None, None, None),
        (None, None, None, "no-data"),
    ]


def test_megad_sim_raw_decoder() -> None:
    decoder = megad_sim.FAMILY.decoders[0]
    assert decoder.decode_raw(CHECKIN) == {"bot_id": BOT, "version": "3", "machine_name": "raw-box"}
    assert decoder.decode_raw(CHECKIN + b"trailing") is not None
    for bad in (
        b"",
        b"MGDS",
        CHECKIN[:-1],
        b"XGDS" + CHECKIN[4:],
        CHECKIN[:4] + b"\x00" + CHECKIN[5:],
    ):
        assert decoder.decode_raw(bad) is None
    assert decoder.taste(CHECKIN, 9000) == 1.0
    assert decoder.taste(b"\x00\x01", 9000) == 0.0
    assert len(decoder.raw_reply) < len(CHECKIN)
    with pytest.raises(ValueError):
        megad_sim.checkin_raw(BOT, 256)


# -- fuzzing --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("fuzz"), {"payload_head": 64}) as served:
        yield served


PAYLOADS = st.one_of(
    st.binary(max_size=1500),
    st.binary(max_size=64).map(lambda tail: b"MGDS" + tail),
    st.binary(max_size=200).map(lambda tail: CHECKIN[: len(tail) % len(CHECKIN)] + tail),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(PAYLOADS)
def test_fuzzed_bytes_never_stop_the_raw_listeners(fuzz_target: Served, payload: bytes) -> None:
    udp_port, tcp_port = fuzz_target.ports["udp"], fuzz_target.ports["tcp"]
    reply = udp_send(udp_port, payload, timeout=0.05)
    assert len(reply) <= max(len(payload), 0)
    with socket.create_connection((HOST, tcp_port), timeout=2) as sock:
        sock.sendall(payload)
    assert udp_send(udp_port, CHECKIN) == megad_sim.RAW_REPLY
    assert tcp_send(tcp_port, CHECKIN, wait_reply=True) == megad_sim.RAW_REPLY
