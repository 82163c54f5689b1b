"""Listener benchmarks, side by side with real peers in one run (loopback only).

DNS: dnsperf against `sinkhole serve` (2000 planned domains, default limits, every
query stored) and against NSD serving the same names from the exported zones, on two
query mixes: the realistic one (half the queries for random names below planned
domains, as resolvers doing QNAME minimisation and random-subdomain floods send them)
and exact planned names; plus the no-rate-limit best case and a stock dnslib threaded
server. HTTP: wrk against the HTTP listener and against nginx with an access log.
Store: events/s into WAL + Parquet. Each load is bounded in time (`SECONDS`) and stops
by itself. Benchmarks install nothing: a missing peer is named with the command that
installs it, and its rows are skipped.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

from bench import scratch
from sinkhole import operation, plan
from sinkhole.events import store
from sinkhole.events.writer import EventWriter, now_us
from sinkhole.testing import dying_with_us, free_port, running_nsd, running_sinkhole, which

SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
DOMAINS = 2000
#: Lines of the realistic query file: enough that no random name repeats within a run.
MIX_LINES = 600_000
#: Debian packages of the peers.
PACKAGES = {"dnsperf": "dnsperf", "nsd": "nsd", "wrk": "wrk", "nginx": "nginx-light"}


def _missing(*programs: str) -> list[str]:
    """The peers that are not installed, printed with the command that installs them."""
    missing = [p for p in programs if which(p) is None]
    if missing:
        packages = " ".join(PACKAGES[p] for p in missing)
        print(f"skipped: {', '.join(missing)} not installed (install: apt-get install {packages})")
    return missing


def _operation(folder: Path, names: list[str], dns_rate_limit: int | None = None) -> Path:
    """A bench operation over `names`; the operation's default limits unless overridden."""
    folder.mkdir(parents=True, exist_ok=True)
    listed = ", ".join(f'"{n}"' for n in names)
    text = (
        f'[operation]\nname = "bench"\nstart = {dt.date.today()}\nhold_days = 1\n\n'
        f'[sinkhole]\nipv4 = ["127.0.0.1"]\n\n'
        f'[[targets]]\nfamily = "megad-sim"\nuse_family_lists = false\n'
        f"dga_params = {{ count = 1 }}\nstatic_domains = [{listed}]\n\n"
        f"[listeners]\nhttp = []\n"
    )
    if dns_rate_limit is not None:
        text += f"\n[limits]\ndns_rate_limit = {dns_rate_limit}\n"
    path = folder / "bench.toml"
    path.write_text(text)
    return path


def _dnsperf(port: int, queries: Path) -> dict[str, float]:
    out = subprocess.run(
        ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", str(queries), "-l", str(SECONDS),
         "-c", "8", "-T", "1", "-q", "500", "-t", "2"],
        capture_output=True, text=True, timeout=SECONDS + 60, check=False,
    )  # fmt: skip
    text = out.stdout
    qps = re.search(r"Queries per second:\s+([\d.]+)", text)
    sent = re.search(r"Queries sent:\s+(\d+)", text)
    completed = re.search(r"Queries completed:\s+(\d+)", text)
    lost = re.search(r"Queries lost:\s+(\d+)", text)
    noerror = re.search(r"NOERROR \d+ \(([\d.]+)%\)", text)
    if not (qps and sent and completed and lost):
        raise RuntimeError(f"dnsperf failed: {out.stderr or text}")
    return {"qps": float(qps.group(1)), "sent": float(sent.group(1)),
            "completed": float(completed.group(1)), "lost": float(lost.group(1)),
            "noerror": float(noerror.group(1)) if noerror else 0.0}  # fmt: skip


def _dnslib_server(names: set[str], port: int) -> tuple[object, threading.Thread]:
    from dnslib import QTYPE, RCODE, RR, A
    from dnslib.server import BaseResolver, DNSLogger, DNSServer

    class Sinkhole(BaseResolver):  # type: ignore[misc]
        def resolve(self, request: object, handler: object) -> object:
            reply = request.reply()  # type: ignore[attr-defined]
            qname = str(request.q.qname).rstrip(".").lower()  # type: ignore[attr-defined]
            if qname in names and request.q.qtype == QTYPE.A:  # type: ignore[attr-defined]
                reply.add_answer(RR(request.q.qname, QTYPE.A, rdata=A("127.0.0.1"), ttl=300))  # type: ignore[attr-defined]
            elif qname not in names:
                reply.header.rcode = RCODE.REFUSED
            return reply

    server = DNSServer(
        Sinkhole(),
        port=port,
        address="127.0.0.1",
        logger=DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data"),
    )
    thread = threading.Thread(target=server.start, daemon=True)
    thread.start()
    time.sleep(0.5)
    return server, thread


