"""The HTTP listener over real sockets on 127.0.0.1: answers, events, limits, bad input."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sinkhole import operation
from sinkhole.events import store
from sinkhole.families import megad_sim
from sinkhole.servers import tables
from sinkhole.servers.context import ListenerContext
from sinkhole.servers.dns import NameTable
from sinkhole.testing import running_sinkhole
from tests.servers.inprocess import HOST, Served, operation_text, serving

BOT = "0123456789abcdef"
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
OK_CLOSE = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def connect(port: int, timeout: float = 5.0) -> socket.socket:
    sock = socket.create_connection((HOST, port), timeout=timeout)
    sock.settimeout(timeout)
    return sock


def read_until_closed(sock: socket.socket, limit: int = 1 << 20) -> bytes:
    out = b""
    while len(out) < limit:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        out += chunk
    return out


def read_exactly(sock: socket.socket, size: int) -> bytes:
    out = b""
    while len(out) < size:
        chunk = sock.recv(size - len(out))
        if not chunk:
            break
        out += chunk
    return out


def still_serving(port: int) -> None:
    response = httpx.get(f"http://{HOST}:{port}/alive", timeout=5)
    assert response.status_code == 200


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with serving(tmp_path / "data", {"header_timeout": 0.5, "idle_timeout": 1.0}) as s:
        yield s


# -- end to end through `sinkhole serve` ----------------------------------------


def test_any_request_is_answered_and_recorded_field_by_field(tmp_path: Path) -> None:
    op = tmp_path / "op.toml"
    op.write_text(operation_text())
    data = tmp_path / "data"
    sent: list[tuple[str, str, str, bytes]] = [
        ("GET", "/", "update-megad-sim.example", b""),
        ("POST", "/gate.php?a=1&b=%20x", "WWW.Stats-Megad-Sim.Example:8080", b"k=v" * 400),
        ("PROPFIND", "/dav/../x", "relay-megad-sim.test.", b""),
        ("DELETE", "/%ff%fe/\u00e9t\u00e9", "unplanned.example", b""),
        ("OPTIONS", "/a;b=c?d", "[::1]:80", b""),
    ]
    with running_sinkhole(op, data) as sink:
        host, port = sink.address("http")
        with httpx.Client(base_url=f"http://{host}:{port}", timeout=5) as client:
            for method, path, name, body in sent:
                headers = {"Host": name, "User-Agent": "ua/1", "Referer": "http://r.example/"}
                response = client.request(method, path, headers=headers, content=body)
                assert response.status_code == 200
                assert response.content == b""
                assert response.headers["content-length"] == "0"
            checkin = client.get(
                f"/cfg/{BOT}?v=7&os=lab-pc-7",
                headers={"Host": "cfg-megad-sim.test", "User-Agent": "megad-sim/7"},
            )
            assert checkin.status_code == 200
        time.sleep(0.4)  # a flush, so the stats file has the counters
        stats = store.sensor_stats(data)
    events = store.read(data, store.Filter(application="http")).to_pylist()
    assert len(events) == len(sent) + 1
    expected_family = [
        ("megad-sim", "static-domains"),
        ("megad-sim", "static-domains"),
        ("megad-sim", "static-domains"),
        (None, None),
        (None, None),
    ]
    for event, (method, _path, name, body), (family, channel) in zip(
        events, sent, expected_family, strict=False
    ):
        assert event["protocol"] == "tcp"
        assert event["application"] == "http"
        assert event["src_ip"] == "127.0.0.1"
        assert 0 < event["src_port"] < 65536
        assert (event["dst_ip"], event["dst_port"]) == (host, port)
        assert event["sensor"] == "sensor-w0"
        assert event["http_method"] == method
        assert event["http_host"] == name
        assert event["http_agent"] == "ua/1"
        assert event["http_referer"] == "http://r.example/"
        assert event["ssl_servername"] is None
        assert (event["family"], event["channel"]) == (family, channel)
        assert event["payload_head"] == (body[:512] or None)
        assert event["bot_id"] is None and event["tag"] is None
    assert events[0]["http_url"] == "/"
    assert events[1]["http_url"] == "/gate.php?a=1&b=%20x"
    assert events[3]["http_url"] == "/%ff%fe/%C3%A9t%C3%A9"
    assert events[4]["http_url"] == "/a;b=c?d"
    last = events[-1]
    assert (last["family"], last["channel"]) == ("megad-sim", "static-domains")
    assert (last["bot_id"], last["version"], last["machine_name"]) == (BOT, "7", "lab-pc-7")
    assert last["http_agent"] == "megad-sim/7"
    counters = stats[0]["listeners"]["http"]
    assert counters["requests"] == len(sent) + 1
    assert counters["decoded"] == 1


# -- keep-alive, pipelining, connection limits ------------------------------------


def test_keep_alive_and_pipelined_requests(served: Served) -> None:
    request = b"GET /p%d HTTP/1.1\r\nHost: update-megad-sim.example\r\n\r\n"
    with connect(served.ports["http"]) as sock:
        sock.sendall(b"".join(request % i for i in range(3)))
        assert read_exactly(sock, 3 * len(OK)) == OK * 3
        # split across writes, mid-header
        sock.sendall(b"POST /p3 HTTP/1.1\r\nHo")
        time.sleep(0.05)
        sock.sendall(b"st: x\r\nContent-Length: 4\r\n\r\nab")
        time.sleep(0.05)
        sock.sendall(b"cd" + megad_sim.checkin_http(BOT, 2, "pc"))
        assert read_exactly(sock, 2 * len(OK)) == OK * 2
    with httpx.Client(base_url=f"http://{HOST}:{served.ports['http']}") as client:
        for _ in range(3):
            assert client.get("/k").status_code == 200
    events = served.events("http")
    assert [e["http_url"] for e in events[:6]] == [
        "/p0",
        "/p1",
        "/p2",
        "/p3",
        f"/cfg/{BOT}?v=2&os=pc",
        "/k",
    ]
    assert len({e["src_port"] for e in events[:5]}) == 1
    assert len({e["src_port"] for e in events[5:]}) == 1
    assert events[3]["payload_head"] == b"abcd"
    assert (events[4]["bot_id"], events[4]["version"], events[4]["machine_name"]) == (
        BOT,
        "2",
        "pc",
    )


def test_answers_sent_together_reach_each_their_own_client(served: Served) -> None:
    # many connections ready in one turn of the loop: their answers go out together
    socks = [connect(served.ports["http"]) for _ in range(32)]
    try:
        for index, sock in enumerate(socks):
            sock.sendall(
                b"GET /c%d-a HTTP/1.1\r\n\r\nGET /c%d-b HTTP/1.1\r\nConnection: close\r\n\r\n"
                % (index, index)
            )
        for sock in socks:
            assert read_until_closed(sock) == OK + OK_CLOSE
        ports = [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()
    events = served.events("http")
    assert len(events) == 64
    for index, port in enumerate(ports):
        urls = [e["http_url"] for e in events if e["src_port"] == port]
        assert urls == [f"/c{index}-a", f"/c{index}-b"]


def test_a_keep_alive_connection_outlives_event_flushes(served: Served) -> None:
    with httpx.Client(base_url=f"http://{HOST}:{served.ports['http']}") as client:
        for index in range(5):
            assert client.get(f"/n{index}").status_code == 200
            time.sleep(0.12)  # the in-process writer flushes every 50 ms
    events = served.events("http")
    assert [e["http_url"] for e in events] == [f"/n{index}" for index in range(5)]
    assert len({e["src_port"] for e in events}) == 1


def test_requests_per_connection_and_http10_close(tmp_path: Path) -> None:
    with serving(tmp_path / "data", {"requests_per_connection": 2}) as served:
        with connect(served.ports["http"]) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n" * 3)
            assert read_until_closed(sock) == OK + OK_CLOSE
        with connect(served.ports["http"]) as sock:
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
            assert read_until_closed(sock) == OK_CLOSE
        with connect(served.ports["http"]) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET /x HTTP/1.1\r\n\r\n")
            assert read_until_closed(sock) == OK_CLOSE
    assert [e["http_url"] for e in served.events()] == ["/", "/", "/", "/"]


def test_max_connections_refused_beyond_the_cap(tmp_path: Path) -> None:
    with serving(tmp_path / "data", {"max_connections": 2}) as served:
        port = served.ports["http"]
        held = [connect(port), connect(port)]
        for sock in held:
            sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
            assert read_exactly(sock, len(OK)) == OK
        with connect(port) as extra:
            extra.sendall(b"GET / HTTP/1.1\r\n\r\n")
            assert read_until_closed(extra) == b""
        for sock in held:
            sock.close()
        time.sleep(0.1)
        still_serving(port)
        assert served.ctx.counters()["http"]["connections_refused"] == 1


def test_idle_connections_are_closed(served: Served) -> None:
    with connect(served.ports["http"]) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
        assert read_exactly(sock, len(OK)) == OK
        started = time.monotonic()
        assert read_until_closed(sock) == b""
        assert 0.5 < time.monotonic() - started < 3.0
    assert served.ctx.counters()["http"]["idle_closed"] >= 1


# -- hostile and broken clients -----------------------------------------------------


def test_malformed_request_is_recorded_answered_400_and_the_server_goes_on(
    served: Served,
) -> None:
    junk = b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03 not http at all\r\n\r\n"
    with connect(served.ports["http"]) as sock:
        sock.sendall(junk)
        reply = read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    with connect(served.ports["http"]) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nBad Header\r\n\r\n")
        assert read_until_closed(sock).startswith(OK + b"HTTP/1.1 400 ")
    still_serving(served.ports["http"])
    assert served.ctx.counters()["http"]["malformed"] == 2
    events = served.events("http")
    assert events[0]["tag"] == "malformed"
    assert events[0]["payload_head"] == junk
    assert events[0]["http_method"] is None
    assert [e["tag"] for e in events] == ["malformed", None, "malformed", None]


def test_oversized_headers_get_431_and_the_server_goes_on(tmp_path: Path) -> None:
    with serving(tmp_path / "data", {"header_bytes": 1024}) as served:
        port = served.ports["http"]
        cases = [
            b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 2000 + b"\r\n\r\n",
            b"GET /" + b"u" * 2000 + b" HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 200 + b"\r\n",
        ]
        for request in cases:
            with connect(port) as sock:
                sock.sendall(request)
                reply = read_until_closed(sock)
            assert reply.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
            still_serving(port)
        # a header line that never ends, sent in pieces: cut once past the cap
        with connect(port) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nX-Endless: ")
            reply = b""
            for _ in range(50):
                try:
                    sock.sendall(b"z" * 256)
                except OSError:
                    break
                time.sleep(0.01)
            reply = read_until_closed(sock)
            assert reply.startswith(b"HTTP/1.1 431 ")
        still_serving(port)
    assert served.ctx.counters()["http"]["oversized"] == 4
    tagged = [e for e in served.events() if e["tag"] == "header-too-large"]
    assert len(tagged) == 4
    assert tagged[0]["payload_head"] == cases[0][:512]


def test_body_over_the_cap_gets_413_with_its_head_recorded(tmp_path: Path) -> None:
    with serving(tmp_path / "data", {"body_bytes": 1000, "payload_head": 16}) as served:
        port = served.ports["http"]
        with connect(port) as sock:
            sock.sendall(b"POST /up HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + b"0123456789" * 500)
            assert read_until_closed(sock).startswith(b"HTTP/1.1 413 ")
        with connect(port) as sock:
            chunks = b"".join(b"100\r\n" + b"c" * 256 + b"\r\n" for _ in range(8))
            sock.sendall(b"POST /ch HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks)
            assert read_until_closed(sock).startswith(b"HTTP/1.1 413 ")
        response = httpx.post(f"http://{HOST}:{port}/ok", content=b"x" * 1000)
        assert response.status_code == 200
    events = served.events()
    assert [(e["http_url"], e["tag"], e["payload_head"]) for e in events] == [
        ("/up", "body-too-large", b"0123456789012345"),
        ("/ch", "body-too-large", b"c" * 16),
        ("/ok", None, b"x" * 16),
    ]


def test_slowloris_is_cut_after_the_header_timeout(served: Served) -> None:
    # header_timeout is 0.5 s; the idle timeout (1 s) never fires as bytes keep coming
    with connect(served.ports["http"]) as sock:
        started = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\n")
        closed_after = None
        for _ in range(60):
            try:
                sock.sendall(b"X")
                time.sleep(0.05)
            except OSError:
                closed_after = time.monotonic() - started
                break
            sock.setblocking(False)
            try:
                if sock.recv(1024) == b"":
                    closed_after = time.monotonic() - started
                    break
            except BlockingIOError:
                pass
            finally:
                sock.setblocking(True)
        assert closed_after is not None
        assert 0.45 < closed_after < 1.5
    assert served.ctx.counters()["http"]["timeouts"] == 1
    still_serving(served.ports["http"])


def test_upgrade_and_connect_are_answered_then_closed(served: Served) -> None:
    port = served.ports["http"]
    with connect(port) as sock:
        sock.sendall(
            b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
            b"\x81\x05hello"
        )
        assert read_until_closed(sock).startswith(b"HTTP/1.1 200 OK\r\n")
    with connect(port) as sock:
        sock.sendall(b"CONNECT relay.example:443 HTTP/1.1\r\nHost: relay.example:443\r\n\r\n")
        assert read_until_closed(sock).startswith(b"HTTP/1.1 200 OK\r\n")
    still_serving(port)
    methods = [e["http_method"] for e in served.events()]
    assert methods[:2] == ["GET", "CONNECT"]


# -- names and decoders ------------------------------------------------------------------


def test_host_names_map_to_family_and_channel() -> None:
    op = operation.loads(operation_text())
    table = NameTable({b"cc.example": ("megad-sim", "dga")})
    ctx = ListenerContext(op, "t", table)
    hit = ("megad-sim", "dga")
    for host in (
        b"cc.example",
        b"CC.Example",
        b"a.b.cc.example:8080",
        b"cc.example.",
        b"cc.example:",
    ):
        assert ctx.match_host(host) == hit, host
    for host in (b"xcc.example", b"example", b"[::1]:80", b"127.0.0.1", b"", b"cc.example.evil"):
        assert ctx.match_host(host) is None, host
    # the plan's own names, as `serve` computes them
    planned = ListenerContext(op, "t", tables.compute(op).table)
    assert planned.match_host(b"update-megad-sim.example") == ("megad-sim", "static-domains")
    planned.reload(op, table)
    assert planned.match_host(b"update-megad-sim.example") is None
    assert planned.match_host(b"www.cc.example") == hit


def test_megad_sim_http_checkin_round_trip() -> None:
    decoder = megad_sim.FAMILY.decoders[0]
    request = megad_sim.checkin_http("00ff00ff00ff00ff", 12, "desk.lab_01")
    line, _, rest = request.partition(b"\r\n")
    method, url, _ = line.split(b" ")
    headers = [(n.lower(), v) for n, _, v in (h.partition(b": ") for h in rest.split(b"\r\n") if h)]
    assert decoder.decode_http(method, url, headers, b"") == {
        "bot_id": "00ff00ff00ff00ff",
        "version": "12",
        "machine_name": "desk.lab_01",
    }
    # the version may come from the User-Agent alone
    assert decoder.decode_http(
        b"GET", b"/cfg/00ff00ff00ff00ff", [(b"user-agent", b"megad-sim/9")], b""
    ) == {
        "bot_id": "00ff00ff00ff00ff",
        "version": "9",
    }
    for url in (b"/", b"/cfg/", b"/cfg/xyz", b"/cfg/00ff00ff00ff00f", b"/cfg/00ff00ff00ff00fg"):
        assert decoder.decode_http(b"GET", url, [], b"") is None
    assert decoder.taste(request, 80) >= 0.5
    assert decoder.taste(b"GET / HTTP/1.1\r\n", 80) == 0.0
    for bad in (("123", 1, "pc"), ("00ff00ff00ff00ff", 0, "pc"), ("00ff00ff00ff00ff", 1, "a b")):
        with pytest.raises(ValueError):
            megad_sim.checkin_http(*bad)


@settings(max_examples=200, deadline=None)
@given(
    st.text("0123456789abcdefABCDEF", min_size=16, max_size=16),
    st.text("0123456789", min_size=1, max_size=3),
    st.text("abcXYZ019._-", min_size=1, max_size=63),
)
def test_megad_sim_exact_checkin_decodes_as_the_general_parse(
    bot: str, version: str, machine: str
) -> None:
    decoder = megad_sim.FAMILY.decoders[0]
    exact = f"/cfg/{bot}?v={version}&os={machine}".encode()
    # the same fields in another order (or with an extra one) take the general parse
    for other in (
        f"/cfg/{bot}?os={machine}&v={version}",
        f"/cfg/{bot}?x=1&v={version}&os={machine}",
    ):
        assert decoder.decode_http(b"GET", exact, [], b"") == decoder.decode_http(
            b"GET", other.encode(), [], b""
        )
    assert decoder.decode_http(b"GET", exact, [], b"") == {
        "bot_id": bot.lower(),
        "version": str(int(version)),
        "machine_name": machine,
    }


class _BrokenDecoder:
    name = "broken"
    http_reply = b""
    raw_reply = b""

    def taste(self, data: bytes, port: int) -> float:
        return 0.0

    def decode_http(self, *args: object) -> None:
        raise RuntimeError("a decoder bug")

    def decode_raw(self, payload: bytes) -> None:
        return None


def test_a_decoder_that_raises_is_counted_and_the_next_one_names_the_bot(served: Served) -> None:
    decoders = served.ctx.http_decoders
    decoders["megad-sim"] = (_BrokenDecoder(), *decoders["megad-sim"])
    with connect(served.ports["http"]) as sock:
        sock.sendall(megad_sim.checkin_http(BOT, 4, "pc-4"))
        assert read_exactly(sock, len(OK)) == OK
    counters = served.ctx.counters()["http"]
    [event] = served.events("http")
    assert (event["family"], event["bot_id"], event["version"]) == ("megad-sim", BOT, "4")
    assert (counters["decoder_errors"], counters["decoded"]) == (1, 1)


# -- fuzzing --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("fuzz"), {"header_bytes": 2048}) as served:
        yield served


HTTPISH = st.lists(
    st.sampled_from(
        [b"GET ", b"POST ", b"/", b" HTTP/1.1", b"HTTP/1.0", b"\r\n", b"\n", b": ", b"Host",
         b"Content-Length: 5", b"Transfer-Encoding: chunked", b"0\r\n\r\n", b"\x00", b"%",
         b"Connection: close", b"Upgrade: x", b"\xff\xfe", b" ", b"a" * 300]
    ),
    max_size=30,
).map(b"".join)  # fmt: skip


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(st.binary(max_size=2048), HTTPISH), st.integers(1, 64))
def test_fuzzed_bytes_never_stop_the_http_listener(
    fuzz_target: Served, payload: bytes, step: int
) -> None:
    port = fuzz_target.ports["http"]
    with connect(port, timeout=2.0) as sock:
        try:
            for start in range(0, len(payload), step * 16):
                sock.sendall(payload[start : start + step * 16])
            sock.shutdown(socket.SHUT_WR)
            reply = read_until_closed(sock)
        except OSError:
            reply = b""
    assert reply == b"" or reply.startswith(b"HTTP/1.1 ")
    with connect(port, timeout=2.0) as sock:
        sock.sendall(b"GET /alive HTTP/1.1\r\nConnection: close\r\n\r\n")
        assert read_until_closed(sock) == OK_CLOSE
