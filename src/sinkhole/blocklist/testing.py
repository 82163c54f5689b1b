"""What tests and benchmarks of the DNSBL need: our DNSBL and rbldnsd, running on loopback.

Both stop with the block that started them, and with the program that did
(``setpriv --pdeathsig``), so no listener outlives a failed test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sinkhole.events import private
from sinkhole.servers.background import Background
from sinkhole.testing import dying_with_us, free_port, wait_for_dns, which


@contextmanager
def running_dnsbl(
    operation: Path, data: Path, zone: str, *args: str, timeout: float = 60.0
) -> Iterator[Background]:
    """Run `sinkhole dnsbl serve` on 127.0.0.1, port 0; `.address("dnsbl")` says where."""
    command = [sys.executable, "-m", "sinkhole", "dnsbl", "serve", str(operation),
               "--data", str(data), "--zone", zone, *args]  # fmt: skip
    if not any(a.startswith("--listen") for a in args):
        command += ["--listen", "127.0.0.1:0"]
    process = subprocess.Popen(
        dying_with_us(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    running = Background(process, data)
    try:
        running._ready(timeout)
        yield running
    finally:
        running.stop()


@contextmanager
def running_rbldnsd(
    export: Path, zone: str, workdir: Path, port: int = 0, timeout: float = 60.0
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """Run rbldnsd on 127.0.0.1 serving `export` (our rbldnsd file) as `zone`.

    rbldnsd will not run as root: as root it runs as `nobody`, chrooted into a private
    folder of its own that holds a copy of the export (0600, owned by nobody).
    """
    program = which("rbldnsd")
    if program is None:
        raise FileNotFoundError("rbldnsd is not installed (apt-get install rbldnsd)")
    port = port or free_port()
    folder = private.folder(workdir / "rbldnsd")
    shutil.copyfile(export, folder / "zone.rbl")
    os.chmod(folder / "zone.rbl", 0o600)
    if os.geteuid() == 0:
        import pwd

        nobody = pwd.getpwnam("nobody")
        for path in (folder, folder / "zone.rbl"):
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        where = ["-u", "nobody", "-r", str(folder), "-w", "/"]
    else:
        where = ["-w", str(folder)]
    command = [program, "-n", "-b", f"127.0.0.1/{port}", *where, f"{zone}:combined:zone.rbl"]
    proc = subprocess.Popen(
        dying_with_us(command), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_for_dns("127.0.0.1", port, proc, timeout, zone)
        yield proc, port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()
        shutil.rmtree(folder, ignore_errors=True)


def rss_kib(pid: int) -> int:
    """The resident memory of a process (KiB), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def tree_rss_kib(pid: int) -> int:
    """The resident memory of a process and its children (KiB)."""
    total = rss_kib(pid)
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        for child in children.read_text().split():
            total += tree_rss_kib(int(child))
    return total
