"""Helpers that tests (ours and users') and benchmarks need: free ports, a real NSD, a sinkhole."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dns.message

from sinkhole.servers.background import Background, in_background

#: Where Debian puts NSD; root's PATH has it, other users' may not.
SBIN = "/usr/sbin:/usr/local/sbin"


def dying_with_us(command: list[str]) -> list[str]:
    """`command` run so that it gets SIGTERM when the thread that starts it dies, even by
    kill -9: through util-linux `setpriv --pdeathsig` where there is one (Linux), else as is.
    (A preexec_fn would do the same, but is unsafe in a process with threads.)"""
    setpriv = shutil.which("setpriv")
    if setpriv is None or not sys.platform.startswith("linux"):
        return command
    return [setpriv, "--pdeathsig", "TERM", "--", *command]


def which(program: str) -> str | None:
    """`program` on PATH or in the sbin folders."""
    return shutil.which(program, path=os.environ.get("PATH", "") + os.pathsep + SBIN)


def free_port(host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP on `host` right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((host, 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((host, port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port found")


def _nsd_conf(folder: Path, zones: Path, port: int, host: str, servers: int = 1) -> Path:
    conf = folder / "nsd-test.conf"
    conf.write_text(
        "server:\n"
        f"\tip-address: {host}\n"
        f"\tport: {port}\n"
        '\tusername: ""\n'
        '\tchroot: ""\n'
        f'\tzonesdir: "{zones}"\n'
        f'\tpidfile: "{folder}/nsd.pid"\n'
        f'\txfrdfile: "{folder}/xfrd.state"\n'
        f'\tzonelistfile: "{folder}/zone.list"\n'
        f'\tlogfile: "{folder}/nsd.log"\n'
        '\tdatabase: ""\n'
        f"\tserver-count: {servers}\n"
        "\tdo-ip6: no\n"
        "\tverbosity: 1\n"
        "remote-control:\n"
        "\tcontrol-enable: no\n"
        f'include: "{zones}/nsd.conf"\n'
    )
    return conf


@contextmanager
def running_nsd(
    zones: Path,
    workdir: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    timeout: float = 20.0,
    server_count: int = 1,
) -> Iterator[tuple[str, int]]:
    """Run NSD on loopback over a plan's `zones/` folder; yields (host, port)."""
    nsd = which("nsd")
    if nsd is None:
        raise FileNotFoundError("nsd is not installed (apt-get install nsd)")
    port = port or free_port(host)
    workdir.mkdir(parents=True, exist_ok=True)
    conf = _nsd_conf(workdir, zones.resolve(), port, host, server_count)
    proc = subprocess.Popen(
        dying_with_us([nsd, "-d", "-c", str(conf)]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_dns(host, port, proc, timeout)
        yield host, port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def wait_for_dns(
    host: str, port: int, proc: subprocess.Popen[bytes], timeout: float, zone: str = "."
) -> None:
    """Return once a server answers `zone`'s SOA over UDP (any rcode); raise if it exits first."""
    query = dns.message.make_query(zone, "SOA").to_wire()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            message = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}: {message.strip()}")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.2)
            try:
                sock.sendto(query, (host, port))
                sock.recvfrom(4096)
                return
            except OSError:
                time.sleep(0.05)
    raise TimeoutError(f"no DNS answer on {host}:{port} within {timeout}s")


#: A sinkhole started by :func:`running_sinkhole` (its listeners, lines and process).
RunningSinkhole = Background


@contextmanager
def running_sinkhole(
    operation: Path,
    data: Path,
    *args: str,
    timeout: float = 60.0,
) -> Iterator[RunningSinkhole]:
    """Run `sinkhole serve` on loopback port 0 (DNS, HTTP), one worker unless told otherwise."""
    extra = list(args)
    if not any(a.startswith("--dns") for a in args):
        extra += ["--dns", "127.0.0.1:0"]
    if not any(a.startswith("--http") for a in args):
        extra += ["--http", "127.0.0.1:0"]
    if not any(a.startswith("--workers") for a in args):
        extra += ["--workers", "1"]
    with in_background(operation, data, extra, timeout) as sink:
        yield sink


def spark_home() -> Path | None:
    """The Spark distribution inside the pyspark package (None without pyspark or Java)."""
    try:
        import pyspark
    except ImportError:
        return None
    home = Path(pyspark.__file__).parent
    if not (home / "bin" / "spark-class").exists() or shutil.which("java") is None:
        return None
    return home


@contextmanager
def running_spark_cluster(
    work: Path, memory: str = "1g", timeout: float = 120.0, cores: int = 1
) -> Iterator[str]:
    """A Spark standalone master and one worker (`cores`) on 127.0.0.1; yields the master URL.

    Started with pyspark's own `spark-class`, logs and executor folders under `work`;
    both die with their starter (setpriv --pdeathsig) and are stopped at the end.
    """
    home = spark_home()
    if home is None:
        raise RuntimeError("a Spark cluster needs pyspark and a Java runtime")
    import json
    import urllib.request

    # the executors' cached and shuffled blocks (victim addresses) go under `work`, not /tmp
    env = dict(os.environ, SPARK_HOME=str(home), SPARK_LOCAL_IP="127.0.0.1",
               SPARK_DAEMON_MEMORY="256m", SPARK_WORKER_DIR=str(work),
               SPARK_LOCAL_DIRS=str(work), PYSPARK_PYTHON=sys.executable)  # fmt: skip
    spark_class = str(home / "bin" / "spark-class")
    port, ui = free_port(), free_port()
    url = f"spark://127.0.0.1:{port}"
    commands = [
        [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
         "--port", str(port), "--webui-port", str(ui)],
        [spark_class, "org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1",
         "--cores", str(cores), "--memory", memory, "--webui-port", str(free_port()),
         "--work-dir", str(work)],
    ]  # fmt: skip
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for command, name in zip(commands, ("master", "worker"), strict=True):
            with open(work / f"{name}.log", "wb") as log:
                procs.append(
                    subprocess.Popen(dying_with_us(command), env=env, stdout=log, stderr=log)
                )
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=2) as answer:
                    if json.load(answer).get("aliveworkers", 0) >= 1:
                        break
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                tail = (work / "master.log").read_text(errors="replace")[-1500:]
                raise RuntimeError(f"the Spark cluster did not come up: {tail}")
            time.sleep(0.5)
        yield url
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
