"""Attribution: the lab dataset and prefix lookups."""

from __future__ import annotations

from pathlib import Path

import pytest

from sinkhole import attribution


def test_lab_dataset_covers_its_ranges_with_lab_asns() -> None:
    lab = attribution.lab()
    assert len(lab.networks) == 12
    for net in lab.networks:
        assert 64496 <= net.asn <= 65534
        assert net.abuse_contact.endswith(".example")
        assert net.prefix.startswith("127.")
    hit = lab.lookup("127.21.3.4")
    assert hit is not None and (hit.asn, hit.country) == (64497, "DE")
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
    with pytest.raises(attribution.AttributionError, match=r"bad.csv:2: asn .notanumber. is not an AS number"):
        attribution.load_csv(path)
    with pytest.raises(attribution.AttributionError, match="cannot read"):
        attribution.load_csv(tmp_path / "missing.csv")
