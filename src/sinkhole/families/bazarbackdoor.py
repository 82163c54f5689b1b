"""bazarbackdoor: BazarBackdoor/BazarLoader's monthly DGA under EmerDNS's ``.bazar`` (2020-2021).

BazarBackdoor (BazarLoader, the TrickBot group's loader) reaches its C&C
through names in its configuration and addresses, and, from July 2020,
through a DGA whose names all end in ``.bazar``: an EmerCoin (EmerDNS)
blockchain namespace with no ICANN registry behind it. Such a name can be
registered by anyone who pays, but no registrar or court can seize it:
``.bazar`` names are findings for the "unseizable" list, not for a plan's
registrar actions (J. Bader, "The DGA of BazarBackdoor", 2020-07, and the
updates of 2020-12 and 2021 in baderj/domain_generation_algorithms
``bazarbackdoor/``).

The algorithm in words (versions v2-v7): the bot writes the month and year as
``"MMYYYY"``. Four digits of that string, at positions given by the version,
each choose a window of indices into a table of two-letter syllables: digit
``d`` with multiplier ``m`` and width ``w`` gives indices ``m*d .. m*d+w-1``.
Every combination (the first window varying slowest) names one domain: the
four syllables joined, plus ``.bazar``. v2 (19x19x6x6 = 12 996 names a month),
v3 and v4 (19x19x22x4 = 31 768), v5-v7 (19x19x4x4 = 5 776); v4, v6 and v7
use other syllable tables. The July 2020 beta instead writes ``12 - month``
and ``year - 18`` as six digits and adds digit ``i`` to the ``i``-th of six
letters chosen from fixed sets (2 160 names a month).

The v4 and v6 tables as published (114 and 125 syllables) end before the
windows of months 06-09 (up to index 189); there the published
reimplementation, and this one, use an empty syllable for every index past
the end, giving shorter names. The real builds read whatever follows the
table in memory, so for v4/v6 those months' names are a best guess.

Active years: 2020-2022. The beta DGA appeared in July 2020; the published
examples of v2-v7 are for December 2021; BazarLoader was replaced by other
loaders during 2022.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from functools import lru_cache

from sinkhole.dga import BaseDga, DgaInfo, DgaParam
from sinkhole.families import Channel, Family
from sinkhole.types import ParamValue

#: The syllable tables carried by the builds (two letters per index).
POOLS: dict[str, str] = {
    "p1": (
        "qeewcaacywemomedekwyuhidontoibeludsocuexvuuftyliaqydhuizuctuiqow"
        "agypetehfubitiaziceblaogolryykosuptaymodisahfiybyxcoleafkudarapu"
        "qoawyluxqagenanyoxcygyqugiutlyvegahepovyigqyqibaeqynyfkiobpeepby"
        "xaciyvusocaripfyoftesaysozureginalifkazaadytwuubzuvoothymivazyyz"
        "hoevmeburedeviihiravygkemywaerdonoyryqloammoseweesuvfopiriboikuz"
        "orruzemuulimyhceukoqiwfexuefgoycwiokitnuneroxepyanbekyixxiuqsias"
        "xoapaxmaohezwoildifaluzihipanizoecxyopguakdudyovhaumunuwsusyenko"
        "atugabiv"
    ),
    "p2": (
        "yzewevmeywreomviekwyavygontowaerudsoyrexvuamtyseweesuvizpituiqow"
        "uzoretzemuultiazicukoqiwolxuykosupwiymitisneroxeyxanlekyixxirasi"
        "asxoapuxqaohezwooxdigyquziutpavezohexyvyguqyqidyovynumunuwsusyen"
        "xaatyvusivaripfyoftesaysozureginalif"
    ),
    "p3": (
        "xezeiwzuizpizovureonxyuzofezytpuarywnyavrysiovvazyratuoskumuatyz"
        "omnevexaqoixevkeuqoxuvutvipoymxoozwikonipysygotelyzayxnuunuwakqu"
        "ritaamugvyitimsuyrwyxuexaqtigyivewqiydseawukhirufuwairkiiquxowih"
        "hyurotiluhvocywowumoyvupagduobaserroziqyenpahaxiloazodtoishuax"
    ),
    "p4": (
        "xezenozuizpioqvuekifxyusofalytkadeibubysmyliylvaikultugikuuddoyq"
        "lanevebaqoixogicuqebuvbuviehbofyefsokonihosygoynbeetwenuunuwohqu"
        "ritaamugvyitimfiyrelcoykaqqaacapokcuydseumafedemfubyirahiquxegce"
        "aburotiluhvocywowumoyvupagduobaserroziqyenpahaxiloazodtoishuaxbi"
        "ufmifoiwesleyhzoyfreontyuzfaezkypuarywnyavrysiovyczyraciosgumuat"
        "yzommeolxaeqdaevkepeoxsauteppoymxoozwiygucpyheectelyzayxybgaypak"
        "igluinmacageocidsuorwyxuexantigyivewqiadnaawukhirudywaqekidiipow"
        "ihhyopfexezenozuizpioqvuekifxyusofalytkadeibubysmyliylvaikultugi"
        "kuuddoyqlanevebaqoixogicuqebuvbuviehbofyefsokonihosygoynbeetwenu"
        "unuwohquritaamugvyitimfiyrelcoykaqqaacapokcuydseumafedemfubyirah"
        "iquxegceaburotiluhvocywowumoyvupagduobaserroziqyenpahaxiloazodto"
        "ishuaxbiufmifoiwesleyhzoyfreontyuzfaezkypuarywnyavrysiovyczyraci"
        "osgumuatyzommeolxaeqdaevkepeoxsauteppoymxoozwiygucpyheectelyzayx"
        "ybgaypakigluinmacageocidsuorwyxuexantigyivewqiadnaawukhirudywaqe"
        "kidiipowihhyopfe"
    ),
}
#: (multiplier, width, digit position in "MMYYYY") for each of the four syllables
RANGES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "c1": ((19, 19, 0), (19, 19, 1), (6, 6, 4), (6, 6, 5)),
    "c2": ((19, 19, 0), (19, 19, 1), (4, 22, 4), (4, 4, 5)),
    "c3": ((19, 19, 0), (19, 19, 1), (4, 4, 4), (4, 4, 5)),
}
#: version -> (syllable table, ranges)
VERSIONS: dict[str, tuple[str, str]] = {
    "v2": ("p1", "c1"),
    "v3": ("p1", "c2"),
    "v4": ("p2", "c2"),
    "v5": ("p1", "c3"),
    "v6": ("p3", "c3"),
    "v7": ("p4", "c3"),
}
_BETA_LETTERS = ("abcde", "cdef", "efgh", "ghi", "ijk", "klm")
_SIZES = {v: 19 * 19 * r[2][1] * r[3][1] for v, (_, c) in VERSIONS.items() for r in [RANGES[c]]}


@lru_cache(maxsize=64)
def _month(version: str, month: int, year: int) -> tuple[str, ...]:
    if version == "beta":
        digits = f"{12 - month:02d}{year - 18:04d}"
        shifts = [int(c) for c in digits]
        return tuple(
            "".join(letters)
            + "".join(chr(ord(c) + s) for c, s in zip(letters, shifts, strict=True))
            + ".bazar"
            for letters in itertools.product(*_BETA_LETTERS)
        )
    pool_name, ranges_name = VERSIONS[version]
    pool = POOLS[pool_name]
    digits = f"{month:02d}{year:04d}"
    windows = []
    for mul, width, position in RANGES[ranges_name]:
        low = mul * int(digits[position])
        # an index past the table's end gives an empty syllable (see the module notes)
        windows.append([pool[2 * i : 2 * i + 2] for i in range(low, low + width)])
    return tuple(a + b + c + d + ".bazar" for a, b, c, d in itertools.product(*windows))


class BazarBackdoorDga(BaseDga):
    """BazarBackdoor: every syllable combination the month's digits allow, under .bazar."""

    name = "bazarbackdoor"
    info = DgaInfo(
        period="monthly",
        per_period=_SIZES["v2"],
        tlds=("bazar",),
        seeding="time-dependent",
        active_years=(2020, 2022),
        params=(
            DgaParam(
                "version",
                "v2",
                "DGA version: beta (July 2020), v2 .. v7 (builds of Dec 2020 to Dec 2021)",
                choices=("beta", *VERSIONS),
            ),
        ),
        reference="J. Bader, 'The DGA of BazarBackdoor' (2020); "
        "baderj/domain_generation_algorithms bazarbackdoor/",
        notes=".bazar is an EmerDNS (blockchain) namespace: no registry can seize it; "
        "v3/v4 give 31 768 names a month, v5-v7 5 776, beta 2 160",
    )

    def period_start(self, date: dt.date) -> dt.date:
        """The first day of the month."""
        return date.replace(day=1)

    def domains_for(self, key: dt.date, params: Mapping[str, ParamValue]) -> list[str]:
        """Every name of the month starting on `key`, in the bot's order."""
        return list(_month(str(params["version"]), key.month, key.year))


FAMILY = Family(
    name="bazarbackdoor",
    summary="BazarBackdoor/BazarLoader: monthly syllable DGA under EmerDNS .bazar (unseizable)",
    channels=(
        Channel(
            "static-domains",
            note="builds carry configured C&C names and addresses; none are listed here",
        ),
        Channel(
            "dga",
            dga=BazarBackdoorDga(),
            note=".bazar names live in the EmerCoin blockchain: no registry to seize them; "
            "block resolution (EmerDNS gateways, RPZ) instead",
        ),
    ),
    references=(
        "J. Bader, 'The DGA of BazarBackdoor' (2020), johannesbader.ch",
        "baderj/domain_generation_algorithms, bazarbackdoor/ (versions, example lists)",
        "DGArchive (Fraunhofer FKIE), family bazarbackdoor",
    ),
    aliases=("bazarloader", "bazar"),
)
