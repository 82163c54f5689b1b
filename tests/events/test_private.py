"""Victim data stays private: 0600 files, 0700 folders, a checked per-user spill folder."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sinkhole import emulate, operation, plan, population
from sinkhole.events import private, store, writer

T0 = int(dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC).timestamp() * 1_000_000)


def _mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777


@pytest.fixture(autouse=True)
def loose_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The usual 022: without care, files would come out 0644 and folders 0755."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_store_files_and_folders_are_private(tmp_path: Path) -> None:
    root = tmp_path / "new" / "store"
    w = writer.EventWriter(root, "s1").start()
    w.buffer(("timestamp", "src_ip"), application="dns").append((T0, "127.0.0.1"))
    w.flush()
    [wal] = (root / "wal").glob("*.arrows")
    assert _mode(wal) == 0o600
    w.close()
    [segment] = (root / "events").glob("day=*/*.parquet")
    for folder in (tmp_path / "new", root, root / "wal", root / "events", segment.parent):
        assert _mode(folder) == 0o700, folder
    assert _mode(segment) == 0o600
    assert _mode(root / "stats" / "s1.json") == 0o600
    assert _mode(root / "stats") == 0o700


def test_open_file_tightens_an_existing_file_before_writing(tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    path.write_text("older export")
    path.chmod(0o644)
    with private.open_file(path, "w") as handle:
        assert _mode(path) == 0o600  # before the first byte of the new content
        handle.write("new")
    assert path.read_text() == "new"


def test_quarantined_notes_and_folders_are_private(tmp_path: Path) -> None:
    bad = tmp_path / "events" / "day=2026-12-01" / "x.parquet"
    private.folder(bad.parent)
    bad.write_bytes(b"garbage")
    assert store.count(tmp_path) == 0
    kept = tmp_path / "quarantine" / "events" / "day=2026-12-01" / "x.parquet"
    assert _mode(kept.parent) == _mode(tmp_path / "quarantine") == 0o700
    assert _mode(kept.with_name("x.parquet.reason")) == 0o600


def test_emulator_truth_files_are_private(tmp_path: Path) -> None:
    op = operation.loads(
        '[operation]\nname = "e"\nstart = 2026-12-01\nhold_days = 3\n'
        '[[targets]]\nfamily = "megad-sim"\n'
    )
    w = writer.EventWriter(tmp_path / "store", "emulator")
    settings = emulate.Settings(machines=200, days=0.2, seed=1)
    addresses = tmp_path / "truth" / "truth-addresses.parquet"
    truth = emulate.offline(op, plan.compute(op), settings, w, addresses_file=addresses)
    w.close()
    truth.write(tmp_path / "truth" / "truth.json")
    assert truth.events > 0
    assert _mode(tmp_path / "truth") == 0o700
    assert _mode(tmp_path / "truth" / "truth.json") == 0o600
    assert _mode(addresses) == 0o600


def _temp_directory(con: object) -> Path:
    row = con.execute("SELECT current_setting('temp_directory')").fetchone()  # type: ignore[attr-defined]
    return Path(row[0])


def test_duckdb_spills_into_a_private_folder_of_ours(tmp_path: Path) -> None:
    w = writer.EventWriter(tmp_path / "store", "s1")
    w.buffer(("timestamp", "src_ip"), application="dns").append((T0, "127.0.0.1"))
    w.close()
    base = tmp_path / "cache" / "sinkhole" / "spill"
    con = store.connect(tmp_path / "store")
    try:
        spill = _temp_directory(con)
    finally:
        con.close()
    assert spill.parent == base and spill.name.startswith("run-")
    assert _mode(base) == 0o700 and os.stat(base).st_uid == os.geteuid()
    with population.connect("duckdb", tmp_path / "store") as (con, _events):
        row = con.raw_sql("SELECT current_setting('temp_directory')").fetchone()
        assert Path(row[0]).parent == base
    # two connections never share a spill folder
    assert private.spill_folder() != private.spill_folder()


def test_a_loose_spill_folder_is_tightened_a_foreign_one_refused(tmp_path: Path) -> None:
    base = tmp_path / "cache" / "sinkhole" / "spill"
    base.mkdir(parents=True)
    base.chmod(0o777)
    assert private.spill_base() == base
    assert _mode(base) == 0o700
    base.rmdir()
    (tmp_path / "elsewhere").mkdir()
    base.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(private.PrivacyError, match="a link or a file"):
        private.spill_base()
    base.unlink()
    if os.geteuid() == 0:  # only root can give a folder to someone else
        base.mkdir(mode=0o700)
        os.chown(base, 65534, 65534)
        with pytest.raises(private.PrivacyError, match="owned by user 65534"):
            private.spill_base()
