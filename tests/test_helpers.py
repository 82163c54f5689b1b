"""Helpers the tests and benchmarks share: processes they start die with them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from sinkhole.testing import which

STARTER = """
import subprocess, sys
from sinkhole.testing import dying_with_us
child = subprocess.Popen(dying_with_us(["sleep", "60"]))
print(child.pid, flush=True)
sys.stdin.read()
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as handle:  # a zombie waits for its reaper: gone enough
        return handle.read().split()[2] != "Z"


@pytest.mark.skipif(which("setpriv") is None, reason="needs util-linux setpriv")
def test_a_started_process_dies_when_its_starter_is_killed_9() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", STARTER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as starter:
        assert starter.stdout is not None
        pid = int(starter.stdout.readline())
        assert _alive(pid)
        starter.send_signal(signal.SIGKILL)
        starter.wait(timeout=10)
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)
