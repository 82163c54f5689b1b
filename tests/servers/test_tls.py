"""The TLS listener: self-signed certificate, SNI names recorded, HTTP inside as usual."""

from __future__ import annotations

import contextlib
import socket
import ssl
import stat
from pathlib import Path

import httpx
import pytest

from sinkhole.events import store
from sinkhole.servers import tls
from sinkhole.testing import running_sinkhole
from tests.servers.inprocess import HOST, operation_text, serving

BOT = "fedcba9876543210"


def client_context() -> ssl.SSLContext:
    # the sinkhole's certificate is self-signed, like the bots we expect see it
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def tls_exchange(port: int, server_hostname: str | None, request: bytes) -> bytes:
    with (
        socket.create_connection((HOST, port), timeout=5) as raw,
        client_context().wrap_socket(raw, server_hostname=server_hostname) as sock,
    ):
        if request:
            sock.sendall(request)
        out = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (ssl.SSLError, OSError):
                break
            if not chunk:
                break
            out += chunk
        return out


def test_sni_is_recorded_with_each_request_through_sinkhole_serve(tmp_path: Path) -> None:
    op = tmp_path / "op.toml"
    op.write_text(operation_text(listeners='tls = ["127.0.0.1:0"]'))
    data = tmp_path / "data"
    request = (
        f"GET /cfg/{BOT}?v=5&os=tls-box HTTP/1.1\r\nHost: 192.0.2.1\r\n"
        "User-Agent: megad-sim/5\r\n\r\nGET /second HTTP/1.1\r\nHost: unplanned.example\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with running_sinkhole(op, data) as sink:
        host, port = sink.address("tls")
        reply = tls_exchange(port, "WWW.Relay-Megad-Sim.Test", request)
        assert reply.count(b"HTTP/1.1 200 OK\r\n") == 2
        with httpx.Client(verify=False, timeout=5) as client:
            response = client.post(f"https://localhost:{port}/x", content=b"body")
            assert response.status_code == 200
            assert response.content == b""
    events = store.read(data, store.Filter(application="tls")).to_pylist()
    assert len(events) == 3
    first, second, third = events
    assert first["protocol"] == "tcp"
    assert (first["dst_ip"], first["dst_port"]) == (host, port)
    assert first["ssl_servername"] == "www.relay-megad-sim.test"
    # the Host is an address: the SNI name attributes the request
    assert (first["family"], first["channel"]) == ("megad-sim", "static-domains")
    assert (first["bot_id"], first["version"], first["machine_name"]) == (BOT, "5", "tls-box")
    assert first["http_host"] == "192.0.2.1"
    assert second["ssl_servername"] == "www.relay-megad-sim.test"
    assert second["src_port"] == first["src_port"]
    assert (second["http_url"], second["bot_id"]) == ("/second", None)
    assert (third["http_method"], third["http_url"], third["payload_head"]) == (
        "POST",
        "/x",
        b"body",
    )
    assert third["ssl_servername"] == "localhost"
    assert third["family"] is None
    assert store.count(data, store.Filter(application="http")) == 0


def test_a_handshake_without_a_request_is_still_a_contact(tmp_path: Path) -> None:
    with serving(tmp_path / "data") as served:
        assert tls_exchange(served.ports["tls"], "cfg-megad-sim.test", b"") == b""
        assert tls_exchange(served.ports["tls"], None, b"GET / HTTP/1.0\r\n\r\n").startswith(
            b"HTTP/1.1 200 OK"
        )
    events = served.events("tls")
    assert [(e["ssl_servername"], e["family"], e["tag"]) for e in events] == [
        ("cfg-megad-sim.test", "megad-sim", "tls-no-request"),
        (None, None, None),
    ]


def test_garbage_and_plain_http_on_the_tls_port_do_not_stop_it(tmp_path: Path) -> None:
    with serving(tmp_path / "data") as served:
        port = served.ports["tls"]
        for junk in (b"GET / HTTP/1.1\r\n\r\n", b"\x16\x03\x01\x00\x05hello", b"\x00" * 600):
            with socket.create_connection((HOST, port), timeout=5) as sock:
                sock.sendall(junk)
                sock.shutdown(socket.SHUT_WR)
                with contextlib.suppress(OSError):
                    sock.recv(1024)
        reply = tls_exchange(port, "stats-megad-sim.example", b"GET / HTTP/1.0\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 200 OK")
    [event] = served.events("tls")
    assert event["ssl_servername"] == "stats-megad-sim.example"


def test_self_signed_certificate_is_made_once_private_and_reused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = tls.tls_context(data)
    cert, key = data / "tls" / "sinkhole.crt", data / "tls" / "sinkhole.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in key.read_bytes()
    pem = cert.read_bytes()
    second = tls.tls_context(data)
    assert cert.read_bytes() == pem
    assert isinstance(first, ssl.SSLContext) and isinstance(second, ssl.SSLContext)
    # a given certificate is used as is
    given = tls.tls_context(tmp_path / "elsewhere", cert, key)
    assert isinstance(given, ssl.SSLContext)
    assert not (tmp_path / "elsewhere").exists()


def test_a_bad_certificate_is_one_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate")
    with pytest.raises(tls.TlsError, match=r"bogus\.pem"):
        tls.tls_context(tmp_path, bogus, bogus)
    with pytest.raises(tls.TlsError, match=r"missing\.pem"):
        tls.tls_context(tmp_path, tmp_path / "missing.pem")
