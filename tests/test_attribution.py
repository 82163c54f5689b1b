"""Attribution: every dataset format on real-format data, merging, bad input, the CLI."""

from __future__ import annotations

import gzip
import ipaddress
import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sinkhole import attribution, operation
from sinkhole.cli import app

DATA = Path(__file__).parent / "data" / "attribution"


def _one(networks: attribution.Attributor, ip: str) -> dict[str, object]:
    [row] = networks.attribute([ip]).rows()
    return row


def test_lab_dataset_covers_its_ranges_with_lab_asns() -> None:
    lab = attribution.lab()
    assert len(lab.networks) == 12
    for net in lab.networks:
        assert 64496 <= net.asn <= 65534
        assert net.abuse_contact.endswith(".example")
        assert net.prefix.startswith("127.")
    hit = lab.lookup("127.21.3.4")
    assert hit is not None and (hit.asn, hit.country) == (64497, "DE")
    assert hit.prefix == "127.20.0.0/14"
    assert lab.lookup("127.0.0.1") is None  # the sinkhole itself is nobody's network
    assert lab.lookup("not an ip") is None
    assert lab.lookup("::1") is None


def test_most_specific_prefix_wins(tmp_path: Path) -> None:
    path = tmp_path / "nets.csv"
    path.write_text(
        "prefix,asn,as_name,country,abuse_contact\n"
        "10.0.0.0/8,64512,BIG,US,a@big.example\n"
        "10.1.0.0/16,64513,SMALL,US,a@small.example\n"
        "10.1.2.0/24,64514,TINY,US,a@tiny.example\n"
        "2001:db8::/32,64515,SIX,NL,a@six.example\n"
    )
    data = attribution.load_csv(path)
    assert [data.lookup(ip).asn for ip in ("10.1.2.3", "10.1.9.9", "10.2.0.1", "2001:db8::5")] == [  # type: ignore[union-attr]
        64514, 64513, 64512, 64515,
    ]  # fmt: skip
    assert data.lookup("11.0.0.1") is None


def test_bad_dataset_rows_name_the_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("prefix,asn,as_name,country,abuse_contact\n10.0.0.0/8,notanumber,X,US,a@x\n")
    with pytest.raises(attribution.AttributionError, match=r"bad.csv:2: asn 'notanumber' is not"):
        attribution.load_csv(path)
    with pytest.raises(attribution.AttributionError, match="cannot read"):
        attribution.load_csv(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("GeoLite2-ASN-Test.mmdb", "mmdb"),
        ("GeoLite2-Country-Test.mmdb", "mmdb"),
        ("GeoIP2-City-Test.mmdb", "mmdb"),
        ("asn-ipv4.csv", "ip-location-db"),
        ("asn-ipv6.csv", "ip-location-db"),
        ("ip2asn-combined.tsv", "iptoasn"),
        ("ipasn.dat", "pyasn"),
        ("delegated-ripencc-extended.txt", "rir-delegated"),
        ("ripe.db.sample", "rpsl"),
        ("overrides.csv", "overrides"),
    ],
)
def test_format_is_told_by_content(name: str, kind: str, tmp_path: Path) -> None:
    assert attribution.detect(DATA / name) == kind
    # the name says nothing: a copy under another name, gzipped for text formats, reads the same
    copy = tmp_path / "dataset"
    raw = (DATA / name).read_bytes()
    copy.write_bytes(raw if kind == "mmdb" else gzip.compress(raw))
    assert attribution.detect(copy) == kind
    assert len(attribution.load(copy)) == len(attribution.load(DATA / name)) > 0


def test_maxmind_asn_country_and_city_test_databases() -> None:
    asn = attribution.open_datasets([DATA / "GeoLite2-ASN-Test.mmdb"])
    assert _one(asn, "1.128.0.1") == {
        "ip": "1.128.0.1", "asn": 1221, "as_name": "Telstra Pty Ltd", "prefix": "1.128.0.0/11",
        "country": "", "abuse_contact": "", "source": "GeoLite2-ASN-Test.mmdb",
    }  # fmt: skip
    assert _one(asn, "2600:6000::1")["asn"] == 237
    assert _one(asn, "2600:6000::1")["prefix"] == "2600:6000::/20"
    # a City database gives countries; merged with the ASN one, each attribute names its source
    both = attribution.open_datasets(
        [DATA / "GeoLite2-ASN-Test.mmdb", DATA / "GeoIP2-City-Test.mmdb"]
    )
    row = _one(both, "2001:218::1")
    assert (row["country"], row["asn"]) == ("JP", None)
    row = _one(both, "81.2.69.160")
    assert row["country"] == "GB"  # `country`, not `registered_country` (US)
    country = attribution.open_datasets([DATA / "GeoLite2-Country-Test.mmdb"])
    assert _one(country, "2.125.160.217")["country"] == "GB"
    assert _one(country, "2.125.160.217")["prefix"] == "2.125.160.216/29"


