"""Zone and RPZ exports: NSD accepts them and a live NSD answers planned names."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from sinkhole import operation, plan, zones
from sinkhole.testing import running_nsd, which

OP = """\
[operation]
name = "lab"
start = 2026-12-01
hold_days = 3

[sinkhole]
ipv4 = ["127.0.0.1", "127.0.0.2"]
ipv6 = ["::1"]
nameservers = ["ns1.sinkhole.example", "ns2.sinkhole.example"]

[[targets]]
family = "megad-sim"
"""

needs_nsd = pytest.mark.skipif(which("nsd-checkzone") is None, reason="nsd not installed")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[plan.Plan, Path]:
    out = tmp_path_factory.mktemp("plan")
    p = plan.compute(operation.loads(OP))
    plan.write(p, out)
    return p, out


def test_zone_text_has_apex_and_wildcard() -> None:
    sink = operation.loads(OP).sinkhole
    text = zones.zone_text(sink, dt.date(2026, 12, 1), origin="x.example")
    lines = text.splitlines()
    assert lines[0] == "$ORIGIN x.example."
    assert "2026120100" in lines[2]
    for owner in ("@", "*"):
        assert f"{owner}\tIN\tA\t127.0.0.2" in lines
        assert f"{owner}\tIN\tAAAA\t::1" in lines
    assert "@\tIN\tNS\tns2.sinkhole.example." in lines


def test_shared_layout_lists_every_domain_once(written: tuple[plan.Plan, Path]) -> None:
    p, out = written
    conf = (out / "zones" / "nsd.conf").read_text()
    assert conf.count("zone:") == len(p.domains)
    for name in p.domains:
        assert f'name: "{name}"' in conf
    named = (out / "zones" / "named.conf").read_text()
    assert named.count("type primary") == len(p.domains)


def test_rpz_rewrites_names_and_subdomains(written: tuple[plan.Plan, Path]) -> None:
    p, out = written
    text = (out / "rpz.zone").read_text()
    assert text.startswith("$ORIGIN rpz.sinkhole.example.\n")
    for name in p.domains:
        assert f"\n{name}\tIN\tA\t127.0.0.1\n" in text
        assert f"\n*.{name}\tIN\tAAAA\t::1\n" in text


@needs_nsd
def test_nsd_checkzone_accepts_every_export(written: tuple[plan.Plan, Path]) -> None:
    p, out = written
    check = which("nsd-checkzone")
    assert check is not None
    name = sorted(p.domains)[0]
    for origin, path in (
        (name, out / "zones" / zones.TEMPLATE),
        ("rpz.sinkhole.example", out / "rpz.zone"),
    ):
        result = subprocess.run([check, origin, str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "is ok" in result.stdout


@needs_nsd
def test_nsd_checkzone_accepts_per_domain_layout(tmp_path: Path) -> None:
    p = plan.compute(operation.loads(OP))
    files = zones.write_zones(
        tmp_path, p.operation.sinkhole, p.start, sorted(p.domains)[:5], "per-domain"
    )
    zone_files = [f for f in files if f.suffix == ".zone"]
    assert len(zone_files) == 5
    check = which("nsd-checkzone")
    assert check is not None
    for path in zone_files:
        result = subprocess.run([check, path.stem, str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


@needs_nsd
def test_nsd_serves_planned_names(written: tuple[plan.Plan, Path], tmp_path: Path) -> None:
    p, out = written
    dga_name = next(h.domain for h in p.domains.values() if "dga" in h.channels)
    static_name = next(h.domain for h in p.domains.values() if "static-domains" in h.channels)
    with running_nsd(out / "zones", tmp_path / "nsd") as (host, port):
        for qname in (dga_name, f"www.{static_name}"):
            reply = dns.query.udp(dns.message.make_query(qname, "A"), host, port=port, timeout=3)
            assert reply.rcode() == dns.rcode.NOERROR
            assert reply.flags & dns.flags.AA
            addresses = {r.address for rrset in reply.answer for r in rrset}
            assert addresses == {"127.0.0.1", "127.0.0.2"}
        reply = dns.query.tcp(dns.message.make_query(dga_name, "AAAA"), host, port=port, timeout=3)
        assert {r.address for rrset in reply.answer for r in rrset} == {"::1"}
        reply = dns.query.udp(
            dns.message.make_query("unplanned.example", "A"), host, port=port, timeout=3
        )
        assert reply.rcode() == dns.rcode.REFUSED
