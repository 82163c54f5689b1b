"""ramnit: the published domains of seed 0x79159C10, time independence and seed checks."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from sinkhole import families
from sinkhole.dga import TIMELESS, BaseDga
from sinkhole.exceptions import DgaError
from sinkhole.families.ramnit import KNOWN_SEEDS
from tests.reference_dga import ramnit as reference

# Published example domains for seed 0x79159C10 (one of the seeds Bader observed in the wild):
# github.com/baderj/domain_generation_algorithms ramnit/example_domains.txt (100 domains),
# accompanying "The DGA of Ramnit" (johannesbader.ch / bin.re, 2014).
PUBLISHED_79159C10 = [
    "knpqxlxcwtlvgrdyhd",
    "nvlyffua",
    "hgyudheedieibxy",
    "anrylixwcbnjopdd",
    "vrndmdrdrjoff",
    "jhghrlufoh",
    "tqjhvylf",
    "hufqifjq",
    "itktxexjghvvxa",
    "ppyblaohb",
    "ectdsitvvoydawmfni",
    "vbvqbnwyurqem",
    "jetuergatod",
    "anxsmqyfy",
    "ckyioylutybvcxv",
    "khllpmpmare",
    "riaaiysk",
    "vfrpojablskkqrx",
    "egopuefrdsefc",
    "fycecyuksgjfxy",
    "qyuylvjwh",
    "wldlrwlygck",
    "lcqavndroo",
    "acuhjbadvnmhthwnlxv",
    "qvberjspofqsxdnr",
    "euvyalbkwahxxjn",
    "typmyloijdcxtdxd",
    "hjahmduyebf",
    "ebrfoyrs",
    "uvenqtbfbeyvebqeb",
    "jmmurxyktxvegsxid",
    "myhyfpuoh",
    "vffamysgsfsodw",
    "sblbtuqtiavvtrkrn",
    "qtyvbditfgmkxqjrik",
    "wxxnufbeacmrtdam",
    "fsxgwfwychumrgrmhwo",
    "lvrjjmbdtfapwev",
    "rijfxtotkuysyfh",
    "ibvtknxochoyjidm",
    "vwlcnujosuovul",
    "aflgqgddfi",
    "tbajypaiecloxihf",
    "xoqxabqb",
    "wnftxxhnwiugtvwyo",
    "imvfakaudq",
    "jmesrbwtcjev",
    "rrewytfucjjylju",
    "xrtgqevawtlmulghjj",
    "ycafyovxdnlsa",
    "fgcdhqgcdomle",
    "xbjersli",
    "jymqfxgwfhyns",
    "repliinjqssbrnf",
    "ealxbraobohxb",
    "dhfejwhoj",
    "llgnygbqhv",
    "scfxvdlmfbgf",
    "todyennhm",
    "nfqhufvxyssyda",
    "emlxeyirx",
    "shnlojyteeocltymxe",
    "qdboaveuhwabhwik",
    "yovkoaxsana",
    "exmfhgyv",
    "qpfrvbstn",
    "hajqfvvqjkkaejwi",
    "ovypjimjcnvwwooiamj",
    "ucfenxbryboqwbmlxke",
    "nwuqfobauuwsyuppii",
    "okfatclblpl",
    "ifbomanec",
    "gwmjxjueqme",
    "edvxemrsvvycwt",
    "ogfavxwxus",
    "kynknfyngikfno",
    "ecsgmpariu",
    "icqxkusbfdwhy",
    "nxlakdliamyuejsss",
    "cbxyvrxewvlnxhkadfg",
    "myqenkelfk",
    "smisifkrfkyccnlk",
    "hvyfjjqdlwhnlrpaa",
    "mlgdwljfmnkt",
    "hvklxvhkmfsdgd",
    "vefqierywsov",
    "liedjckipkehqxwtdl",
    "ppvrnfkbarbnlm",
    "ckgvnbwdywbxvlnk",
    "bpiwebgqddyvgcnjgh",
    "eyvvpstmcwwvsyjtif",
    "yctkhjksne",
    "llurxdkpkbvjx",
    "sdjvmbngpgwnpdj",
    "qhnhlgmfepeuelxtpkv",
    "udiivoyrbugyfruq",
    "facmttijcdq",
    "ootuuujaep",
    "wvmmvpbkjrds",
    "dbygksqtu",
]


def _dga() -> BaseDga:
    dga = families.get("ramnit").dga
    assert dga is not None
    return dga


def test_channels_static_domains_then_dga() -> None:
    family = families.get("ramnit")
    assert [c.kind for c in family.channels] == ["static-domains", "dga"]
    assert families.get("nimnul") is family


def test_published_domains_of_seed_79159c10() -> None:
    assert len(PUBLISHED_79159C10) == 100
    expected = [f"{label}.com" for label in PUBLISHED_79159C10]
    dga = _dga()
    day = dt.date(2015, 2, 24)
    assert dga.generate(day)[:100] == expected  # the default seed; the default count is 1000
    assert dga.generate(day, seed="0x79159C10", count="100") == expected
    assert reference.generate(day, count=100) == expected
    assert dga.generate(day) == reference.generate(day)


def test_time_independent() -> None:
    dga = _dga()
    first = dga.generate(dt.date(2012, 1, 1))
    rng = random.Random(1)
    for _ in range(20):
        date = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(365 * 19))
        assert dga.period_start(date) == TIMELESS
        assert dga.generate(date) == first
    assert dga.domains_for(TIMELESS, dga.params()) == first


def test_prefix_property_of_count() -> None:
    dga = _dga()
    day = dt.date(2020, 1, 1)
    assert dga.generate(day, count=10) == dga.generate(day)[:10]
    assert dga.generate(day, count=0) == []


@pytest.mark.parametrize("seed", KNOWN_SEEDS)
def test_known_seeds_match_reference(seed: int) -> None:
    day = dt.date(2020, 1, 1)
    domains = _dga().generate(day, seed=seed, count=500)
    assert domains == reference.generate(day, seed=seed, count=500)
    assert all(8 <= len(d) - 4 <= 19 and "z" not in d[:-4] for d in domains)


def test_random_seeds_and_tld_lists_match_reference() -> None:
    dga = _dga()
    rng = random.Random(0x79159C10)
    day = dt.date(2020, 1, 1)
    for tlds in ("com", "click bid eu", ".eu", "com,net"):
        for _ in range(10):
            seed = rng.getrandbits(32)
            got = dga.generate(day, seed=seed, count=60, tlds=tlds)
            assert got == reference.generate(day, seed=seed, count=60, tlds=tlds)
    cycled = dga.generate(day, seed=0x4302C04A, count=6, tlds="click bid eu")
    assert [d.rsplit(".", 1)[1] for d in cycled] == ["click", "bid", "eu"] * 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"seed": -1}, "32-bit"),
        ({"seed": 2**32}, "32-bit"),
        ({"seed": "79159C1G"}, "not an integer"),
        ({"count": -5}, "count"),
        ({"count": "many"}, "not an integer"),
        ({"tlds": ""}, "bad tlds"),
        ({"tlds": "com bad_tld!"}, "bad tlds"),
        ({"key": 1}, "no parameter"),
    ],
)
def test_bad_parameters(params: dict[str, int | str], message: str) -> None:
    with pytest.raises(DgaError, match=message):
        _dga().generate(dt.date(2020, 1, 1), **params)
