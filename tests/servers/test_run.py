"""`sinkhole serve` as a process: it dies whole, owns its data folder and its addresses, reloads.

Every test runs the real command and talks to it with dnspython over
loopback; the reload test keeps querying while a plan of 750,000 names is
swapped in.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode
import pytest

from sinkhole import families
from sinkhole.events import store
from sinkhole.servers.background import BackgroundError, in_background
from sinkhole.testing import free_port, running_sinkhole

START = dt.date(2026, 1, 1)
STABLE = "update-megad-sim.example"  # a megad-sim reserved domain: planned before and after


def op_text(static: str, days: int = 3, extra_families: tuple[str, ...] = ()) -> str:
    text = (
        f'[operation]\nname = "run test"\nstart = {START}\nhold_days = {days}\n\n'
        f'[[targets]]\nfamily = "megad-sim"\nstatic_domains = ["{static}"]\n'
    )
    for family in extra_families:
        text += f'\n[[targets]]\nfamily = "{family}"\n'
    # one client asks the same zone many times a second here; the rate limit is not under test
    return text + "\n[listeners]\nhttp = []\n\n[limits]\ndns_rate_limit = 0\n"


def rcode(name: str, host: str, port: int, timeout: float = 2.0) -> int:
    reply = dns.query.udp(dns.message.make_query(name, "A"), host, port=port, timeout=timeout)
    return int(reply.rcode())


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie waiting for its reaper is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def serve_command(op: Path, data: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "sinkhole", "serve", str(op), "--data", str(data), *args]


@pytest.fixture
def op_file(tmp_path: Path) -> Path:
    path = tmp_path / "op.toml"
    path.write_text(op_text("gone.example"))
    return path


# -- containment -------------------------------------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_the_parent_stops_the_workers_and_keeps_acknowledged_events(
    op_file: Path, tmp_path: Path
) -> None:
    data = tmp_path / "d"
    names = [f"n{i}.gone.example" for i in range(300)]
    with running_sinkhole(op_file, data, "--workers", "2") as sink:
        host, port = sink.address("dns")
        http_port = sink.address("http")[1]
        workers = children(sink.process.pid)
        assert len(workers) == 2
        for name in names:
            assert rcode(name, host, port) == dns.rcode.NOERROR
        deadline = time.monotonic() + 10
        durable = 0
        while time.monotonic() < deadline and durable < len(names):
            durable = sum(int(s["durable"]) for s in store.sensor_stats(data))
            time.sleep(0.05)
        assert durable == len(names)  # acknowledged: made durable, as the stats file says
        os.kill(sink.process.pid, signal.SIGKILL)
        sink.process.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(running(pid) for pid in workers):
            time.sleep(0.05)
        assert not [pid for pid in workers if running(pid)], "workers outlived their parent"
        with pytest.raises((dns.exception.Timeout, ConnectionRefusedError)):
            rcode(STABLE, host, port, timeout=1.0)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((host, http_port), timeout=2).close()
    stored = store.read(data).column("dns_qname").to_pylist()
    assert sorted(stored) == sorted(names)
    # the folder and the ports are free again: the same sinkhole starts in their place
    with running_sinkhole(op_file, data, "--dns", f"{host}:{port}") as again:
        assert rcode(STABLE, *again.address("dns")) == dns.rcode.NOERROR


def test_a_second_serve_on_the_same_data_folder_exits_2_naming_the_holder(
    op_file: Path, tmp_path: Path
) -> None:
    data = tmp_path / "d"
    with running_sinkhole(op_file, data) as sink:
        second = subprocess.run(
            serve_command(op_file, data, "--dns", "127.0.0.1:0", "--http", "127.0.0.1:0"),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2
        assert second.stderr.strip().splitlines() == [
            f"sinkhole: error: the data folder {data} is in use by another sinkhole serve "
            f"(PID {sink.process.pid})"
        ]
        assert (data / "serve.lock").stat().st_mode & 0o777 == 0o600
        assert rcode(STABLE, *sink.address("dns")) == dns.rcode.NOERROR  # undisturbed


@pytest.mark.parametrize("kind", ["udp", "tcp"])
def test_an_address_held_by_another_process_with_so_reuseport_is_refused(
    kind: str, op_file: Path, tmp_path: Path
) -> None:
    port = free_port()
    stranger = socket.socket(
        socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM
    )
    stranger.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    stranger.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    stranger.bind(("127.0.0.1", port))
    if kind == "tcp":
        stranger.listen(8)
    with stranger:
        result = subprocess.run(
            serve_command(op_file, tmp_path / "d", "--dns", f"127.0.0.1:{port}"),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"sinkhole: error: cannot listen on 127.0.0.1:{port} ({kind}): another process holds it"
    ]


# -- reload -------------------------------------------------------------------------------


class Asker(threading.Thread):
    """Asks for a planned name over and over (dnspython, three tries), counting every outcome."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(daemon=True)
        self.host, self.port = host, port
        self.stop = threading.Event()
        self.answers: list[int] = []
        self.unanswered = 0

    def run(self) -> None:
        while not self.stop.is_set():
            for _ in range(3):
                try:
                    self.answers.append(rcode(STABLE, self.host, self.port, timeout=1.0))
                    break
                except dns.exception.Timeout:
                    continue
            else:
                self.unanswered += 1
            time.sleep(0.002)


