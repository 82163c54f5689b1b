"""The reverse DGA index: per-year files, resumable, reused, and right about families and dates."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from sinkhole import dga_index, families
from sinkhole.cli import app
from sinkhole.exceptions import DgaError

CENTER = dt.date(2026, 12, 1)


def _spec(years: float = 0.05, **params: object) -> dga_index.IndexSpec:
    extra = {"megad-sim": params} if params else None
    return dga_index.IndexSpec.around(CENTER, years, ["megad-sim"], extra)  # type: ignore[arg-type]


def _megad(day: dt.date, **params: object) -> list[str]:
    dga = families.get("megad-sim").dga
    assert dga is not None
    return dga.generate(day, **params)  # type: ignore[arg-type]


def test_window_and_params() -> None:
    spec = _spec(1)
    assert spec.start == CENTER - dt.timedelta(days=365)
    assert spec.end == CENTER + dt.timedelta(days=365)
    assert spec.params["megad-sim"]["count"] == 24
    with pytest.raises(DgaError, match="index window"):
        dga_index.IndexSpec.around(CENTER, 0)


def test_default_coverage_is_each_familys_active_years() -> None:
    spec = dga_index.IndexSpec.active(["megad-sim", "necurs"])
    assert spec.windows["megad-sim"] == (dt.date(2026, 1, 1), dt.date(2027, 12, 31))
    assert spec.windows["necurs"] == (dt.date(2012, 1, 1), dt.date(2020, 12, 31))
    years = [u.year for u in spec.units(Path("/nowhere")) if u.family == "necurs"]
    assert years == list(range(2012, 2021))


def test_windows_at_the_calendar_edges_are_clamped_or_refused() -> None:
    spec = dga_index.IndexSpec.around(dt.date(9999, 12, 31), 2)  # every DGA family
    assert spec.windows["megad-sim"] == (dt.date(9997, 12, 31), dt.date(9999, 12, 31))
    assert "pushdo" not in spec.windows  # its algorithm stops at 2099
    with pytest.raises(DgaError, match=r"pushdo generates for bot dates 1901-01-01..2099-12-31"):
        dga_index.IndexSpec.around(dt.date(9999, 12, 31), 2, ["pushdo"])


def test_lookup_finds_family_dates_and_parents(tmp_path: Path) -> None:
    index = dga_index.ensure(_spec(), tmp_path, workers=1)
    day = CENTER + dt.timedelta(days=3)
    name = _megad(day)[7]
    found = dga_index.lookup(index, [name.upper() + ".", f"www.{name}", "benign.example"])
    [exact] = found[name]
    assert (exact.family, exact.dates, exact.via) == ("megad-sim", ((day, day),), "exact")
    assert exact.describe() == day.isoformat()
    [parent] = found[f"www.{name}"]
    assert parent.via == f"parent {name}"
    assert found["benign.example"] == []


def test_every_generated_domain_is_found(tmp_path: Path) -> None:
    index = dga_index.ensure(_spec(), tmp_path, workers=1)
    week = [CENTER + dt.timedelta(days=k) for k in range(-3, 4)]
    names = [name for day in week for name in _megad(day)]
    found = dga_index.lookup(index, names)
    assert all(found[n] for n in names)


def test_one_file_per_year_and_dates_clipped_to_the_window(tmp_path: Path) -> None:
    spec = dga_index.IndexSpec.between(dt.date(2026, 12, 30), dt.date(2027, 1, 2), ["megad-sim"])
    index = dga_index.ensure(spec, tmp_path, workers=1)
    assert sorted(p.name for p in index.parts) == ["2026.parquet", "2027.parquet"]
    # a year file holds the whole year, the lookup only the window's days
    assert pq.ParquetFile(index.parts[0]).metadata.num_rows == 365 * 24
    inside, outside = _megad(dt.date(2027, 1, 2))[0], _megad(dt.date(2027, 1, 3))[0]
    found = dga_index.lookup(index, [inside, outside])
    assert found[inside][0].dates == ((dt.date(2027, 1, 2), dt.date(2027, 1, 2)),)
    assert found[outside] == []


def test_cache_is_reused_and_keyed_by_params(tmp_path: Path) -> None:
    first = dga_index.ensure(_spec(), tmp_path, workers=1)
    assert first.built == 1
    stamp = first.parts[0].stat().st_mtime_ns
    again = dga_index.ensure(_spec(), tmp_path, workers=1)
    assert (again.parts, again.built) == (first.parts, 0)
    assert again.parts[0].stat().st_mtime_ns == stamp
    other = dga_index.ensure(_spec(seed="other"), tmp_path, workers=1)
    assert other.parts != first.parts
    name = _megad(CENTER, seed="other")[0]
    assert dga_index.lookup(other, [name])[name]
    assert not dga_index.lookup(first, [name])[name]


def test_a_new_window_reuses_the_years_it_shares(tmp_path: Path) -> None:
    """A second --around that overlaps builds only the years not built yet."""
    first = dga_index.ensure(_spec(), tmp_path, workers=1)  # 2026-11-13..2026-12-19
    [year_2026] = first.parts
    stamp = year_2026.stat().st_mtime_ns
    moved = dga_index.IndexSpec.around(CENTER + dt.timedelta(days=20), 0.05, ["megad-sim"])
    second = dga_index.ensure(moved, tmp_path, workers=1)  # 2026-12-03..2027-01-08
    assert second.built == 1
    assert year_2026 in second.parts
    assert year_2026.stat().st_mtime_ns == stamp
    name = _megad(dt.date(2027, 1, 5))[3]
    assert dga_index.lookup(second, [name])[name]


def test_an_interrupted_build_keeps_its_finished_years(tmp_path: Path) -> None:
    spec = dga_index.IndexSpec.between(dt.date(2024, 1, 1), dt.date(2027, 12, 31), ["megad-sim"])
    heard: list[str] = []

    def interrupt(unit: str, done: int, total: int) -> None:
        heard.append(unit)
        if len(heard) == 3:  # the initial call, then two finished years
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        dga_index.ensure(spec, tmp_path, interrupt, workers=1)
    kept = sorted(tmp_path.rglob("*.parquet"))
    assert [p.name for p in kept] == ["2024.parquet", "2025.parquet"]
    stamps = [p.stat().st_mtime_ns for p in kept]
    units: list[tuple[str, int, int]] = []
    index = dga_index.ensure(spec, tmp_path, lambda *a: units.append(a), workers=1)
    assert index.built == 2
    assert units == [("", 2, 4), ("megad-sim 2026", 3, 4), ("megad-sim 2027", 4, 4)]
    assert [p.stat().st_mtime_ns for p in kept] == stamps


def test_parallel_build_matches_serial(tmp_path: Path) -> None:
    spec = dga_index.IndexSpec.between(
        dt.date(2015, 12, 20), dt.date(2016, 1, 10), ["megad-sim", "pushdo", "dircrypt"]
    )
    serial = dga_index.ensure(spec, tmp_path / "a", workers=1)
    parallel = dga_index.ensure(spec, tmp_path / "b", workers=2)
    assert len(serial.parts) == 5  # two years each for the dated families, one for dircrypt
    for a, b in zip(serial.parts, parallel.parts, strict=True):
        assert pq.read_table(a).equals(pq.read_table(b))


def test_time_independent_family_matches_any_date(tmp_path: Path) -> None:
    spec = dga_index.IndexSpec.active(["dircrypt"])
    index = dga_index.ensure(spec, tmp_path, workers=1)
    assert [p.name for p in index.parts] == ["any.parquet"]
    dga = families.get("dircrypt").dga
    assert dga is not None
    name = dga.generate(dt.date(2030, 1, 1))[0]
    [match] = dga_index.lookup(index, [name])[name]
    assert match.any_date and match.describe() == "any date"


def test_stale_temp_files_and_the_old_layout_are_removed(tmp_path: Path) -> None:
    old = tmp_path / "necurs-0123456789abcdef0123.parquet"
    old.write_bytes(b"old")
    folder = tmp_path / "megad-sim" / _spec().key("megad-sim")
    folder.mkdir(parents=True)
    dead = folder / "2026.parquet.tmp999999999"  # no such process
    dead.write_bytes(b"half")
    # files of an earlier module version with the same parameters: stale; other parameters: kept
    params = json.dumps(dict(_spec().params["megad-sim"]), sort_keys=True)
    stale, other = tmp_path / "megad-sim" / ("0" * 20), tmp_path / "megad-sim" / ("1" * 20)
    for stamp_dir, text in ((stale, params), (other, params.replace("24", "25"))):
        stamp_dir.mkdir(parents=True)
        (stamp_dir / "params.json").write_text(text)
        (stamp_dir / "2026.parquet").write_bytes(b"x")
    index = dga_index.ensure(_spec(), tmp_path, workers=1)
    assert not old.exists() and not dead.exists()
    assert not stale.exists() and other.exists()
    assert (index.parts[0].parent / "params.json").read_text() == params


def test_unwritable_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(DgaError, match="cannot create the index cache"):
        dga_index.ensure(_spec(), blocker / "cache")


def test_query_files_count_what_is_not_a_domain_name(tmp_path: Path) -> None:
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("1,Example.COM.\n2,not a name\n# comment\n3,bücher.example\n4,-x-.com\n\n")
    queries = dga_index.Queries()
    dga_index.read_queries(mixed, queries)
    assert queries.names == ["example.com", "xn--bcher-kva.example"]
    assert queries.invalid == 2
    assert queries.example == "'not a name' (mixed.csv line 2)"
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DgaError, match=r"blob\.bin: a binary file, not a list of domain names"):
        dga_index.read_queries(binary, queries)
    noise = tmp_path / "noise.txt"
    noise.write_bytes("\ufffd\x07\n\x1b[0m\n".encode())
    with pytest.raises(DgaError, match=r"noise\.txt: no domain names in it: 2 lines are not"):
        dga_index.read_queries(noise, queries)
    with pytest.raises(DgaError, match="cannot read the list of domains to look up"):
        dga_index.read_queries(tmp_path / "missing.txt", queries)


runner = CliRunner()


def _lookup(tmp_path: Path, *args: str) -> object:
    return runner.invoke(
        app,
        [
            *("dga", "lookup", "--family", "megad-sim", "--around", "2026-12-01"),
            *("--years", "0.05", "--cache", str(tmp_path / "cache"), *args),
        ],
    )


def test_cli_lookup_of_a_mixed_file_reports_what_it_skipped(tmp_path: Path) -> None:
    name = _megad(CENTER)[0]
    listing = tmp_path / "feed.txt"
    listing.write_text(f"{name}\nbenign.example\n\x01\x02garbage\n")
    result = _lookup(tmp_path, "--file", str(listing))
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    assert result.stdout.splitlines() == [  # type: ignore[attr-defined]
        f"{name}\tmegad-sim\t2026-12-01\texact",
        "benign.example\t-",
    ]
    stderr = result.stderr  # type: ignore[attr-defined]
    assert (
        "skipped 1 name that is not a domain name, e.g. '\\x01\\x02garbage' (feed.txt line 3)"
        in (stderr)
    )
    # not a terminal: plain progress lines, one per (family, year) built
    assert "DGA index: megad-sim 2026 built (1/1)" in stderr
    assert "1 of 2 domains generated by a DGA between 2026-11-13 and 2026-12-19" in stderr


def test_cli_lookup_of_a_binary_file_is_one_line(tmp_path: Path) -> None:
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\x7fELF\x00\x01" * 100)
    result = _lookup(tmp_path, "--file", str(blob))
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert result.stdout == ""  # type: ignore[attr-defined]
    assert result.stderr.strip().splitlines() == [  # type: ignore[attr-defined]
        f"sinkhole: error: {blob}: a binary file, not a list of domain names"
    ]


def test_a_list_used_across_new_year_is_one_span(tmp_path: Path) -> None:
    """Pushdo's lists are tried for 45 days: a list of late December spans two year files."""
    dga = families.get("pushdo").dga
    assert dga is not None
    first, last = dt.date(2015, 11, 1), dt.date(2016, 2, 28)
    spec = dga_index.IndexSpec.between(first, last, ["pushdo"])
    index = dga_index.ensure(spec, tmp_path, workers=1)
    assert [p.name for p in index.parts] == ["2015.parquet", "2016.parquet"]
    key = dt.date(2015, 12, 20)
    span = dga.key_spans(first, last)[key]
    assert span[0].year == 2015 and span[1].year == 2016
    name = dga.domains_for(key, dga.params())[0]
    [match] = dga_index.lookup(index, [name])[name]
    assert match.dates == (span,)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2020-01-01"], "--from and --to go together"),
        (["--from", "2020-01-01", "--to", "2021-01-01", "--around", "2020-06-01"], "not both"),
        (["--from", "2021-01-01", "--to", "2020-01-01"], "the end is before the start"),
        (["--around", "2024-02-30"], "not a real date: day is out of range for month"),
        (["--around", "9999-12-31", "--family", "pushdo"], "pushdo generates for bot dates"),
    ],
)
def test_cli_lookup_window_mistakes_are_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["dga", "lookup", "x.example", "--cache", str(tmp_path), *args])
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("sinkhole: error: ") and message in line
    assert not any(tmp_path.iterdir())  # refused before anything was built


