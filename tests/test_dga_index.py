"""The reverse DGA index: built once, cached, and right about families and dates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sinkhole import dga_index, families
from sinkhole.exceptions import DgaError

CENTER = dt.date(2026, 12, 1)


def _spec(years: float = 0.05, **params: object) -> dga_index.IndexSpec:
    extra = {"megad-sim": params} if params else None
    return dga_index.IndexSpec.around(CENTER, years, ["megad-sim"], extra)  # type: ignore[arg-type]


def test_window_and_params() -> None:
    spec = _spec(1)
    assert spec.start == CENTER - dt.timedelta(days=365)
    assert spec.end == CENTER + dt.timedelta(days=365)
    assert spec.params["megad-sim"]["count"] == 24
    with pytest.raises(DgaError, match="index window"):
        dga_index.IndexSpec.around(CENTER, 0)


def test_lookup_finds_family_dates_and_parents(tmp_path: Path) -> None:
    spec = _spec()
    parts = dga_index.ensure(spec, tmp_path, workers=1)
    dga = families.get("megad-sim").dga
    assert dga is not None
    day = CENTER + dt.timedelta(days=3)
    name = dga.generate(day)[7]
    found = dga_index.lookup(parts, [name.upper() + ".", f"www.{name}", "benign.example"])
    [exact] = found[name]
    assert (exact.family, exact.dates, exact.via) == ("megad-sim", ((day, day),), "exact")
    assert exact.describe() == day.isoformat()
    [parent] = found[f"www.{name}"]
    assert parent.via == f"parent {name}"
    assert found["benign.example"] == []


def test_every_generated_domain_is_found(tmp_path: Path) -> None:
    spec = _spec()
    parts = dga_index.ensure(spec, tmp_path, workers=1)
    dga = families.get("megad-sim").dga
    assert dga is not None
    week = [CENTER + dt.timedelta(days=k) for k in range(-3, 4)]
    names = [name for day in week for name in dga.generate(day)]
    found = dga_index.lookup(parts, names)
    assert all(found[n] for n in names)


def test_cache_is_reused_and_keyed_by_params(tmp_path: Path) -> None:
    spec = _spec()
    first = dga_index.ensure(spec, tmp_path, workers=1)
    stamp = first[0].stat().st_mtime_ns
    again = dga_index.ensure(spec, tmp_path, workers=1)
    assert again == first
    assert again[0].stat().st_mtime_ns == stamp
    other = dga_index.ensure(_spec(seed="other"), tmp_path, workers=1)
    assert other != first
    dga = families.get("megad-sim").dga
    assert dga is not None
    name = dga.generate(CENTER, seed="other")[0]
    assert dga_index.lookup(other, [name])[name]
    assert not dga_index.lookup(first, [name])[name]


def test_parallel_build_matches_serial(tmp_path: Path) -> None:
    names = [f.name for f in families.all_families() if f.dga][:3]
    spec = dga_index.IndexSpec.around(CENTER, 0.02, names)
    serial = dga_index.ensure(spec, tmp_path / "a", workers=1)
    parallel = dga_index.ensure(spec, tmp_path / "b", workers=2)
    import pyarrow.parquet as pq

    for a, b in zip(serial, parallel, strict=True):
        assert pq.read_table(a).equals(pq.read_table(b))


def test_unwritable_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(DgaError, match="cannot create the index cache"):
        dga_index.ensure(_spec(), blocker / "cache")
