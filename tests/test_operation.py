"""The operation file: valid files load, every bad one names its key and line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sinkhole import operation
from sinkhole.exceptions import OperationError

EXAMPLE = Path(__file__).parent.parent / "examples" / "megad-sim.toml"

GOOD = """\
[operation]
name = "lab"
start = 2026-12-01
hold_days = 7

[[targets]]
family = "megad-sim"
"""


def test_example_operation_loads() -> None:
    op = operation.load(EXAMPLE)
    assert op.operation.start == dt.date(2026, 12, 1)
    assert op.targets[0].family == "megad-sim"
    assert "mailer-megad-sim.example" in op.targets[0].static_domains
    assert op.base_dir == EXAMPLE.parent


def test_defaults_and_window_end() -> None:
    op = operation.loads(GOOD)
    assert op.operation.end == dt.date(2026, 12, 7)
    assert op.sinkhole.ipv4 == ("127.0.0.1",)
    assert op.operation.clock_skew_days == 1


def test_dga_params_are_checked_and_merged_with_defaults() -> None:
    op = operation.loads(GOOD + 'dga_params = { count = "12" }\n')
    assert op.targets[0].dga_params == {"seed": "megad-sim-lab", "count": 12}


@pytest.mark.parametrize(
    ("change", "line", "expected"),
    [
        (("hold_days = 7", "hold_days = 0"), 4, "operation.hold_days: .*greater than or equal to 1"),
        (("hold_days = 7", "hold_days = 36500"), 4, "operation.hold_days: .*less than or equal"),
        (("start = 2026-12-01", 'start = "2026-02-30"'), 3, "operation.start: .*date"),
        (('family = "megad-sim"', 'family = "mega-z"'), 7, "targets\\[0\\].family: unknown family"),
        (("hold_days = 7", "hold_dayz = 7"), 4, "operation.hold_dayz: unknown key"),
        (('family = "megad-sim"', 'family = "megad-sim"\ndga_params = { seeed = "x" }'), 8,
         "targets\\[0\\].dga_params: megad-sim has no parameter 'seeed'"),
        (('family = "megad-sim"', 'family = "megad-sim"\ndns_servers = ["1.2.3"]'), 8,
         "targets\\[0\\].dns_servers.*'1.2.3' is not an IP address"),
        (('family = "megad-sim"', 'family = "megad-sim"\nstatic_domains = ["a b.example"]'), 8,
         "targets\\[0\\].static_domains.*not a domain name"),
    ],
)  # fmt: skip
def test_bad_values_name_key_and_line(change: tuple[str, str], line: int, expected: str) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD
    with pytest.raises(OperationError, match=rf"^<operation>:{line}: {expected}") as info:
        operation.loads(text)
    assert "\n" not in info.value.message


def test_missing_targets_is_named() -> None:
    with pytest.raises(OperationError, match="targets: required key is missing"):
        operation.loads(GOOD.split("[[targets]]", maxsplit=1)[0])


def test_malformed_toml_gives_line_and_column() -> None:
    with pytest.raises(OperationError, match=r"malformed TOML: .*line 1, column"):
        operation.loads("[operation\nname = 1\n")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(OperationError, match="no such operation file"):
        operation.load(tmp_path / "nope.toml")


def test_sinkhole_addresses_must_match_family() -> None:
    text = GOOD.replace("[[targets]]", '[sinkhole]\nipv4 = ["::1"]\n\n[[targets]]')
    with pytest.raises(OperationError, match=r":7: sinkhole.ipv4: .*'::1' is not an IPv4 address"):
        operation.loads(text)


def test_locate_points_at_second_table_of_array() -> None:
    text = GOOD + '\n[[targets]]\nfamily = "nope"\n'
    with pytest.raises(OperationError, match=r"^<operation>:10: targets\[1\].family"):
        operation.loads(text)


@pytest.mark.parametrize(
    ("change", "line", "expected"),
    [
        (("start = 2026-12-01", "start = 0001-01-01"), 3,
         r"operation.start: expected a day from 1970-01-01 to 2199-12-31 \(got '0001-01-01'\)$"),
        (("start = 2026-12-01", "start = 9999-12-20"), 3, "operation.start: expected a day from"),
        (("start = 2026-12-01", "start = 2199-12-28"), 4,
         "operation.hold_days: a window of 7 days from 2199-12-28 would end after 2199-12-31"),
    ],
)  # fmt: skip
def test_window_outside_the_supported_days(
    change: tuple[str, str], line: int, expected: str
) -> None:
    with pytest.raises(OperationError, match=rf"^<operation>:{line}: {expected}"):
        operation.loads(GOOD.replace(*change))


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("dga_params = { seed = 1.5 }",
         r"^<operation>:8: targets\[0\].dga_params: seed: expected an integer, a string or "
         r"true/false \(got 1.5\)$"),
        ("dga_params = { seed = [1] }", r"seed: expected an integer, a string or true/false"),
        ('dga_params = "x"', r"targets\[0\].dga_params: expected a table of KEY = VALUE"),
    ],
)  # fmt: skip
def test_dga_param_types_in_the_users_words(extra: str, expected: str) -> None:
    with pytest.raises(OperationError, match=expected) as info:
        operation.loads(GOOD + extra + "\n")
    message = info.value.message
    assert ".int" not in message and "more problems" not in message and "constrained" not in message


def test_unknown_family_is_the_only_problem_named() -> None:
    with pytest.raises(OperationError) as info:
        operation.loads(GOOD.replace("megad-sim", "nope") + 'dga_params = { seed = "a" }\n')
    assert info.value.message.startswith("<operation>:7: targets[0].family: unknown family 'nope'")
    assert "more problems" not in info.value.message
    assert "Tuple" not in info.value.message


def test_default_store_is_per_operation_under_the_user_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    op = operation.loads(GOOD.replace('name = "lab"', 'name = "Lab run / 2"'))
    assert op.data_dir == tmp_path / "xdg" / "sinkhole" / "lab-run-2"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert op.data_dir == tmp_path / "home" / ".local" / "share" / "sinkhole" / "lab-run-2"


def test_store_named_in_the_file_is_relative_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "op.toml"
    path.write_text(GOOD + '[data]\ndir = "store"\n')
    assert operation.load(path).data_dir == tmp_path / "store"