def _query_files(folder: Path, names: list[str]) -> dict[str, Path]:
    """The two query mixes: exact planned names, and half random names below them."""
    rng = random.Random(8)
    exact = folder / "exact.txt"
    exact.write_text("".join(f"{n} A\n" for n in names))
    mix = folder / "mix.txt"
    with mix.open("w") as out:
        for i in range(MIX_LINES):
            name = names[rng.randrange(len(names))]
            out.write(f"{name} A\n" if i % 2 else f"{rng.getrandbits(48):012x}.{name} A\n")
    return {"mix": mix, "exact": exact}


def bench_dns() -> None:
    """dnsperf against sinkhole (default limits) and NSD, realistic mix and exact names."""
    print(f"\n== DNS: dnsperf -c 8 -q 500, {DOMAINS} planned domains, {SECONDS:.0f} s a row, "
          "loopback, 2 sinkhole workers / 2 NSD servers")  # fmt: skip
    if _missing("dnsperf", "nsd"):
        return
    mixes = {"mix": "realistic: half random names below", "exact": "exact planned names"}
    with scratch() as tmp:
        folder = Path(tmp)
        names = [f"bot{i:05d}-cc.example" for i in range(DOMAINS)]
        files = _query_files(folder, names)
        default_op = _operation(folder / "default", names)
        unlimited_op = _operation(folder / "unlimited", names, dns_rate_limit=0)
        p = plan.compute(operation.load(default_op))
        plan.write(p, folder / "plan")
        rows: list[tuple[str, str, dict[str, float], int | None]] = []

        def sinkhole(op_path: Path, mix: str, label: str) -> None:
            data = folder / f"data-{label}-{mix}"
            with running_sinkhole(op_path, data, "--workers", "2") as sink:
                result = _dnsperf(sink.address("dns")[1], files[mix])
            rows.append((mixes[mix], label, result, store.count(data)))

        with running_nsd(folder / "plan" / "zones", folder / "nsd", server_count=2) as (_, port):
            for mix, title in mixes.items():
                sinkhole(default_op, mix, "sinkhole")
                rows.append((title, "nsd", _dnsperf(port, files[mix]), None))
        sinkhole(unlimited_op, "exact", "sinkhole, no rate limit")
        port = free_port()
        server, _thread = _dnslib_server(set(names), port)
        try:
            rows.append((mixes["exact"], "dnslib", _dnsperf(port, files["exact"]), None))
        finally:
            server.stop()  # type: ignore[attr-defined]

    print(f"{'query mix':<36} {'server':<24} {'qps':>9} {'sent':>9} {'answered':>9} "
          f"{'lost':>6} {'NOERROR':>7} {'stored':>9} {'events lost':>11}")  # fmt: skip
    for mix, server_name, r, stored in rows:
        events = (
            "" if stored is None else f"{stored:>9,} {max(0, int(r['completed']) - stored):>11,}"
        )
        print(f"{mix:<36} {server_name:<24} {r['qps']:>9,.0f} {r['sent']:>9,.0f} "
              f"{r['completed']:>9,.0f} {r['lost']:>6,.0f} {r['noerror']:>6.0f}% {events}")  # fmt: skip
    qps = {(mix, server_name): r["qps"] for mix, server_name, r, _ in rows}
    for key, text, goal in (
        ("mix", "realistic mix", " (goal >= 0.6)"),
        ("exact", "exact names", ""),
    ):
        ratio = qps[(mixes[key], "sinkhole")] / qps[(mixes[key], "nsd")]
        print(f"ratio sinkhole/nsd, {text}: {ratio:.2f}x{goal}")
    best = qps[(mixes["exact"], "sinkhole, no rate limit")] / qps[(mixes["exact"], "nsd")]
    print(f"ratio sinkhole (no rate limit)/nsd, exact names: {best:.2f}x")
    dnslib = qps[(mixes["exact"], "sinkhole")] / qps[(mixes["exact"], "dnslib")]
    print(f"ratio sinkhole/dnslib, exact names: {dnslib:.1f}x (goal >= 25)")


def bench_store() -> None:
    """Events/s into WAL + Parquet in one process, and bytes per event on disk."""
    print("\n== store: events/s into WAL + Parquet, one process")
    with scratch() as tmp:
        root = Path(tmp)
        writer = EventWriter(root, "bench").start()
        buf = writer.buffer(
            ("timestamp", "src_ip", "src_port", "dns_qname", "dns_qtype", "dns_rcode", "family", "channel"),
            protocol="udp", application="dns", dst_ip="127.0.0.1", dst_port=53, sensor="bench",
        )  # fmt: skip
        ips = [f"127.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" for i in range(65536)]
        qnames = [f"bot{i:05d}-cc.example" for i in range(2000)]
        total = 2_000_000
        began = time.perf_counter()
        append = buf.append
        stamp = now_us()
        for i in range(total):
            buf.append((stamp + i, ips[i & 65535], 1024 + (i & 8191), qnames[i % 2000], 1, 0,
                        "megad-sim", "dga"))  # fmt: skip
        stats = writer.close()
        took = time.perf_counter() - began
        del append
        size = sum(f.stat().st_size for f in (root / "events").rglob("*.parquet"))
        stored = store.count(root)
    print(f"{total:,} events in {took:.2f} s: {total / took:,.0f} events/s (goal >= 300,000), "
          f"{stats.flushes} fsync'd flushes, {size / stored:.1f} bytes/event on disk, "
          f"stored {stored:,}")  # fmt: skip


