"""A real Postfix (Debian's) on loopback receives the emulated bots' spam; impact reads its log.

Postfix runs with its own configuration, queue and log under tmp_path, listens
on 127.0.0.1 at a free port above 1024, relays nothing, discards every message
and writes its log itself (``maillog_file``). Its master process gets SIGTERM
when the test dies (``setpriv --pdeathsig``). Postfix's master opens a lock file
in ``data_directory`` as the ``postfix`` user, who cannot enter tmp_path (a
root-only folder); that one folder is made inside Postfix's own data folder
(``/var/lib/postfix``) and removed afterwards. No DNS lookups are made.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sinkhole import emulate
from sinkhole.cli import app
from sinkhole.events.writer import EventWriter
from sinkhole.testing import dying_with_us, free_port, which

EXAMPLE = Path(__file__).parents[2] / "examples" / "megad-sim.toml"
MASTER = Path("/usr/lib/postfix/sbin/master")
DATA_HOME = Path("/var/lib/postfix")
TRAP = "trap@mx.sinkhole-test.example"
#: Postfix refuses these clients (a listed network): their tries are rejected messages
REFUSED = "127.16.0.0/14"


def _main_cf(top: Path, data: Path) -> str:
    return f"""\
compatibility_level = 3.6
queue_directory = {top / "queue"}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.sinkhole-test.example
mydomain = sinkhole-test.example
myorigin = $myhostname
mydestination = mx.sinkhole-test.example
inet_interfaces = all
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
local_recipient_maps =
local_transport = discard:
default_transport = discard:
relay_transport = discard:
smtpd_relay_restrictions = reject_unauth_destination
smtpd_client_restrictions = check_client_access cidr:{top / "conf" / "clients.cidr"}
smtpd_peername_lookup = no
disable_dns_lookups = yes
smtp_dns_support_level = disabled
maillog_file = {top / "log" / "maillog"}
maillog_file_prefixes = {top}
alias_maps =
alias_database =
biff = no
smtputf8_enable = no
"""


MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
proxymap unix - - n - - proxymap
discard unix - - n - - discard
error unix - - n - - error
retry unix - - n - - error
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
showq unix n - n - - showq
flush unix n - n 1000? 0 flush
postlog unix-dgram n - n - 1 postlogd
"""


@pytest.fixture
def postfix(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A running Postfix: (port, its log file)."""
    if which("postfix") is None or not MASTER.exists() or not DATA_HOME.is_dir():
        pytest.skip("Postfix from Debian is not installed (apt-get install postfix)")
    if os.geteuid() != 0:
        pytest.skip("Postfix's master runs as root")
    top = tmp_path / "postfix"
    for part in ("conf", "queue", "log"):
        (top / part).mkdir(parents=True)
    conf = str(top / "conf")
    master = None
    data = Path(tempfile.mkdtemp(prefix="sinkhole-test-", dir=DATA_HOME))
    try:
        shutil.chown(data, "postfix")
        port = free_port()
        (top / "conf" / "main.cf").write_text(_main_cf(top, data))
        (top / "conf" / "master.cf").write_text(MASTER_CF.format(port=port))
        (top / "conf" / "clients.cidr").write_text(f"{REFUSED} REJECT listed by the lab\n")
        # makes the queue's folders with Postfix's own owners and modes
        subprocess.run([str(which("postfix")), "-c", conf, "check"], check=True, timeout=60)
        master = subprocess.Popen(dying_with_us([str(MASTER), "-c", conf, "-d"]))
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or master.poll() is not None:
                    raise RuntimeError("Postfix did not start listening") from None
                time.sleep(0.1)
        yield port, top / "log" / "maillog"
    finally:
        if master is not None:
            master.terminate()
            try:
                master.wait(timeout=20)
            except subprocess.TimeoutExpired:
                master.kill()
                master.wait()
        shutil.rmtree(data, ignore_errors=True)


def _send(port: int, source: str, count: int) -> None:
    """`count` messages from `source` (a 127.x.y.z address of this host)."""
    with smtplib.SMTP(
        "127.0.0.1", port, source_address=(source, 0), local_hostname="pc.example", timeout=20
    ) as smtp:
        for number in range(count):
            body = f"Subject: offer {number}\r\n\r\ncheap lab pills\r\n".encode()
            try:
                smtp.sendmail("offers@bulk.example", [TRAP], body)
            except smtplib.SMTPRecipientsRefused:
                smtp.rset()


def _logged(log: Path, want: int) -> str:
    """The log once it holds `want` message lines (accepted or refused)."""
    deadline = time.monotonic() + 30
    while True:
        text = log.read_text() if log.exists() else ""
        if text.count(": client=") + text.count("NOQUEUE: reject:") >= want:
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"Postfix logged too few messages:\n{text[-2000:]}")
        time.sleep(0.1)


def test_impact_on_the_log_postfix_writes(postfix: tuple[int, Path], tmp_path: Path) -> None:
    port, log = postfix
    # the emulated population's machines, at the addresses they hold now
    pop = emulate.Population.build(emulate.Settings(machines=400, days=1.0, seed=2))
    held = np.unique(pop.addresses(pop.holder, np.zeros(pop.machines)))
    bots = emulate.ip_strings(held[:: len(held) // 12][:12]).to_pylist()
    refused = [b for b in bots if b.startswith(("127.16.", "127.17.", "127.18.", "127.19."))]
    assert 0 < len(refused) < len(bots)  # some of the bots' tries are refused, some accepted
    others = [f"127.100.0.{n}" for n in range(1, 6)]  # legitimate senders, never at the sinkhole
    # the sinkhole saw the bots check in
    store = tmp_path / "store"
    writer = EventWriter(store, "test")
    seen = writer.buffer(("timestamp", "src_ip"), application="http", family="megad-sim")
    now = int(time.time() * 1_000_000)
    for bot in bots:
        seen.append((now, bot))
    writer.close()

    for bot in bots:
        _send(port, bot, 2)
    for other in others:
        _send(port, other, 1)
    _logged(log, 2 * len(bots) + len(others))
    time.sleep(1.1)  # the takedown falls between two logged seconds
    takedown = dt.datetime.now(dt.UTC)
    time.sleep(1.1)
    survivors = bots[-2:]
    for bot in survivors:
        _send(port, bot, 1)
    for other in others:
        _send(port, other, 2)
    before = 2 * len(bots) + len(others)
    after = len(survivors) + 2 * len(others)
    _logged(log, before + after)

    result = CliRunner().invoke(
        app,
        [
            "impact",
            str(EXAMPLE),
            "--data",
            str(store),
            "--mail",
            str(log),
            "--takedown",
            takedown.isoformat(),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    (found,) = report["files"]
    assert found["format"] == "postfix" and found["malformed"] == 0
    assert found["rejected"] == 2 * len(refused) + sum(1 for s in survivors if s in refused)
    assert report["messages"] == before + after
    assert report["bot_messages"] == 2 * len(bots) + len(survivors)
    assert report["before"]["messages"] == before
    assert report["before"]["bot_messages"] == 2 * len(bots)
    assert report["after"]["bot_messages"] == len(survivors)
    assert report["before"]["bot_share"] == pytest.approx(2 * len(bots) / before, abs=1e-4)
    assert report["per_family"] == {"megad-sim": 2 * len(bots) + len(survivors)}
    assert sum(n["addresses"] for n in report["per_network"]) == len(bots)
