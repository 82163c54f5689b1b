"""`sinkhole serve` with real clients over loopback: dnspython, dig, a crash, a flood."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rcode
import pytest

from sinkhole import families
from sinkhole.events import store
from sinkhole.testing import running_sinkhole, which

START = dt.date.today()

OP = f"""\
[operation]
name = "serve test"
start = {START}
hold_days = 3

[sinkhole]
ipv4 = ["127.0.0.1"]
ipv6 = ["::1"]

[[targets]]
family = "megad-sim"
static_domains = ["extra-megad.example"]

[listeners]
http = []
"""


@pytest.fixture
def op_file(tmp_path: Path) -> Path:
    path = tmp_path / "op.toml"
    path.write_text(OP)
    return path


@pytest.fixture
def unlimited_op(tmp_path: Path) -> Path:
    """The operation without the DNS rate limit: these tests send thousands of names below
    one zone from one address as fast as they can, which the limit (per source /24, zone
    and rcode) would rightly cut."""
    path = tmp_path / "op.toml"
    path.write_text(OP + "\n[limits]\ndns_rate_limit = 0\n")
    return path


def _dga(day: dt.date, index: int = 0) -> str:
    dga = families.get("megad-sim").dga
    assert dga is not None
    return dga.generate(day)[index]


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_dnspython_and_dig_against_serve(op_file: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    name = _dga(START)
    with running_sinkhole(op_file, data) as sink:
        host, port = sink.address("dns")
        reply = dns.query.udp(dns.message.make_query(name, "A"), host, port=port, timeout=3)
        assert reply.rcode() == dns.rcode.NOERROR
        assert [r.address for r in reply.answer[0]] == ["127.0.0.1"]
        reply = dns.query.tcp(
            dns.message.make_query(f"www.{name}", "AAAA"), host, port=port, timeout=3
        )
        assert [r.address for r in reply.answer[0]] == ["::1"]
        reply = dns.query.udp(
            dns.message.make_query("unplanned.example", "A"), host, port=port, timeout=3
        )
        assert reply.rcode() == dns.rcode.REFUSED
        # the SOA fits in 3x the query over UDP (RNAME compressed into the MNAME's domain)
        soa = dns.message.make_query("extra-megad.example", "SOA")
        reply, used_tcp = dns.query.udp_with_fallback(soa, host, port=port, timeout=3)
        assert not used_tcp and reply.answer[0][0].serial == int(START.strftime("%Y%m%d")) * 100
        dig = which("dig")
        if dig is not None:
            out = subprocess.run([dig, f"@{host}", "-p", str(port), "+short", "+tries=1", "+time=3",
                                  "extra-megad.example", "A"], capture_output=True, text=True, timeout=20)  # fmt: skip
            assert out.stdout.split() == ["127.0.0.1"]
            out = subprocess.run([dig, f"@{host}", "-p", str(port), "+tries=1", "+time=3",
                                  "+edns=0", "+bufsize=1232", name, "ANY"], capture_output=True, text=True, timeout=20)  # fmt: skip
            assert "status: NOERROR" in out.stdout
            assert "udp: 1232" in out.stdout
        # readable while the server runs (WAL), before any segment is closed
        deadline = time.monotonic() + 5
        while store.count(data) < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert store.count(data) >= 5
    events = store.read(data).to_pylist()
    first = events[0]
    assert first["dns_qname"] == name and first["dns_qtype"] == 1 and first["dns_rcode"] == 0
    assert first["protocol"] == "udp" and first["application"] == "dns"
    assert first["family"] == "megad-sim" and first["channel"] == "dga"
    assert first["src_ip"] == "127.0.0.1" and first["dst_port"] == port
    assert first["sensor"] == "sensor-w0"
    assert events[1]["protocol"] == "tcp" and events[1]["dns_qname"] == f"www.{name}"
    assert events[2]["dns_rcode"] == 5 and events[2]["family"] is None
    assert not list((data / "wal").glob("*.arrows")), "SIGTERM must flush into Parquet"


def test_unplanned_dga_name_is_tagged(op_file: Path, tmp_path: Path) -> None:
    later = _dga(START + dt.timedelta(days=10))
    with running_sinkhole(op_file, tmp_path / "d") as sink:
        host, port = sink.address("dns")
        reply = dns.query.udp(dns.message.make_query(later, "A"), host, port=port, timeout=3)
        assert reply.rcode() == dns.rcode.REFUSED
    [event] = store.read(tmp_path / "d").to_pylist()
    assert (event["tag"], event["family"]) == ("dga-unplanned", "megad-sim")


def test_sighup_reloads_the_plan_without_dropping_sockets(op_file: Path, tmp_path: Path) -> None:
    with running_sinkhole(op_file, tmp_path / "d", "--workers", "2") as sink:
        host, port = sink.address("dns")
        query = dns.message.make_query("added-later.example", "A")
        assert dns.query.udp(query, host, port=port, timeout=3).rcode() == dns.rcode.REFUSED
        op_file.write_text(
            OP.replace('"extra-megad.example"', '"extra-megad.example", "added-later.example"')
        )
        sink.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        answers = []
        while time.monotonic() < deadline:
            answers = [dns.query.udp(query, host, port=port, timeout=3).rcode() for _ in range(8)]
            if all(a == dns.rcode.NOERROR for a in answers):
                break
            time.sleep(0.2)
        assert all(a == dns.rcode.NOERROR for a in answers), answers
        assert sink.process.poll() is None


def test_kill_9_then_restart_recovers_every_acknowledged_event(
    unlimited_op: Path, tmp_path: Path
) -> None:
    op_file = unlimited_op
    data = tmp_path / "d"
    names = [f"n{i}.extra-megad.example" for i in range(3000)]
    with running_sinkhole(op_file, data) as sink:
        host, port = sink.address("dns")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(3)
            for name in names:
                sock.sendto(dns.message.make_query(name, "A").to_wire(), (host, port))
                sock.recvfrom(4096)
        # acknowledged = made durable, as the sensor's stats file reports after each flush
        deadline = time.monotonic() + 10
        durable = 0
        while time.monotonic() < deadline and durable < len(names):
            stats = store.sensor_stats(data)
            durable = sum(int(s["durable"]) for s in stats)
            time.sleep(0.05)
        assert durable >= len(names)
        for pid in _children(sink.process.pid):
            os.kill(pid, signal.SIGKILL)
        os.kill(sink.process.pid, signal.SIGKILL)
        sink.process.wait()
    assert list((data / "wal").glob("*.arrows")), "the crash must leave a WAL behind"
    with running_sinkhole(op_file, data) as again:
        assert any(line.startswith("recovered ") for line in again.lines), again.lines
    stored = store.read(data).column("dns_qname").to_pylist()
    assert sorted(stored) == sorted(names)  # every one, exactly once


def test_200k_hostile_packets_keep_it_answering_and_bounded(op_file: Path, tmp_path: Path) -> None:
    rng = random.Random(7)
    loop_packet = bytes.fromhex("beef01000001000000000000") + b"\xc0\x0c\x00\x01\x00\x01"
    samples = [
        loop_packet,
        b"",
        b"\x00" * 11,
        bytes.fromhex("beef01000001000000000000") + b"\x3f" + b"a" * 10,
    ]
    samples += [rng.randbytes(rng.randrange(1, 512)) for _ in range(500)]
    samples += [
        dns.message.make_query(f"{rng.getrandbits(40):x}.example", "A").to_wire()
        for _ in range(200)
    ]
    with running_sinkhole(op_file, tmp_path / "d") as sink:
        host, port = sink.address("dns")
        [worker] = _children(sink.process.pid)
        probe = dns.message.make_query("extra-megad.example", "A")
        assert dns.query.udp(probe, host, port=port, timeout=3).rcode() == dns.rcode.NOERROR

        def flood(count: int) -> int:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.setblocking(False)
                sent = 0
                deadline = time.monotonic() + 60
                while sent < count and time.monotonic() < deadline:
                    try:
                        sock.sendto(samples[sent % len(samples)], (host, port))
                        sent += 1
                    except BlockingIOError:
                        time.sleep(0.0005)
                    if sent % 2000 == 0:
                        time.sleep(0.001)  # let the server keep up on two cores
            time.sleep(1)
            return sent

        # a first flood of the same size sets the high-water mark of the event buffers and
        # the allocators' pools (how high depends on how fast this machine floods: a 50k
        # warm-up was not enough on a slower one); growth is measured over the next flood,
        # where a leak of 250 bytes a packet would show as 50 MB
        assert flood(200_000) == 200_000
        before = _rss_kb(worker)
        assert flood(200_000) == 200_000
        for _ in range(5):
            assert dns.query.udp(probe, host, port=port, timeout=3).rcode() == dns.rcode.NOERROR
        growth_mb = (_rss_kb(worker) - before) / 1024
        assert growth_mb < 50, f"worker grew {growth_mb:.1f} MB"
        stats = json.loads((tmp_path / "d" / "stats" / "sensor-w0.json").read_text())
        assert stats["listeners"]["dns"]["malformed"] > 0
        assert sink.process.poll() is None


def test_bad_listen_address_is_one_line(op_file: Path, tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "sinkhole", "serve", str(op_file), "--data",
                             str(tmp_path / "d"), "--dns", "127.0.0.1:99999"],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "sinkhole: error: '127.0.0.1:99999': port 99999 is out of range 0-65535"
    ]


def test_resolver_emulation_listener(tmp_path: Path) -> None:
    path = tmp_path / "op.toml"
    path.write_text(OP.replace("http = []", 'http = []\nresolver = ["127.0.0.1:0"]'))
    with running_sinkhole(path, tmp_path / "d") as sink:
        host, port = sink.address("resolver")
        assert port != sink.address("dns")[1]
        reply = dns.query.udp(
            dns.message.make_query("www.extra-megad.example", "A"), host, port=port, timeout=3
        )
        assert reply.flags & dns.flags.RA and not reply.flags & dns.flags.AA
        assert [r.address for r in reply.answer[0]] == ["127.0.0.1"]
        reply = dns.query.udp(
            dns.message.make_query("example.org", "A"), host, port=port, timeout=3
        )
        assert reply.rcode() == dns.rcode.REFUSED  # never recurses
    [first, second] = store.read(tmp_path / "d").to_pylist()
    assert first["dst_port"] == port and first["family"] == "megad-sim"
    assert first["channel"] == "dns-servers"
    assert second["dns_rcode"] == 5


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs to fill up (needs root, as in CI)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)


def test_full_disk_keeps_answering_counts_drops_and_resumes(
    unlimited_op: Path, tiny_disk: Path
) -> None:
    op_file = unlimited_op
    data = tiny_disk / "data"
    filler = tiny_disk / "filler"
    with running_sinkhole(op_file, data) as sink:
        host, port = sink.address("dns")
        probe = dns.message.make_query("extra-megad.example", "A")
        assert dns.query.udp(probe, host, port=port, timeout=3).rcode() == dns.rcode.NOERROR
        deadline = (
            time.monotonic() + 10
        )  # the probe is acknowledged (durable) before the disk fills
        while time.monotonic() < deadline:
            found = store.sensor_stats(data)
            if found and int(found[0]["durable"]) >= 1:
                break
            time.sleep(0.05)
        free = os.statvfs(tiny_disk)
        with open(filler, "wb") as handle:  # fill the disk to the last block
            try:
                handle.write(b"\0" * (free.f_bavail * free.f_frsize))
                handle.flush()
                os.fsync(handle.fileno())
            except OSError:
                pass
        for i in range(200):
            reply = dns.query.udp(dns.message.make_query(f"full{i}.extra-megad.example", "A"),
                                  host, port=port, timeout=3)  # fmt: skip
            assert reply.rcode() == dns.rcode.NOERROR  # still answering
        time.sleep(1.0)
        filler.unlink()  # space returns
        for i in range(20):
            dns.query.udp(
                dns.message.make_query(f"after{i}.extra-megad.example", "A"),
                host,
                port=port,
                timeout=3,
            )
        deadline = time.monotonic() + 10
        stats: dict[str, object] = {}
        while time.monotonic() < deadline:
            found = store.sensor_stats(data)
            stats = found[0] if found else {"dropped": 0, "durable": 0}
            if int(stats["dropped"]) > 0 and int(stats["durable"]) >= 21:  # type: ignore[call-overload]
                break
            time.sleep(0.2)
        assert int(stats["dropped"]) > 0, stats  # type: ignore[call-overload]
        assert stats["last_error"] == "No space left on device"
    names = set(store.read(data).column("dns_qname").to_pylist())
    assert {f"after{i}.extra-megad.example" for i in range(20)} <= names
    assert "extra-megad.example" in names


def test_stats_while_serving(unlimited_op: Path, tmp_path: Path) -> None:
    op_file = unlimited_op
    data = tmp_path / "d"
    with running_sinkhole(op_file, data) as sink:
        host, port = sink.address("dns")
        stop = time.monotonic() + 3
        proc = subprocess.Popen([sys.executable, "-m", "sinkhole", "stats", str(op_file), "--data",
                                 str(data), "--json", "--interval", "1"],
                                stdout=subprocess.PIPE, text=True)  # fmt: skip
        sent = 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(2)
            while time.monotonic() < stop and proc.poll() is None:
                sock.sendto(
                    dns.message.make_query(f"s{sent}.extra-megad.example", "A").to_wire(),
                    (host, port),
                )
                sock.recvfrom(512)
                sent += 1
        out, _ = proc.communicate(timeout=30)
    report = json.loads(out)
    [sensor] = report["sensors"]
    assert sensor["state"] == "running"
    assert sensor["listener_rates"]["dns"] > 50
    assert sensor["events_per_s"] > 50
    assert report["store"]["unique_src_ips"] == 1
    assert report["dropped"] == 0


def test_one_client_is_served_by_every_worker(unlimited_op: Path, tmp_path: Path) -> None:
    # SO_REUSEPORT alone picks a worker by flow hash: one busy resolver would load one worker
    # while the others idle. Datagrams are dealt at random instead (DNS over UDP is stateless).
    data = tmp_path / "d"
    with running_sinkhole(unlimited_op, data, "--workers", "2") as sink:
        host, port = sink.address("dns")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:  # one flow
            sock.settimeout(3)
            for i in range(400):
                sock.sendto(dns.message.make_query(f"w{i}.extra-megad.example", "A").to_wire(),
                            (host, port))  # fmt: skip
                sock.recvfrom(4096)
        deadline = time.monotonic() + 10
        per_worker: dict[str, int] = {}
        while time.monotonic() < deadline and sum(per_worker.values()) < 400:
            time.sleep(0.1)
            for path in (data / "stats").glob("sensor-w*.json"):
                stats = json.loads(path.read_text())
                per_worker[stats["sensor"]] = stats["listeners"]["dns"]["queries"]
    assert sum(per_worker.values()) == 400
    assert sorted(per_worker) == ["sensor-w0", "sensor-w1"]
    assert min(per_worker.values()) > 100, per_worker
