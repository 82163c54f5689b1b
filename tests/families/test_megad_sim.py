"""megad-sim: the synthetic family's structure and its DGA."""

from __future__ import annotations

import datetime as dt

from sinkhole import families
from tests.reference_dga import megad_sim as reference


def test_channels_follow_megad_fallback_order() -> None:
    family = families.get("megad-sim")
    assert [c.kind for c in family.channels] == ["static-domains", "dns-servers", "dga"]
    assert family.synthetic
    assert "SYNTHETIC" in family.summary


def test_dga_matches_reference_over_a_year() -> None:
    dga = families.get("megad-sim").dga
    assert dga is not None
    day = dt.date(2026, 1, 1)
    for offset in range(0, 365, 7):
        date = day + dt.timedelta(days=offset)
        assert dga.generate(date) == reference.generate(date)


def test_seed_changes_every_domain() -> None:
    dga = families.get("megad-sim").dga
    assert dga is not None
    day = dt.date(2026, 12, 1)
    a = set(dga.generate(day))
    b = set(dga.generate(day, seed="another-build"))
    assert len(a) == 24
    assert not a & b


def test_names_stay_in_lab_tlds() -> None:
    dga = families.get("megad-sim").dga
    assert dga is not None
    for domain in dga.generate(dt.date(2026, 12, 1), count=200):
        assert domain.rsplit(".", 1)[1] in {"example", "test"}