def test_reload_of_a_large_plan_loses_no_answer(op_file: Path, tmp_path: Path) -> None:
    murofet = families.get("murofet-v2").dga
    assert murofet is not None
    dga_name = murofet.generate(START + dt.timedelta(days=200))[5]
    with running_sinkhole(op_file, tmp_path / "d", "--workers", "2") as sink:
        host, port = sink.address("dns")
        assert rcode("gone.example", host, port) == dns.rcode.NOERROR
        assert rcode("added.example", host, port) == dns.rcode.REFUSED
        assert rcode(dga_name, host, port) == dns.rcode.REFUSED
        asker = Asker(host, port)
        asker.start()
        op_file.write_text(op_text("added.example", 365, ("murofet-v2", "newgoz")))
        before = len(sink.lines)
        sink.process.send_signal(signal.SIGHUP)
        line = sink.wait_for(lambda text: text.startswith("reloaded:"), 240, after=before)
        time.sleep(0.5)  # a few answers from the new plan too
        asker.stop.set()
        asker.join(10)
        print(line)  # the longest pause of a worker's loop, for the record
        planned = int(line.split("planned names: ")[1].split(";")[0].replace(",", ""))
        assert planned > 700_000
        assert asker.unanswered == 0
        assert len(asker.answers) > 20
        assert set(asker.answers) == {dns.rcode.NOERROR}
        # through either worker: each query comes from a new source port
        for _ in range(4):
            assert rcode("added.example", host, port) == dns.rcode.NOERROR
            assert rcode(f"www.{dga_name}", host, port) == dns.rcode.NOERROR
            assert rcode("gone.example", host, port) == dns.rcode.REFUSED
        assert not list((tmp_path / "d").glob(".reload-*")), "the handover file is removed"
        assert sink.process.poll() is None


def test_an_operation_file_turned_invalid_keeps_the_old_plan(op_file: Path, tmp_path: Path) -> None:
    with running_sinkhole(op_file, tmp_path / "d", "--workers", "2") as sink:
        host, port = sink.address("dns")
        good = op_file.read_text()
        op_file.write_text(good.replace("hold_days = 3", "hold_days = 0"))
        sink.process.send_signal(signal.SIGHUP)
        line = sink.wait_for(lambda text: "reload failed" in text, 60, stderr=True)
        assert line.startswith("sinkhole: reload failed, keeping the old plan: ")
        assert "hold_days" in line
        for _ in range(4):
            assert rcode("gone.example", host, port) == dns.rcode.NOERROR
        changed = good.replace("gone.example", "added.example")
        op_file.write_text(changed.replace("http = []", 'http = ["127.0.0.1:0"]'))
        before = len(sink.lines)
        sink.process.send_signal(signal.SIGHUP)
        sink.wait_for(lambda text: text.startswith("reloaded:"), 60, after=before)
        assert sink.wait_for(lambda text: "restart" in text, 10, stderr=True) == (
            "sinkhole: [listeners] changed in the operation file: applied on restart only"
        )
        for _ in range(4):
            assert rcode("added.example", host, port) == dns.rcode.NOERROR
            assert rcode("gone.example", host, port) == dns.rcode.REFUSED
        assert sink.process.poll() is None


