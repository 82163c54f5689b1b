"""necurs: the published sample, the day >> 2 buckets, the lane-parallel mixer, the channels."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import BaseDga
from sinkhole.exceptions import DgaError
from sinkhole.families.necurs import mix, mix_many
from tests.conftest import read_sample
from tests.reference_dga import necurs as reference

SAMPLE_DATE = dt.date(2015, 8, 28)


def _dga() -> BaseDga:
    dga = families.get("necurs").dga
    assert dga is not None
    return dga


def test_channels_hard_coded_then_dga_then_p2p() -> None:
    family = families.get("necurs")
    assert [c.kind for c in family.channels] == ["static-domains", "dga", "p2p"]
    assert not family.channels[2].seizable
    assert family.dga is family.channels[1].dga


def test_published_sample_2015_08_28() -> None:
    # baderj/domain_generation_algorithms necurs/example_domains.txt: 2048 names, any day of
    # 28-31 August 2015 (tests/data/dga_samples/README.md).
    sample = read_sample("necurs_2015-08-28.txt")
    assert len(sample) == 2048
    dga = _dga()
    assert dga.generate(SAMPLE_DATE) == sample
    for day in (29, 30, 31):
        assert dga.generate(dt.date(2015, 8, day)) == sample
    assert dga.generate(dt.date(2015, 8, 27)) != sample
    assert dga.generate(dt.date(2015, 9, 1)) != sample


def test_reference_reproduces_sample_slice() -> None:
    # the plain reference needs ~1 s for all 2048 names; check a spread of sequence numbers
    sample = read_sample("necurs_2015-08-28.txt")
    for sequence in (0, 1, 2, 511, 1024, 2047):
        assert reference.domain(sequence, 9, SAMPLE_DATE) == sample[sequence]


def test_mixer_matches_reference() -> None:
    rng = random.Random(64)
    values = [0, 1, 0x7F, 0x80, (1 << 64) - 1, (1 << 64) - 0x80, 2015]
    values += [rng.getrandbits(64) for _ in range(3000)]
    expected = [reference.pseudo_random(v) for v in values]
    assert [mix(v) for v in values] == expected
    assert mix_many(values) == expected
    assert mix_many([]) == []
    assert mix_many(values[:1]) == expected[:1]
    assert mix_many([5, 5, 5]) == [reference.pseudo_random(5)] * 3


def test_matches_reference_on_random_dates() -> None:
    # ~1 s per full reference period: every date compares 40 sequence numbers, incl. the ends
    dga = _dga()
    rng = random.Random(20150828)
    for _ in range(20):
        date = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(365 * 19))
        domains = dga.generate(date)
        assert len(domains) == 2048
        for sequence in [0, 1, 2047, *rng.sample(range(2, 2047), 37)]:
            assert domains[sequence] == reference.domain(sequence, 9, date), (date, sequence)


def test_matches_reference_whole_period() -> None:
    date = dt.date(2029, 12, 30)
    assert _dga().generate(date) == reference.generate(date)


def test_magic_param_matches_reference() -> None:
    dga = _dga()
    date = dt.date(2020, 3, 10)
    domains = dga.generate(date, magic=0x1234)
    assert domains != dga.generate(date)
    for sequence in range(0, 2048, 97):
        assert domains[sequence] == reference.domain(sequence, 0x1234, date)
    assert dga.generate(date, magic="0x1234") == domains


def test_bucket_boundaries() -> None:
    dga = _dga()
    starts = {1: 1, 3: 1, 4: 4, 7: 4, 8: 8, 27: 24, 28: 28, 31: 28}
    for day, start in starts.items():
        assert dga.period_start(dt.date(2022, 10, day)) == dt.date(2022, 10, start)
    # last day of a bucket vs first day of the next; days inside one bucket
    assert dga.generate(dt.date(2022, 10, 3)) != dga.generate(dt.date(2022, 10, 4))
    assert dga.generate(dt.date(2022, 10, 4)) == dga.generate(dt.date(2022, 10, 7))
    assert dga.generate(dt.date(2022, 10, 7)) != dga.generate(dt.date(2022, 10, 8))
    assert dga.generate(dt.date(2022, 2, 28)) != dga.generate(dt.date(2022, 3, 1))


def test_names_and_tlds() -> None:
    dga = _dga()
    domains = dga.generate(dt.date(2016, 6, 1))
    assert {d.rsplit(".", 1)[1] for d in domains} <= set(dga.info.tlds)
    lengths = {len(d.split(".")[0]) for d in domains}
    assert lengths == set(range(7, 22))
    assert not any("z" in d.split(".")[0] for d in domains)  # letters are n % 25


@pytest.mark.parametrize("magic", [-1, 2**64, "nine"])
def test_bad_magic_is_refused(magic: object) -> None:
    with pytest.raises(DgaError):
        _dga().generate(SAMPLE_DATE, magic=magic)  # type: ignore[arg-type]