def test_maxmind_database_of_another_type_or_damaged_is_refused(tmp_path: Path) -> None:
    with pytest.raises(attribution.AttributionError, match="'GeoIP2-Domain' holds neither"):
        attribution.load(DATA / "GeoIP2-Domain-Test.mmdb")
    raw = bytearray((DATA / "GeoLite2-ASN-Test.mmdb").read_bytes())
    damaged = tmp_path / "damaged.mmdb"
    damaged.write_bytes(b"\xff" * 4000 + raw[4000:])  # the search tree points past the data
    with pytest.raises(attribution.AttributionError, match=r"damaged\.mmdb: not a readable"):
        attribution.load(damaged)
    cut = tmp_path / "cut.mmdb"
    cut.write_bytes(raw[: len(raw) // 2])  # the metadata at the end is gone
    with pytest.raises(
        attribution.AttributionError, match=r"cut\.mmdb: not an attribution dataset"
    ):
        attribution.load(cut)


def test_ip_location_db_rows_from_the_npm_package() -> None:
    networks = attribution.open_datasets([DATA / "asn-ipv4.csv", DATA / "asn-ipv6.csv"])
    row = _one(networks, "1.0.0.7")
    assert (row["asn"], row["as_name"], row["prefix"]) == (13335, "Cloudflare, Inc.", "1.0.0.0/24")
    assert row["source"] == "asn-ipv4.csv"
    row = _one(networks, "2001:200::1")
    assert (row["asn"], row["as_name"], row["source"]) == (2500, "WIDE Project", "asn-ipv6.csv")


def test_iptoasn_skips_unrouted_space_and_keeps_unaligned_ranges() -> None:
    networks = attribution.open_datasets([DATA / "ip2asn-combined.tsv"])
    assert _one(networks, "198.51.100.5")["asn"] is None  # AS 0: not routed
    row = _one(networks, "198.51.100.42")
    assert (row["asn"], row["country"], row["prefix"]) == (
        64497,
        "DE",
        "198.51.100.10-198.51.100.99",
    )
    row = _one(networks, "2001:db8:1abc::1")
    assert (row["asn"], row["country"]) == (64502, "FR")  # `None` country: the parent's
    assert row["prefix"] == "2001:db8:1000::/36"


def test_ranges_that_overlap_without_nesting(tmp_path: Path) -> None:
    tsv = tmp_path / "ip2asn.tsv"
    tsv.write_text(
        "192.0.2.0\t192.0.2.255\t64496\tNL\tOUTER\n"
        "192.0.2.0\t192.0.2.20\t64497\tNL\tA\n"
        "192.0.2.10\t192.0.2.40\t64498\tNL\tB\n"
    )
    networks = attribution.open_datasets([tsv])
    asns = [_one(networks, f"192.0.2.{n}")["asn"] for n in (5, 15, 30, 41, 200)]
    assert asns == [64497, 64498, 64498, 64496, 64496]


def test_pyasn_nested_prefixes_in_both_families() -> None:
    networks = attribution.open_datasets([DATA / "ipasn.dat"])
    asns = [_one(networks, ip)["asn"] for ip in
            ("198.51.100.1", "198.51.100.200", "203.0.113.70", "2001:db8:1234::1", "2001:db8::1")]  # fmt: skip
    assert asns == [64497, 64498, 64500, 64502, 64501]


def test_rir_delegated_gives_countries_only_for_assigned_space() -> None:
    networks = attribution.open_datasets([DATA / "delegated-ripencc-extended.txt"])
    assert _one(networks, "192.0.2.9")["country"] == "NL"
    assert _one(networks, "198.51.100.130")["country"] == "BE"
    assert _one(networks, "198.51.100.130")["prefix"] == "198.51.100.128/26"
    assert _one(networks, "203.0.113.1")["source"] == ""  # available: nobody's
    assert _one(networks, "2001:db8:ff::1")["country"] == "FR"


def test_rpsl_abuse_contact_through_roles_organisations_and_parents() -> None:
    networks = attribution.open_datasets([DATA / "ripe.db.sample"])
    # the /24 names no abuse-c: its organisation's abuse-c role gives the mailbox
    assert _one(networks, "198.51.100.1")["abuse_contact"] == "abuse@broadband.example"
    # a nested block without one inherits its parent's
    row = _one(networks, "198.51.100.70")
    assert (row["abuse_contact"], row["prefix"]) == ("abuse@broadband.example", "198.51.100.64/26")
    row = _one(networks, "198.51.100.100")
    assert (row["abuse_contact"], row["country"]) == ("abuse@customer-hosting.example", "AT")
    assert _one(networks, "2001:db8:5::1")["abuse_contact"] == "abuse@six.example"


def test_datasets_merge_per_attribute_and_overrides_win() -> None:
    networks = attribution.open_datasets(
        [
            DATA / "ipasn.dat",
            DATA / "ripe.db.sample",
            DATA / "delegated-ripencc-extended.txt",
            DATA / "overrides.csv",
            DATA / "ip2asn-combined.tsv",
        ]
    )
    row = _one(networks, "198.51.100.100")
    # the override's /29 beats RPSL's more specific contact there; the ASN is pyasn's /24
    assert row["abuse_contact"] == "cert@customer.example"
    assert row["asn"] == 64497
    assert row["country"] == "AT"  # RPSL's /29 is more specific than the delegated /25
    assert row["source"] == (
        "ipasn.dat:asn/prefix;ripe.db.sample:country;overrides.csv:abuse_contact"
    )
    # inside iptoasn's 90-address range, more specific than pyasn's /24: its ASN and name
    row = _one(networks, "198.51.100.42")
    assert (row["asn"], row["as_name"], row["prefix"]) == (
        64497, "EXAMPLE-B Example B GmbH", "198.51.100.10-198.51.100.99",
    )  # fmt: skip
    assert row["source"] == (
        "ip2asn-combined.tsv:asn/as_name/prefix/country;ripe.db.sample:abuse_contact"
    )
    # an override row with an ASN and no prefix sets the contact of every prefix of that ASN
    row = _one(networks, "203.0.113.1")
    assert (row["asn"], row["abuse_contact"]) == (64499, "abuse-team@example-c.example")
    assert _one(networks, "203.0.113.70")["abuse_contact"] == ""  # AS64500's /26


def test_vectorised_lookup_agrees_with_a_plain_scan() -> None:
    rng = random.Random(7)
    nets: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, int]] = []
    for _ in range(300):
        net = ipaddress.ip_network((rng.getrandbits(32), rng.randint(8, 30)), strict=False)
        nets.append((net, rng.randint(1, 4_000_000)))
    for length in (40, 48, 64, 100):
        net = ipaddress.ip_network((0x20010DB8 << 96 | rng.getrandbits(96), length), strict=False)
        nets.append((net, rng.randint(1, 4_000_000)))
    tables = attribution.table.Builder("x", "pyasn")
    for net, asn in nets:
        tables.add_network(str(net), asn=asn)
    networks = attribution.Attributor([tables.build()])
    probes = [str(ipaddress.ip_address(rng.getrandbits(32))) for _ in range(2000)]
    probes += [str(net[rng.randint(0, net.num_addresses - 1)]) for net, _ in nets]
    found = {r["ip"]: r["asn"] for r in networks.attribute(probes).rows()}
    for ip in probes:
        addr = ipaddress.ip_address(ip)
        holding = [(net.prefixlen, i) for i, (net, _) in enumerate(nets) if addr in net]
        # the longest prefix; of equal ones (duplicates), the last given
        want = nets[max(holding)[1]][1] if holding else None
        assert found[ip] == want, ip


