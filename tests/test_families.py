"""Contract tests run over every registered family."""

from __future__ import annotations

import datetime as dt
import importlib
import random
import re

import pytest

from sinkhole import families
from sinkhole.dga import TIMELESS
from sinkhole.exceptions import DgaError

LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
ALL = families.names()


def test_registry_has_the_required_families() -> None:
    required = {
        "necurs", "qakbot", "murofet-v1", "murofet-v2", "pushdo", "kraken-v2",
        "newgoz", "cryptolocker", "torpig", "ramnit", "megad-sim",
    }  # fmt: skip
    assert required <= set(ALL)


def test_unknown_family_is_a_clear_error() -> None:
    with pytest.raises(families.FamilyError, match="unknown family 'nope'"):
        families.get("nope")


@pytest.mark.parametrize("name", ALL)
def test_family_is_documented(name: str) -> None:
    family = families.get(name)
    module = importlib.import_module(f"sinkhole.families.{name.replace('-', '_')}")
    assert module.__doc__ and len(module.__doc__.strip()) > 40
    assert family.summary
    assert family.channels, "a family needs at least one channel"
    assert family.references, "cite where the algorithm or facts come from"


@pytest.mark.parametrize("name", ALL)
def test_family_has_a_published_sample_test(name: str) -> None:
    module = importlib.import_module(f"tests.families.test_{name.replace('-', '_')}")
    assert any(n.startswith("test_") for n in dir(module))


@pytest.mark.parametrize("name", [n for n in ALL if families.get(n).dga is not None])
def test_dga_metadata_matches_output(name: str) -> None:
    dga = families.get(name).dga
    assert dga is not None
    info = dga.info
    rng = random.Random(name)
    for _ in range(6):
        date = dt.date(2014, 1, 1) + dt.timedelta(days=rng.randrange(365 * 12))
        domains = dga.generate(date)
        if info.exact_count:
            assert len(domains) == info.per_day
        else:
            assert 0 < len(domains) <= info.per_day
        for domain in domains:
            labels = domain.split(".")
            assert labels[-1] in info.tlds, domain
            assert all(LABEL.match(label) for label in labels), domain
        # every date in the same period seeds the same list
        key = dga.period_start(date)
        if info.seeding == "time-independent":
            assert key == TIMELESS
        else:
            assert isinstance(key, dt.date) and key <= date
        assert dga.domains_for(key, dga.params()) == dga.domains_for(
            dga.period_start(date), dga.params()
        )
        if info.lookaround == (0, 0):
            assert dga.generate(key) == domains if key != TIMELESS else True


def test_plugins_register_through_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    from sinkhole.families import Channel, Family

    plugin = Family(
        name="plugin-fam",
        summary="a third-party family",
        channels=(Channel("static-domains", domains=("cc.plugin.example",)),),
        references=("test",),
    )

    class FakeEntryPoint:
        name = "plugin-fam"

        def load(self) -> Family:
            return plugin

    monkeypatch.setattr(families, "entry_points", lambda group: [FakeEntryPoint()])
    monkeypatch.setattr(families, "_registry", dict(families._registry))
    monkeypatch.setattr(families, "_state", {"loaded": False})
    assert "plugin-fam" in families.names()
    assert families.get("PLUGIN-FAM") is plugin


def test_entry_point_that_is_not_a_family(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        name = "broken"

        def load(self) -> object:
            return object()

    monkeypatch.setattr(families, "entry_points", lambda group: [Broken()])
    monkeypatch.setattr(families, "_state", {"loaded": False})
    with pytest.raises(families.FamilyError, match="entry point 'broken' does not name a Family"):
        families.names()


@pytest.mark.parametrize("name", [n for n in ALL if families.get(n).dga is not None])
def test_dga_declares_its_active_years_with_sources(name: str) -> None:
    """The reverse index's default coverage: years from the public record, cited in the module."""
    dga = families.get(name).dga
    assert dga is not None
    assert dga.info.active_years is not None
    first, last = dga.info.active_years
    assert 2000 <= first <= last <= dt.date.today().year + 2
    module = importlib.import_module(f"sinkhole.families.{name.replace('-', '_')}")
    assert module.__doc__ is not None
    assert f"Active years: {first}-{last}" in module.__doc__


@pytest.mark.parametrize("name", [n for n in ALL if families.get(n).dga is not None])
def test_dga_generates_at_both_ends_of_its_bounds(name: str) -> None:
    dga = families.get(name).dga
    assert dga is not None
    low, high = dga.bounds
    assert dga.generate(low) and dga.generate(high)
    assert dga.key_spans(high, high)
    if low > dt.date.min:
        with pytest.raises(DgaError, match="generates for bot dates"):
            dga.generate(low - dt.timedelta(days=1))