NGINX_CONF = """
worker_processes 2;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 ""; }}
    }}
}}
"""


#: wrk script for the realistic HTTP mix: every request a different bot (id, version,
#: machine name) at one of the planned names; one in five is not a check-in at all.
#: Each wrk thread draws from its own seed, so threads do not repeat each other's bots.
MIX_LUA = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end
function init(args)
  math.randomseed(8 + seed)
end
local hex = "0123456789abcdef"
request = function()
  local id = {}
  for i = 1, 16 do local k = math.random(16); id[i] = hex:sub(k, k) end
  local v = math.random(1, 255)
  local path
  if math.random(5) == 1 then
    path = "/index.php?q=" .. math.random(1, 1000000)
  else
    path = "/cfg/" .. table.concat(id) .. "?v=" .. v .. "&os=pc-" .. math.random(1, 99999)
  end
  return wrk.format("GET", path, {["Host"] = string.format("bot%05d-cc.example",
    math.random(0, LAST)), ["User-Agent"] = "megad-sim/" .. v, ["Accept"] = "*/*"})
end
""".replace("LAST", str(DOMAINS - 1))

#: The wrk shapes: (label, threads, connections, script or None for the one URL below).
HTTP_SHAPES = (
    ("one URL, wrk -t1 -c64", 1, 64, False),
    ("realistic mix, wrk -t2 -c100", 2, 100, True),
)


def _wrk(
    port: int, threads: int = 1, conns: int = 64, script: Path | None = None
) -> dict[str, float]:
    command = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{SECONDS:.0f}s"]
    if script is not None:
        command += ["-s", str(script)]
    command += ["-H", "Host: bot00001-cc.example",
                f"http://127.0.0.1:{port}/cfg/0123456789abcdef?v=3&os=pc-lab"]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, timeout=SECONDS + 60, check=False)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    total = re.search(r"(\d+) requests in", out.stdout)
    if not (rps and total):
        raise RuntimeError(f"wrk failed: {out.stderr or out.stdout}")
    return {"rps": float(rps.group(1)), "requests": float(total.group(1))}


def bench_http() -> None:
    """wrk against the HTTP listener (every request stored) and nginx with an access log."""
    print(f"\n== HTTP: {SECONDS:.0f} s a row, loopback, 2 cores, 2 workers each")
    if _missing("wrk", "nginx"):
        return
    rows = []
    with scratch() as tmp:
        folder = Path(tmp)
        script = folder / "mix.lua"
        script.write_text(MIX_LUA)
        op_path = _operation(folder, [f"bot{i:05d}-cc.example" for i in range(DOMAINS)])
        for index, (label, threads, conns, mixed) in enumerate(HTTP_SHAPES):
            shape = (threads, conns, script if mixed else None)
            data = folder / f"data-{index}"
            with running_sinkhole(op_path, data, "--workers", "2", "--dns", "127.0.0.1:0") as sink:
                ours = _wrk(sink.address("http")[1], *shape)
            stored = store.count(data, store.Filter(application="http"))
            port = free_port()
            logs = folder / f"nginx-{index}"
            logs.mkdir()
            conf = logs / "nginx.conf"
            conf.write_text(NGINX_CONF.format(folder=logs, port=port))
            nginx = subprocess.Popen(dying_with_us(["nginx", "-c", str(conf), "-g", "daemon off;"]),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            try:
                time.sleep(1.0)
                theirs = _wrk(port, *shape)
            finally:
                nginx.send_signal(signal.SIGQUIT)
                nginx.wait(timeout=20)
            logged = sum(1 for _ in (logs / "access.log").open())
            rows.append((label, ours, stored, theirs, logged))
    print(f"{'load':<30} {'server':<9} {'req/s':>10} {'requests':>10} {'stored/logged':>14}")
    for label, ours, stored, theirs, logged in rows:
        print(f"{label:<30} {'sinkhole':<9} {ours['rps']:>10,.0f} {ours['requests']:>10,.0f} "
              f"{stored:>14,}")  # fmt: skip
        print(f"{label:<30} {'nginx':<9} {theirs['rps']:>10,.0f} {theirs['requests']:>10,.0f} "
              f"{logged:>14,}")  # fmt: skip
    for label, ours, _, theirs, _ in rows:
        print(f"ratio sinkhole/nginx, {label}: {ours['rps'] / theirs['rps']:.2f}x (goal >= 0.85)")