def test_addresses_that_are_not_addresses_are_counted() -> None:
    found = attribution.lab().attribute(
        [" 127.21.0.1 ", "127.021.0.1", "256.1.1.1", "", "2001:db8::1", "fe80::1%eth0", "x"]
    )
    assert [r["ip"] for r in found.rows()] == ["127.21.0.1", "2001:db8::1"]
    assert found.invalid == 5
    assert found.examples == ("127.021.0.1", "256.1.1.1", "")


def test_bad_dataset_files_give_one_line_errors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(
        attribution.AttributionError, match=r"junk\.bin: not an attribution dataset"
    ):
        attribution.load(junk)
    tsv = tmp_path / "ip2asn.tsv"
    tsv.write_text("1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET\n1.0.1.0\t1.0.0.9\t1\tUS\tX\n")
    with pytest.raises(attribution.AttributionError, match=r"ip2asn.tsv:2: .* is not a range"):
        attribution.load(tsv)
    cut = tmp_path / "ip2asn.tsv.gz"
    good = tsv.read_text().splitlines(keepends=True)[0]
    cut.write_bytes(gzip.compress(good.encode() * 2000)[:200])  # a download cut short
    with pytest.raises(attribution.AttributionError, match=r"ip2asn\.tsv\.gz: cannot read"):
        attribution.load(cut)
    with pytest.raises(attribution.AttributionError, match="no such attribution dataset"):
        attribution.load(tmp_path / "absent.dat")
    rpsl = tmp_path / "ripe.db"
    rpsl.write_text("inetnum: 192.0.2.0 - 192.0.2.255\nthis line has no colon\n")
    with pytest.raises(attribution.AttributionError, match=r"ripe\.db:2: expected `key: value`"):
        attribution.load(rpsl)


