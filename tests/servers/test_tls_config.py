"""A configured TLS certificate is served; a bad one is one clear line."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
from pathlib import Path

from sinkhole.servers.tls import self_signed
from sinkhole.testing import running_sinkhole

OP = """\
[operation]
name = "tls"
start = 2026-12-01
hold_days = 2

[[targets]]
family = "megad-sim"

[listeners]
http = []
tls = ["127.0.0.1:0"]
tls_cert = "{cert}"
tls_key = "{key}"
"""


def test_configured_certificate_is_served(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path / "mine")
    op = tmp_path / "op.toml"
    op.write_text(OP.format(cert=cert, key=key))
    with running_sinkhole(op, tmp_path / "d") as sink:
        host, port = sink.address("tls")
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False
        with (
            socket.create_connection((host, port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname="update-megad-sim.example") as tls,
        ):
            served = tls.getpeercert(binary_form=True)
            tls.sendall(b"GET / HTTP/1.1\r\nHost: update-megad-sim.example\r\n\r\n")
            assert tls.recv(100).startswith(b"HTTP/1.1 200")
    expected = ssl.PEM_cert_to_DER_cert(cert.read_text())
    assert served == expected
    assert not (tmp_path / "d" / "tls").exists()  # no self-signed pair was made


def test_bad_certificate_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.pem").write_text("not a certificate")
    op = tmp_path / "op.toml"
    op.write_text(OP.format(cert=tmp_path / "bad.pem", key=tmp_path / "bad.pem"))
    result = subprocess.run([sys.executable, "-m", "sinkhole", "serve", str(op), "--data",
                             str(tmp_path / "d")], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("sinkhole: error: cannot load the TLS certificate")


def test_half_a_pair_is_refused(tmp_path: Path) -> None:
    op = tmp_path / "op.toml"
    op.write_text(OP.format(cert="a.pem", key="b.pem").replace('tls_key = "b.pem"\n', ""))
    result = subprocess.run([sys.executable, "-m", "sinkhole", "plan", str(op), "-o", str(tmp_path / "p")],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2
    assert "tls_cert and tls_key go together" in result.stderr
