"""Foundation benchmarks: DGA generation, plan size and time, reverse index."""

from __future__ import annotations

import datetime as dt
import importlib
import random
import shutil
import string
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench import scratch
from sinkhole import dga_index, families, operation, plan
from sinkhole.events import private

START = dt.date(2026, 1, 1)


def _rate(fn: object, dates: list[dt.date], budget: float = 1.5) -> float:
    """Domains per second of fn(date) over `dates`, repeated until `budget` seconds pass."""
    call = fn  # type: ignore[assignment]
    total = 0
    began = time.perf_counter()
    while True:
        for date in dates:
            total += len(call(date))  # type: ignore[operator]
        elapsed = time.perf_counter() - began
        if elapsed >= budget:
            return total / elapsed


def bench_dga() -> None:
    """Each family's generate() beside its straightforward reference, same process."""
    print("== DGA generation: domains/s, sinkhole vs straightforward reference (same process)")
    print(f"{'family':<18}{'sinkhole':>13}{'reference':>13}{'ratio':>10}")
    rng = random.Random(1)
    for family in families.all_families():
        dga = family.dga
        if dga is None:
            continue
        module = family.name.replace("-", "_")
        try:
            reference = importlib.import_module(f"tests.reference_dga.{module}")
        except ModuleNotFoundError:
            print(f"{family.name:<18}{'(no reference)':>26}")
            continue
        # distinct periods so no cache can help either side
        dates = sorted({START + dt.timedelta(days=rng.randrange(3000)) for _ in range(40)})
        ours = _rate(dga.generate, dates)
        theirs = _rate(reference.generate, dates)
        print(f"{family.name:<18}{ours:>13,.0f}{theirs:>13,.0f}{ours / theirs:>9.1f}x")


def _all_families_operation(days: int) -> operation.Operation:
    targets = "\n".join(f'[[targets]]\nfamily = "{f.name}"\n' for f in families.all_families())
    text = (
        f'[operation]\nname = "all families"\nstart = {START}\nhold_days = {days}\n'
        f"clock_skew_days = 1\n\n{targets}"
    )
    return operation.loads(text)


def bench_plan() -> None:
    """Plan size and time for a 365-day window across every family."""
    print("\n== plan: 365-day window, every family")
    op = _all_families_operation(365)
    began = time.perf_counter()
    p = plan.compute(op)
    computed = time.perf_counter() - began
    with scratch() as tmp:
        began = time.perf_counter()
        written = plan.write(p, Path(tmp))
        wrote = time.perf_counter() - began
        size = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file())
    summary = plan.summary(p)
    print(f"targets: {len(op.targets)}  domains: {len(p.domains):,}  addresses: {len(p.addresses)}")
    print(f"compute: {computed:.1f} s ({len(p.domains) / computed:,.0f} domains/s)")
    print(f"write:   {wrote:.1f} s, {len(written)} files, {size / 1e6:,.0f} MB")
    per_day = summary["per_day"]
    assert isinstance(per_day, dict)
    print(f"held per day: min {per_day['min']:,} max {per_day['max']:,}")


def bench_index() -> None:
    """Reverse index: cold build of the default coverage, then lookups/s on 1M names."""
    import pyarrow.parquet as pq

    print("\n== reverse index: every DGA family over its active years (the lookup default)")
    cache = Path(tempfile.mkdtemp(prefix="sinkhole-index-", dir=private.scratch_base()))
    try:
        spec = dga_index.IndexSpec.active()
        years = ", ".join(f"{n} {a.year}-{b.year}" for n, (a, b) in spec.windows.items())
        print(f"coverage: {years}")
        began = time.perf_counter()
        index = dga_index.ensure(spec, cache, workers=2)
        built = time.perf_counter() - began
        rows = sum(pq.ParquetFile(p).metadata.num_rows for p in index.parts)
        size = sum(p.stat().st_size for p in index.parts)
        print(
            f"cold build: {built:.1f} s on 2 workers, {len(index.parts)} (family, year) files, "
            f"{rows:,} rows, {size / 1e6:,.0f} MB on disk"
        )
        _index_breakdown(index.parts)
        _check_default_coverage(index, spec.windows)
        began = time.perf_counter()
        again = dga_index.ensure(spec, cache, workers=2)
        print(f"cached re-open: {time.perf_counter() - began:.3f} s ({again.built} files built)")
        around = dga_index.IndexSpec.around(dt.date(2014, 7, 11), 2.0)
        began = time.perf_counter()
        extra = dga_index.ensure(around, cache, workers=2)
        print(
            f"--around 2014-07-11 after it: {extra.built} of {len(extra.parts)} files new, "
            f"{time.perf_counter() - began:.1f} s"
        )
        sample = [
            d
            for p in index.parts
            for d in pq.read_table(p, columns=["domain"]).column(0).to_pylist()
        ]
        rng = random.Random(2)
        hits = rng.sample(sample, 500_000)
        letters = string.ascii_lowercase
        misses = ["".join(rng.choices(letters, k=12)) + ".com" for _ in range(500_000)]
        names = hits + misses
        rng.shuffle(names)
        began = time.perf_counter()
        found = dga_index.lookup(index, names)
        took = time.perf_counter() - began
        matched = sum(1 for m in found.values() if m)
        print(
            f"warm lookup: {len(names):,} names in {took:.1f} s "
            f"({len(names) / took:,.0f} lookups/s), {matched:,} generated by a DGA"
        )
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def _index_breakdown(parts: Sequence[Path]) -> None:
    """The families that hold most of the index, by rows and bytes (files are family/key/year)."""
    import pyarrow.parquet as pq

    per_family: dict[str, list[int]] = {}
    for part in parts:
        totals = per_family.setdefault(part.parent.parent.name, [0, 0])
        totals[0] += pq.ParquetFile(part).metadata.num_rows
        totals[1] += part.stat().st_size
    biggest = sorted(per_family.items(), key=lambda item: -item[1][0])[:8]
    print("largest: " + ", ".join(f"{n} {r:,} rows {b / 1e6:.1f} MB" for n, (r, b) in biggest))


def _check_default_coverage(
    index: dga_index.Index, windows: Mapping[str, tuple[dt.date, dt.date]]
) -> None:
    """A lookup with no window finds each family's names on a random day of its active years."""
    rng = random.Random(3)
    missed: list[str] = []
    for name, (low, high) in windows.items():
        dga = families.get(name).dga
        assert dga is not None
        day = low + dt.timedelta(days=rng.randrange((high - low).days + 1))
        generated = dga.generate(day)
        probe = rng.sample(generated, min(5, len(generated)))
        found = dga_index.lookup(index, probe)
        for domain in probe:
            if not any(
                m.family == name and (m.any_date or any(a <= day <= b for a, b in m.dates))
                for m in found[domain]
            ):
                missed.append(f"{name} {day} {domain}")
    hit = len(windows) - len({miss.split()[0] for miss in missed})
    note = f"; missed: {', '.join(missed[:5])}" if missed else ""
    print(
        f"default lookup, 5 names on a random active day per family: {hit} of {len(windows)}{note}"
    )
