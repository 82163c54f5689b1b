"""orchard: the published date names, the balance seed, the reference."""

from __future__ import annotations

import datetime as dt
import hashlib
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from sinkhole.families.orchard import balance_seed
from tests.conftest import read_sample
from tests.reference_dga import orchard as reference

SAMPLE_DATE = dt.date(2022, 9, 29)


def _dga() -> BaseDga:
    dga = families.get("orchard").dga
    assert dga is not None
    return dga


def test_published_date_names() -> None:
    # baderj/domain_generation_algorithms orchard/example_domains.txt: 32 names, 2022-09-29
    # (date search). Its first 16 come from the date; the last 16 from the genesis address's
    # balance and transaction count that day, which the published repository does not keep
    # (its db.json is fetched at run time), so only their shape is checked here.
    published = read_sample("orchard_2022-09-29.txt")
    assert len(published) == 32
    assert _dga().generate(SAMPLE_DATE) == published[:16]
    assert reference.generate(SAMPLE_DATE) == published[:16]
    labels = [name.split(".")[0] for name in published[16::4]]
    assert all(len(label) == 8 and int(label, 16) >= 0 for label in labels)
    assert published[16:] == [
        label + s for label in labels for s in (".com", ".net", ".org", ".duckdns.org")
    ]


def test_balance_names_follow_the_seed_string() -> None:
    seed = balance_seed(6_800_000_000, 3000)
    assert seed == (
        '{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa":{"final_balance":6800000000,"n_tx":3000,'
        '"total_received":6800000000}}'
    )
    names = _dga().generate(SAMPLE_DATE, balance=6_800_000_000, transactions=3000)
    assert len(names) == 32 and names[:16] == _dga().generate(SAMPLE_DATE)
    assert names[16] == hashlib.md5(seed.encode()).hexdigest()[:8] + ".com"


def test_matches_reference_on_random_dates() -> None:
    dga = _dga()
    rng = random.Random(2022)
    for _ in range(100):
        day = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(5000))
        balance, count = rng.randrange(10**10), rng.randrange(10000)
        assert dga.generate(day) == reference.generate(day)
        got = dga.generate(day, balance=balance, transactions=count)
        assert got == reference.generate(day, balance, count)


def test_transactions_without_balance_is_refused() -> None:
    with pytest.raises(DgaError, match="needs balance"):
        _dga().generate(SAMPLE_DATE, transactions=5)