# -- in the background ------------------------------------------------------------------------


def test_a_sinkhole_that_cannot_start_says_why(op_file: Path, tmp_path: Path) -> None:
    with (
        pytest.raises(BackgroundError, match=r"exited with 2: .*port 70000 is out of range"),
        in_background(op_file, tmp_path / "d", ["--dns", "127.0.0.1:70000"]),
    ):
        pass


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_worker_that_dies_ends_serve_with_one_line_and_exit_2(
    op_file: Path, tmp_path: Path
) -> None:
    proc = subprocess.Popen(
        serve_command(op_file, tmp_path / "d", "--workers", "2", "--dns", "127.0.0.1:0"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == "ready":
                break
        os.kill(children(proc.pid)[0], signal.SIGKILL)
        _out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 2
    [line] = err.strip().splitlines()
    assert line.startswith("sinkhole: error: worker ") and "exit code -9" in line


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_sinkhole_in_the_background_stops_when_its_starter_dies(
    op_file: Path, tmp_path: Path
) -> None:
    """A program that runs `in_background` and is killed leaves no sinkhole holding ports."""
    script = (
        "import sys, time\nfrom pathlib import Path\n"
        "from sinkhole.servers.background import in_background\n"
        f"with in_background(Path({str(op_file)!r}), Path({str(tmp_path / 'd')!r}), "
        "['--dns', '127.0.0.1:0']) as sink:\n"
        "    print(sink.process.pid, flush=True)\n    time.sleep(120)\n"
    )
    starter = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert starter.stdout is not None
        serve_pid = int(starter.stdout.readline())
        assert running(serve_pid)
        starter.kill()
        starter.wait()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and running(serve_pid):
            time.sleep(0.05)
        assert not running(serve_pid), "the sinkhole outlived the program that started it"
    finally:
        starter.kill()
        starter.wait()
        if starter.stdout is not None:
            starter.stdout.close()


def test_serve_does_not_take_over_a_folder_that_holds_other_things(
    op_file: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    (home / "notes.txt").write_text("mine\n")
    result = subprocess.run(
        serve_command(op_file, home, "--dns", "127.0.0.1:0", "--duration", "1"),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "holds other files and others can read it" in result.stderr
    assert home.stat().st_mode & 0o777 == 0o755  # left as it was
    assert not (home / "serve.lock").exists()
    nested = tmp_path / "new" / "deeper" / "store"  # made here: private all the way
    made = subprocess.run(
        serve_command(op_file, nested, "--dns", "127.0.0.1:0", "--duration", "1"),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    for folder in (tmp_path / "new", tmp_path / "new" / "deeper", nested):
        assert folder.stat().st_mode & 0o777 == 0o700, folder


def test_serve_tightens_a_store_that_holds_a_listing_and_a_dashboard_token(
    op_file: Path, tmp_path: Path
) -> None:
    # what `blocklist build` and `dashboard` leave in a store folder is the store's own
    store = tmp_path / "store"
    store.mkdir(mode=0o755)
    store.chmod(0o755)
    for name in ("blocklist.sqlite", "blocklist.sqlite-wal", "dashboard.token"):
        (store / name).write_bytes(b"")
    result = subprocess.run(
        serve_command(op_file, store, "--dns", "127.0.0.1:0", "--duration", "1"),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert store.stat().st_mode & 0o777 == 0o700