def test_cli_lookup_of_nothing_but_non_names_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["dga", "lookup", "a b", "x", "--cache", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "sinkhole: error: no domain names to look up: none of the 2 given is one, "
        "e.g. 'a b' (argument)"
    ]


def test_a_damaged_cache_file_is_rebuilt_or_reported_in_one_line(tmp_path: Path) -> None:
    first = dga_index.ensure(_spec(), tmp_path, workers=1)
    [part] = first.parts
    whole = part.read_bytes()
    part.write_bytes(whole[: len(whole) // 2])  # cut short (a full disk, a crash)
    again = dga_index.ensure(_spec(), tmp_path, workers=1)
    assert again.built == 1 and part.read_bytes() == whole  # rebuilt, same content
    name = _megad(CENTER)[0]
    assert dga_index.lookup(again, [name])[name]
    # footer whole, data scrambled: the lookup says so in one line and drops the cache
    data = bytearray(whole)
    footer = int.from_bytes(data[-8:-4], "little") + 8
    data[4 : len(data) - footer] = bytes(len(data) - footer - 4)
    part.write_bytes(bytes(data))
    with pytest.raises(DgaError, match="damaged"):
        dga_index.lookup(dga_index.ensure(_spec(), tmp_path, workers=1), [name])
    assert not part.exists()
    rebuilt = dga_index.ensure(_spec(), tmp_path, workers=1)
    assert rebuilt.built == 1 and dga_index.lookup(rebuilt, [name])[name]


def test_a_list_repeated_over_days_is_one_row_per_run() -> None:
    # Gozi's luther list is keyed per day but changes every 4 days; Nymaim v2 tries each
    # day's 64 names for 11 days: each name is one row, spanning the days that try it
    table = dga_index.build_family("gozi", {}, dt.date(2016, 3, 28), dt.date(2016, 4, 8))
    rows = table.to_pylist()
    assert len(rows) == 3 * 12 == len({r["domain"] for r in rows})
    first = families.get("gozi").dga.generate(dt.date(2016, 3, 28))  # type: ignore[union-attr]
    spans = {(r["first_day"], r["last_day"]) for r in rows if r["domain"] in first}
    assert spans == {(dt.date(2016, 3, 28), dt.date(2016, 3, 31))}
    nymaim2 = dga_index.build_family("nymaim2", {}, dt.date(2018, 4, 1), dt.date(2018, 4, 30))
    runs = {r["domain"]: (r["first_day"], r["last_day"]) for r in nymaim2.to_pylist()}
    assert len(runs) == nymaim2.num_rows
    today = families.get("nymaim2").dga.generate(dt.date(2018, 4, 10))[:64]  # type: ignore[union-attr]
    assert {runs[d] for d in today} == {(dt.date(2018, 4, 10), dt.date(2018, 4, 20))}
