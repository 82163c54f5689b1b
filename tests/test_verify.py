"""Live verification against real DNS servers on loopback: the sinkhole, NSD, unbound."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dns.message
import dns.rcode
import pytest

from sinkhole import operation, plan, verify
from sinkhole.simulate import Seized
from sinkhole.testing import dying_with_us, free_port, running_nsd, running_sinkhole, which

OP = """\
[operation]
name = "verify lab"
start = 2026-12-01
hold_days = 2
clock_skew_days = 0

[sinkhole]
ipv4 = ["127.0.0.1"]
ipv6 = ["::1"]

[[targets]]
family = "megad-sim"
dga_params = { count = 3 }
static_domains = ["mailer-megad-sim.example", "relay-lab.bit"]

[listeners]
http = []
"""
SINKHOLE = [sys.executable, "-m", "sinkhole"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The operation file and its plan folder."""
    folder = tmp_path_factory.mktemp("verify")
    op = folder / "op.toml"
    op.write_text(OP)
    plan.write(plan.compute(operation.load(op)), folder / "plan")
    return op, folder / "plan"


def _verify(op: Path, plan_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [*SINKHOLE, "verify", str(op), "--plan", str(plan_dir), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def _lines(stdout: str) -> dict[str, tuple[str, str]]:
    rows = [line.split("\t") for line in stdout.splitlines()]
    assert all(len(r) == 3 for r in rows), stdout
    return {name: (status, answer) for name, status, answer in rows}


class Recorder:
    """A UDP 'resolver' on loopback that records every query and answers NXDOMAIN."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.seen: list[tuple[float, str]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            self.seen.append((time.monotonic(), query.question[0].name.to_text(True)))
            reply = dns.message.make_response(query)
            reply.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(reply.to_wire(), peer)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


def test_only_the_given_resolver_is_asked_at_the_given_rate(lab: tuple[Path, Path]) -> None:
    op_path, plan_dir = lab
    op = operation.load(op_path)
    domains = Seized.from_files(plan_dir).domains
    recorder = Recorder()
    try:
        resolvers = [verify.Resolver("127.0.0.1", recorder.port)]
        names = verify.chosen_names(op, domains, resolvers)
        document = verify.run(op, names, resolvers, rate=5.0, concurrency=8)
    finally:
        recorder.close()
    names = sorted(domains)
    # each name once per record type (the lab sinkhole has IPv4 and IPv6), all here
    assert sorted(name for _, name in recorder.seen) == sorted(names * 2)
    assert document["landed"] == 0
    assert {row["status"] for row in document["open"]} == {"nxdomain"}
    # the leaky bucket: a burst of `rate`, then `rate` a second
    stamps = [t for t, _ in recorder.seen]
    for first in range(len(stamps)):
        within = [t for t in stamps[first:] if t - stamps[first] < 1.0]
        assert len(within) <= 2 * 5 + 1
    acts = {g["tld"]: g["act"] for g in document["groups"]}
    assert acts["example"] == "registry of .example"
    assert acts["bit"].startswith("the resolver's operator: RPZ")


def test_a_silent_resolver_is_a_timeout() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        answers = asyncio.run(
            verify.check(
                ["a.example"],
                [verify.Resolver("127.0.0.1", port)],
                ["127.0.0.1"],
                timeout=0.2,
                tries=2,
            )
        )
    assert [(a.status, a.detail) for a in answers] == [("timeout", "no answer in 2 x 0.2 s")]


def test_against_the_running_sinkhole(lab: tuple[Path, Path], tmp_path: Path) -> None:
    op_path, plan_dir = lab
    # a plan with one more name than the sinkhole serves: that name is open (REFUSED)
    bigger = tmp_path / "bigger.toml"
    bigger.write_text(OP.replace('"relay-lab.bit"]', '"relay-lab.bit", "late-lab.example"]'))
    plan.write(plan.compute(operation.load(bigger)), tmp_path / "plan")
    with running_sinkhole(op_path, tmp_path / "data") as sink:
        host, port = sink.address("dns")
        done = _verify(op_path, plan_dir, "--resolver", f"{host}:{port}")
        assert done.returncode == 0, done.stderr
        assert done.stdout == ""
        names = len((plan_dir / "domains.csv").read_text().splitlines()) - 1
        assert f"{names} of {names} answers land on the sinkhole" in done.stderr
        done = _verify(op_path, tmp_path / "plan", "--resolver", f"{host}:{port}", "--json")
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)
    assert [(r["name"], r["status"]) for r in document["open"]] == [("late-lab.example", "refused")]
    assert document["landed"] == names


@contextmanager
def running_unbound(folder: Path, upstream: tuple[str, int], zones: list[str]) -> Iterator[int]:
    """unbound on loopback, resolving `zones` from the authoritative server `upstream`."""
    unbound = which("unbound")
    assert unbound is not None
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    host, up_port = upstream
    conf = folder / "unbound.conf"
    lines = [
        "server:",
        "  interface: 127.0.0.1",
        f"  port: {port}",
        "  do-ip6: no",
        '  username: ""',
        '  chroot: ""',
        f'  directory: "{folder}"',
        f'  pidfile: "{folder}/unbound.pid"',
        "  use-syslog: no",
        f'  logfile: "{folder}/unbound.log"',
        "  access-control: 127.0.0.0/8 allow",
        "  do-not-query-localhost: no",
        '  module-config: "iterator"',
        "  qname-minimisation: no",
        "  num-threads: 1",
    ]
    lines += [f'  local-zone: "{z}." nodefault' for z in zones]
    for zone in zones:
        lines += ["stub-zone:", f'  name: "{zone}."', f"  stub-addr: {host}@{up_port}"]
    conf.write_text("\n".join(lines) + "\n")
    proc = subprocess.Popen(dying_with_us([unbound, "-d", "-c", str(conf)]),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        query = dns.message.make_query("localhost.", "A").to_wire()
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.settimeout(0.2)
                try:
                    sock.sendto(query, ("127.0.0.1", port))
                    sock.recvfrom(512)
                    break
                except OSError:
                    assert time.monotonic() < deadline, "unbound did not start"
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()


@pytest.mark.skipif(which("nsd") is None or which("unbound") is None, reason="needs nsd, unbound")
def test_against_nsd_and_through_unbound(lab: tuple[Path, Path], tmp_path: Path) -> None:
    op_path, plan_dir = lab
    zones = tmp_path / "zones"
    subprocess.run(["cp", "-r", str(plan_dir / "zones"), str(zones)], check=True)
    # the zones as a careless registry left them: two names missing, one pointing elsewhere
    conf = (zones / "nsd.conf").read_text().split("zone:\n")
    header, entries = conf[0], conf[1:]
    names = [e.split('"')[1] for e in entries]
    missing = ["relay-megad-sim.test", "relay-lab.bit"]
    assert set(missing) <= set(names)
    elsewhere = "mailer-megad-sim.example"
    kept = [e for e, n in zip(entries, names, strict=True) if n not in missing]
    text = header + "".join("zone:\n" + e for e in kept)
    text = text.replace(f'"{elsewhere}"\n\tzonefile: "sinkhole.zone"',
                        f'"{elsewhere}"\n\tzonefile: "elsewhere.zone"')  # fmt: skip
    (zones / "nsd.conf").write_text(text)
    template = (zones / "sinkhole.zone").read_text()
    (zones / "elsewhere.zone").write_text(template.replace("127.0.0.1", "192.0.2.99"))
    # a dual-stack sinkhole: the A record lands, the AAAA leads a v6-capable bot away
    v6_away = "stats-megad-sim.example"
    text = text.replace(f'"{v6_away}"\n\tzonefile: "sinkhole.zone"',
                        f'"{v6_away}"\n\tzonefile: "v6-away.zone"')  # fmt: skip
    (zones / "nsd.conf").write_text(text)
    (zones / "v6-away.zone").write_text(template.replace("::1", "2001:db8::99"))
    with running_nsd(zones, tmp_path / "nsd") as nsd:
        done = _verify(op_path, plan_dir, "--resolver", f"{nsd[0]}:{nsd[1]}")
        assert done.returncode == 1, done.stderr
        lines = _lines(done.stdout)
        assert lines == {
            **{n: ("refused", "REFUSED") for n in missing},
            elsewhere: ("other", "192.0.2.99"),
            v6_away: ("other", "2001:db8::99"),
        }
        assert "— registry of .example" in done.stderr
        assert ".bit: 1 open (refused 1) — the resolver's operator: RPZ" in done.stderr
        with running_unbound(tmp_path / "unbound", nsd, ["example", "test", "bit"]) as port:
            day = "2026-12-02"
            done = _verify(op_path, plan_dir, "--resolver", f"127.0.0.1:{port}",
                           "--resolver", f"{nsd[0]}:{nsd[1]}", "--day", day)  # fmt: skip
    assert done.returncode == 1, done.stderr
    rows = [line.split("\t") for line in done.stdout.splitlines()]
    through = {(n, s, a.rpartition(" @")[2]) for n, s, a in rows}
    missing_today = [n for n in missing if n in {r[0] for r in rows}]
    assert set(missing) == set(missing_today)  # static and reserved names: every day
    assert {(n, "servfail", f"127.0.0.1:{port}") for n in missing} <= through
    assert {(n, "refused", f"{nsd[0]}:{nsd[1]}") for n in missing} <= through
    assert (elsewhere, "other", f"127.0.0.1:{port}") in through
    assert (v6_away, "other", f"127.0.0.1:{port}") in through
    # every other name of that day landed through both
    assert len(rows) == 2 * len(missing) + 4


def test_bad_resolver_and_day_are_one_line(lab: tuple[Path, Path]) -> None:
    op_path, plan_dir = lab
    done = _verify(op_path, plan_dir, "--resolver", "resolver.example:53")
    assert done.returncode == 2
    assert done.stderr == (
        "sinkhole: error: --resolver 'resolver.example:53': 'resolver.example' "
        "is not an IP address\n"
    )
    done = _verify(op_path, plan_dir, "--resolver", "127.0.0.1:53", "--day", "2027-01-01")
    assert done.returncode == 2
    assert "--day 2027-01-01: outside the operation's window" in done.stderr


@pytest.mark.parametrize(
    ("text", "resolver"),
    [
        ("::1", verify.Resolver("::1", 53)),
        ("[::1]:5353", verify.Resolver("::1", 5353)),
        ("127.0.0.1", verify.Resolver("127.0.0.1", 53)),
        ("127.0.0.1:5353", verify.Resolver("127.0.0.1", 5353)),
    ],
)
def test_a_resolver_is_an_address_with_an_optional_port(
    text: str, resolver: verify.Resolver
) -> None:
    assert verify.Resolver.parse(text) == resolver


def test_retries_count_against_the_rate() -> None:
    # a resolver that never answers: every name is asked `tries` times, each try a query
    seen: list[float] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.settimeout(0.1)
        port = silent.getsockname()[1]
        stop = threading.Event()

        def record() -> None:
            while not stop.is_set():
                try:
                    silent.recvfrom(4096)
                except TimeoutError:
                    continue
                seen.append(time.monotonic())

        thread = threading.Thread(target=record, daemon=True)
        thread.start()
        try:
            answers = asyncio.run(
                verify.check(
                    ["a.example", "b.example", "c.example"],
                    [verify.Resolver("127.0.0.1", port)],
                    ["127.0.0.1"],
                    rate=2.0,
                    timeout=0.1,
                    tries=3,
                )
            )
        finally:
            stop.set()
            thread.join()
    assert {a.status for a in answers} == {"timeout"}
    assert len(seen) == 9
    for first in range(len(seen)):  # a burst of `rate`, then `rate` a second
        assert len([t for t in seen[first:] if t - seen[first] < 1.0]) <= 2 * 2 + 1
