"""The DGA base: parameters, periods, look-around and key spans."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pytest
from typer.testing import CliRunner

from sinkhole import families
from sinkhole.cli import app
from sinkhole.dga import (
    TIMELESS,
    BaseDga,
    DgaInfo,
    DgaParam,
    date_span,
    days,
    parse_date,
    parse_params,
)
from sinkhole.exceptions import DgaError
from sinkhole.types import Dga, ParamValue

DGA_FAMILIES = [f.name for f in families.all_families() if f.dga is not None]


class Weekly(BaseDga):
    """Toy: a Monday-keyed weekly list, bots also try last week's and next week's."""

    name = "toy"
    info = DgaInfo(
        period="weekly",
        per_period=2,
        tlds=("test",),
        seeding="time-dependent",
        params=(
            DgaParam("seed", 7, "a number"),
            DgaParam("flag", False, "a switch"),
            DgaParam("tld", "test", "suffix", choices=("test",)),
        ),
        lookaround=(-7, 7),
    )

    def period_start(self, date: dt.date) -> dt.date:
        return date - dt.timedelta(days=date.weekday())

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        return [f"w{key:%Y%m%d}-{params['seed']}-{i}.test" for i in range(2)]


class Static(BaseDga):
    """Toy: the same list every day."""

    name = "static"
    info = DgaInfo(period="none", per_period=1, tlds=("test",), seeding="time-independent")

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        return [f"s{key.year}.test"]


def test_base_satisfies_the_protocol() -> None:
    assert isinstance(Weekly(), Dga)


def test_params_parse_each_type() -> None:
    dga = Weekly()
    assert dga.params({"seed": "0x10", "flag": "yes"}) == {"seed": 16, "flag": True, "tld": "test"}
    assert dga.params({"flag": "off"})["flag"] is False
    with pytest.raises(DgaError, match="seed='x' is not an integer"):
        dga.params({"seed": "x"})
    with pytest.raises(DgaError, match="flag='maybe' is not a boolean"):
        dga.params({"flag": "maybe"})
    with pytest.raises(DgaError, match="tld='com' is not one of: test"):
        dga.params({"tld": "com"})
    with pytest.raises(DgaError, match="toy has no parameter 'salt'"):
        dga.params({"salt": 1})


def test_lookaround_concatenates_neighbouring_periods_in_order() -> None:
    dga = Weekly()
    wednesday = dt.date(2026, 12, 2)
    out = dga.generate(wednesday)
    assert len(out) == dga.info.per_day == 2 * 15
    assert out[0] == "w20261123-7-0.test"  # a week back first
    assert out[-1] == "w20261207-7-1.test"  # a week ahead last
    assert dga.generate(wednesday, seed=8)[0] == "w20261123-8-0.test"


def test_key_spans_cover_the_days_that_use_each_key() -> None:
    dga = Weekly()
    spans = dga.key_spans(dt.date(2026, 12, 7), dt.date(2026, 12, 13))
    # one bot week; lookaround reaches one week either side
    assert spans[dt.date(2026, 12, 7)] == (dt.date(2026, 12, 7), dt.date(2026, 12, 13))
    assert spans[dt.date(2026, 11, 30)] == (dt.date(2026, 12, 7), dt.date(2026, 12, 13))
    assert spans[dt.date(2026, 12, 14)] == (dt.date(2026, 12, 7), dt.date(2026, 12, 13))
    assert len(spans) == 3
    for day in days(dt.date(2026, 12, 7), 7):
        for key in dga.keys_for_day(day):
            lo, hi = spans[key]
            assert lo <= day <= hi


def test_time_independent_key() -> None:
    dga = Static()
    assert dga.period_start(dt.date(2030, 5, 5)) == TIMELESS
    assert dga.generate(dt.date(2030, 5, 5)) == dga.generate(dt.date(2012, 1, 1)) == ["s1970.test"]


def test_date_and_param_parsing() -> None:
    assert parse_date(" 2024-02-29 ") == dt.date(2024, 2, 29)
    with pytest.raises(DgaError, match="bad date '2023-02-29'"):
        parse_date("2023-02-29")
    assert parse_params(["a=1", "b = x=y"]) == {"a": "1", "b": "x=y"}
    with pytest.raises(DgaError, match="expected KEY=VALUE"):
        parse_params(["=1"])
    assert list(days(dt.date(2026, 12, 31), 2)) == [dt.date(2026, 12, 31), dt.date(2027, 1, 1)]


def test_integer_parameters_are_range_checked() -> None:
    param = DgaParam("count", 5, "how many", minimum=1, maximum=10)
    assert param.parse("10") == 10
    with pytest.raises(DgaError, match=r"count='0' is out of range 1\.\.10"):
        param.parse("0")
    with pytest.raises(DgaError, match=r"out of range 1\.\.10"):
        param.parse(11)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2024-02-30", "bad date '2024-02-30': not a real date: day is out of range for month"),
        ("2023-13-01", "bad date '2023-13-01': not a real date: month must be in 1..12"),
        ("0000-01-01", "bad date '0000-01-01': not a real date: year 0 is out of range"),
        ("30.12.2024", "bad date '30.12.2024': expected YYYY-MM-DD"),
        ("yesterday", "bad date 'yesterday': expected YYYY-MM-DD"),
    ],
)
def test_impossible_dates_say_why(text: str, message: str) -> None:
    with pytest.raises(DgaError) as caught:
        parse_date(text)
    assert caught.value.message == message


def test_date_span_refuses_to_run_off_the_calendar() -> None:
    assert date_span(dt.date(9999, 12, 30), 2) == (dt.date(9999, 12, 30), dt.date(9999, 12, 31))
    with pytest.raises(DgaError, match="2 days from 9999-12-31 run past 9999-12-31"):
        date_span(dt.date(9999, 12, 31), 2)


def test_bounds_keep_neighbouring_periods_on_the_calendar() -> None:
    dga = Weekly()
    low, high = dga.bounds
    # 0001-01-01 is a Monday: a bot needs last week's list too, so its first day is a week later
    assert (low, high) == (dt.date(1, 1, 8), dt.date(9999, 12, 24))
    assert dga.generate(low) and dga.generate(high)
    with pytest.raises(DgaError, match=r"toy generates for bot dates 0001-01-08\.\.9999-12-24"):
        dga.generate(low - dt.timedelta(days=1))
    with pytest.raises(DgaError, match=r"not 9999-12-25\.\.9999-12-31"):
        dga.key_spans(dt.date(9999, 12, 25), dt.date.max)


runner = CliRunner()


@pytest.mark.parametrize("name", DGA_FAMILIES)
@pytest.mark.parametrize("start", ["0001-01-01", "9999-12-31"])
def test_generate_at_the_calendar_edges_is_one_line_or_domains(name: str, start: str) -> None:
    """`dga FAMILY --date EDGE --days 2`: names only if every day works, else one line, exit 2."""
    result = runner.invoke(app, ["dga", name, "--date", start, "--days", "2"])
    assert "Traceback" not in result.output
    dga = families.get(name).dga
    assert dga is not None
    low = dga.bounds[0]
    first = parse_date(start)
    if first == low == dt.date.min:
        # two days from 0001-01-01 are fine for a family that handles the first day
        assert result.exit_code == 0, result.stderr
        second = first + dt.timedelta(days=1)
        assert result.stdout.splitlines() == dga.generate(first) + dga.generate(second)
        return
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("sinkhole: error: ")
    assert "run past 9999-12-31" in line or f"{name} generates for bot dates" in line


@pytest.mark.parametrize("name", DGA_FAMILIES)
def test_every_family_generates_on_its_last_day(name: str) -> None:
    dga = families.get(name).dga
    assert dga is not None
    result = runner.invoke(app, ["dga", name, "--date", dga.bounds[1].isoformat()])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == dga.generate(dga.bounds[1])