def test_operation_names_datasets_relative_to_its_file(tmp_path: Path) -> None:
    text = '[operation]\nname = "x"\nstart = 2026-12-01\nhold_days = 5\n[[targets]]\nfamily = "megad-sim"\n'
    lab_op = operation.loads(text, tmp_path / "op.toml")
    assert lab_op.attribution_datasets() == ["lab"]  # loopback sinkhole: the lab table
    real = text + '[sinkhole]\nipv4 = ["192.0.2.1"]\n'
    assert operation.loads(real, tmp_path / "op.toml").attribution_datasets() == []
    named = real + '[attribution]\ndatasets = ["nets/ipasn.dat", "lab"]\n'
    assert operation.loads(named, tmp_path / "op.toml").attribution_datasets() == [
        tmp_path / "nets" / "ipasn.dat",
        "lab",
    ]


runner = CliRunner()


def test_cli_attribute_csv_json_and_bad_input(tmp_path: Path) -> None:
    datasets = ["--dataset", str(DATA / "ipasn.dat"), "--dataset", str(DATA / "ripe.db.sample")]
    result = runner.invoke(
        app, ["attribute", *datasets], input="198.51.100.70\nnope\n192.0.2.1\n9.9.9.9\n"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "ip,asn,as_name,prefix,country,abuse_contact,source",
        "198.51.100.70,64497,,198.51.100.0/24,DE,abuse@broadband.example,"
        "ipasn.dat:asn/prefix;ripe.db.sample:country/abuse_contact",
        "192.0.2.1,64496,,192.0.2.0/24,,,ipasn.dat",
        "9.9.9.9,,,,,,",
    ]
    assert result.stderr.splitlines() == [
        "sinkhole: skipped 1 text that is not an IP address (e.g. 'nope')",
        "sinkhole: 1 address no dataset covers (rows kept, fields empty)",
    ]
    result = runner.invoke(
        app, ["attribute", "1.0.0.1", "--json", "--dataset", str(DATA / "asn-ipv4.csv")]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "ip": "1.0.0.1", "asn": 13335, "as_name": "Cloudflare, Inc.", "prefix": "1.0.0.0/24",
        "country": "", "abuse_contact": "", "source": "asn-ipv4.csv",
    }  # fmt: skip
    result = runner.invoke(app, ["attribute", "1.0.0.1", "--dataset", str(DATA / "asn-ipv4.csv")])
    assert (
        result.stdout.splitlines()[1]
        == '1.0.0.1,13335,"Cloudflare, Inc.",1.0.0.0/24,,,asn-ipv4.csv'
    )
    result = runner.invoke(app, ["attribute", "-", "--dataset", "lab"], input="x y\n")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == "sinkhole: error: attribute: no valid IP address given"
    result = runner.invoke(app, ["attribute", "192.0.2.1"])
    assert result.exit_code == 2
    assert "name a dataset with --dataset PATH" in result.stderr
    bad = tmp_path / "bad.tsv"
    bad.write_text("1.0.0.0\t1.0.0.255\tAS13335\tUS\tX\n")
    result = runner.invoke(app, ["attribute", "192.0.2.1", "--dataset", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_population_attributes_with_the_datasets_it_is_given(tmp_path: Path) -> None:
    from sinkhole import population

    networks = attribution.open_datasets([DATA / "ipasn.dat", DATA / "ip2asn-combined.tsv"])
    table = population._networks(["198.51.100.42", "2001:db8::1", "10.0.0.1", "bad"], networks)
    assert table.to_pylist() == [
        {"src_ip": "198.51.100.42", "asn": 64497, "network": "EXAMPLE-B Example B GmbH (DE)"},
        {"src_ip": "2001:db8::1", "asn": 64501, "network": "EXAMPLE-SIX Example Six SAS (FR)"},
    ]
    op = tmp_path / "op.toml"
    op.write_text(
        '[operation]\nname = "p"\nstart = 2026-12-01\nhold_days = 5\n'
        '[[targets]]\nfamily = "megad-sim"\n[attribution]\ndatasets = ["nets.dat"]\n'
    )
    # the datasets are read before any counting: a missing one is a one-line error
    for args in ([], ["--dataset", str(tmp_path / "other.dat")]):
        result = runner.invoke(app, ["population", str(op), "--data", str(tmp_path), *args])
        assert result.exit_code == 2
        missing = "other.dat" if args else "nets.dat"
        assert result.stderr.splitlines() == [
            f"sinkhole: error: {tmp_path / missing}: no such attribution dataset file"
        ]


def test_one_address_lookup_agrees_with_the_bulk_path() -> None:
    networks = attribution.open_datasets(
        [
            DATA / "ipasn.dat",
            DATA / "ripe.db.sample",
            DATA / "overrides.csv",
            DATA / "ip2asn-combined.tsv",
            DATA / "GeoLite2-ASN-Test.mmdb",
        ]
    )
    ips = ["198.51.100.100", "198.51.100.42", "198.51.100.70", "203.0.113.1", "203.0.113.70",
           "2001:db8:1234::1", "1.128.0.1", "2600:6000::1", "9.9.9.9"]  # fmt: skip
    for row in networks.attribute(ips).rows():
        one = networks.lookup(row["ip"])
        if not row["source"]:
            assert one is None
            continue
        assert one == attribution.Network(
            row["prefix"], row["asn"] or 0, row["as_name"], row["country"], row["abuse_contact"]
        ), row["ip"]


def test_an_as_name_always_belongs_to_the_asn_beside_it(tmp_path: Path) -> None:
    """The most specific ASN wins; its name must not come from a wider range of another AS."""
    dat = tmp_path / "ipasn.dat"
    dat.write_text("; pyasn\n198.51.100.0/24\t64500\n")
    tsv = tmp_path / "ip2asn.tsv"
    tsv.write_text("198.51.0.0\t198.51.255.255\t64999\tUS\tOTHER-AS Someone Else\n")
    merged = attribution.open_datasets([dat, tsv])
    row = _one(merged, "198.51.100.7")
    assert (row["asn"], row["as_name"]) == (64500, "")  # pyasn knows no name: none, not OTHER-AS
    assert row["country"] == "US"  # other fields still come from the wider range
    hit = merged.lookup("198.51.100.7")
    assert hit is not None and (hit.asn, hit.as_name) == (64500, "")
    # within one file: a nested range with its own ASN does not inherit its parent's name
    csv = tmp_path / "overrides.csv"
    csv.write_text(
        "prefix,asn,as_name,country,abuse_contact\n"
        "2001:db8::/32,400,V6BIG,DE,\n2001:db8:0:1::/64,500,,,\n"
    )
    nested = attribution.open_datasets([csv])
    row = _one(nested, "2001:db8:0:1::5")
    assert (row["asn"], row["as_name"], row["country"]) == (500, "", "DE")
    assert _one(nested, "2001:db8:0:2::5")["as_name"] == "V6BIG"


def test_mapped_ipv4_is_attributed_as_ipv4_and_huge_numbers_are_bad_rows(tmp_path: Path) -> None:
    lab = attribution.lab()
    row = _one(lab, "::FFFF:127.21.3.4")  # how a dual-stack listener logs an IPv4 client
    assert (row["ip"], row["asn"]) == ("127.21.3.4", 64497)
    hit = lab.lookup("::ffff:127.21.3.4")
    assert hit is not None and hit.asn == 64497
    tsv = tmp_path / "ip2asn.tsv"
    tsv.write_text("198.51.100.0\t198.51.100.255\t99999999999999999999\tUS\tHUGE\n")
    with pytest.raises(attribution.AttributionError, match=r"ip2asn.tsv:1: .*32-bit"):
        attribution.open_datasets([tsv])
    num = tmp_path / "asn-ipv6-num.csv"
    num.write_text(f"1,{2**129},64500,TOO FAR\n")
    with pytest.raises(attribution.AttributionError, match=r"asn-ipv6-num.csv:1: .*IPv6 range"):
        attribution.open_datasets([num])
