"""Language tags of corpora: BCP 47's shape and canonical spelling, and the language a file name states."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tokensmith.errors import InputError

#: ISO 639-2 codes (terminology and bibliographic: ``deu`` and ``ger``) of the languages ISO 639-1 also codes, and
#: their ISO 639-1 code, which BCP 47 and CLDR use for them (``eng`` -> ``en``, FLORES-200's ``deu_Latn`` -> ``de``).
#: Generated from pycountry 26.2.16's ISO 639-3 table (``alpha_3`` and ``bibliographic`` of each language with an
#: ``alpha_2``), with ``bih`` (Bihari, a collective code, only in ISO 639-2) added by hand.
ISO_639_2_TO_1 = {
    "aar": "aa", "abk": "ab", "afr": "af", "aka": "ak", "alb": "sq", "amh": "am", "ara": "ar", "arg": "an",
    "arm": "hy", "asm": "as", "ava": "av", "ave": "ae", "aym": "ay", "aze": "az", "bak": "ba", "bam": "bm",
    "baq": "eu", "bel": "be", "ben": "bn", "bih": "bh", "bis": "bi", "bod": "bo", "bos": "bs", "bre": "br",
    "bul": "bg", "bur": "my", "cat": "ca", "ces": "cs", "cha": "ch", "che": "ce", "chi": "zh", "chu": "cu",
    "chv": "cv", "cor": "kw", "cos": "co", "cre": "cr", "cym": "cy", "cze": "cs", "dan": "da", "deu": "de",
    "div": "dv", "dut": "nl", "dzo": "dz", "ell": "el", "eng": "en", "epo": "eo", "est": "et", "eus": "eu",
    "ewe": "ee", "fao": "fo", "fas": "fa", "fij": "fj", "fin": "fi", "fra": "fr", "fre": "fr", "fry": "fy",
    "ful": "ff", "geo": "ka", "ger": "de", "gla": "gd", "gle": "ga", "glg": "gl", "glv": "gv", "gre": "el",
    "grn": "gn", "guj": "gu", "hat": "ht", "hau": "ha", "heb": "he", "her": "hz", "hin": "hi", "hmo": "ho",
    "hrv": "hr", "hun": "hu", "hye": "hy", "ibo": "ig", "ice": "is", "ido": "io", "iii": "ii", "iku": "iu",
    "ile": "ie", "ina": "ia", "ind": "id", "ipk": "ik", "isl": "is", "ita": "it", "jav": "jv", "jpn": "ja",
    "kal": "kl", "kan": "kn", "kas": "ks", "kat": "ka", "kau": "kr", "kaz": "kk", "khm": "km", "kik": "ki",
    "kin": "rw", "kir": "ky", "kom": "kv", "kon": "kg", "kor": "ko", "kua": "kj", "kur": "ku", "lao": "lo",
    "lat": "la", "lav": "lv", "lim": "li", "lin": "ln", "lit": "lt", "ltz": "lb", "lub": "lu", "lug": "lg",
    "mac": "mk", "mah": "mh", "mal": "ml", "mao": "mi", "mar": "mr", "may": "ms", "mkd": "mk", "mlg": "mg",
    "mlt": "mt", "mon": "mn", "mri": "mi", "msa": "ms", "mya": "my", "nau": "na", "nav": "nv", "nbl": "nr",
    "nde": "nd", "ndo": "ng", "nep": "ne", "nld": "nl", "nno": "nn", "nob": "nb", "nor": "no", "nya": "ny",
    "oci": "oc", "oji": "oj", "ori": "or", "orm": "om", "oss": "os", "pan": "pa", "per": "fa", "pli": "pi",
    "pol": "pl", "por": "pt", "pus": "ps", "que": "qu", "roh": "rm", "ron": "ro", "rum": "ro", "run": "rn",
    "rus": "ru", "sag": "sg", "san": "sa", "sin": "si", "slk": "sk", "slo": "sk", "slv": "sl", "sme": "se",
    "smo": "sm", "sna": "sn", "snd": "sd", "som": "so", "sot": "st", "spa": "es", "sqi": "sq", "srd": "sc",
    "srp": "sr", "ssw": "ss", "sun": "su", "swa": "sw", "swe": "sv", "tah": "ty", "tam": "ta", "tat": "tt",
    "tel": "te", "tgk": "tg", "tgl": "tl", "tha": "th", "tib": "bo", "tir": "ti", "ton": "to", "tsn": "tn",
    "tso": "ts", "tuk": "tk", "tur": "tr", "twi": "tw", "uig": "ug", "ukr": "uk", "urd": "ur", "uzb": "uz",
    "ven": "ve", "vie": "vi", "vol": "vo", "wel": "cy", "wln": "wa", "wol": "wo", "xho": "xh", "yid": "yi",
    "yor": "yo", "zha": "za", "zho": "zh", "zul": "zu",
}  # fmt: skip
#: ISO 639-1 codes: a file stem that is one of these (optionally with script/region subtags, as in
#: ``pt-BR`` or ``sr-Latn``) names the corpus language. A bare three-letter stem is not guessed, even
#: ``deu``: ISO 639-2 codes of these very languages are also ordinary words and file names (``cat``,
#: ``run``, ``may``, ``per``, ``mac``, ``vol``, ``fin``, ``log`` or ``out`` elsewhere); tag those corpora
#: explicitly with ``LANG=PATH`` (``deu=deu.txt`` is ``de``). A three-letter code with a script subtag
#: (FLORES-200's ``eng_Latn``, ``zho_Hans``) is no word and is guessed (see :func:`guess_language`).
ISO_639_1 = frozenset(ISO_639_2_TO_1.values())
#: Individual languages that CLDR's canonicalization replaces by their macrolanguage, the language users
#: mean (FLORES-200 and NLLB write Standard Arabic ``arb_Arab``, Standard Malay ``zsm_Latn``): the
#: ``reason="macrolanguage"`` languageAlias entries of CLDR's common/supplemental/supplementalMetadata.xml,
#: but for ``tw`` -> ``ak`` and ``bh`` -> ``bho``, which would rename ISO 639-1 codes users write for those
#: very languages (FLORES-200 has both ``aka_Latn`` and ``twi_Latn``: two files of one folder).
MACROLANGUAGE_ALIASES = {
    "aju": "jrb", "als": "sq", "arb": "ar", "ayr": "ay", "azj": "az", "bcc": "bal", "bcl": "bik", "bxk": "luy",
    "bxr": "bua", "cld": "syr", "cmn": "zh", "cwd": "cr", "dgo": "doi", "dhd": "mwr", "dik": "din", "diq": "zza",
    "ekk": "et", "emk": "man", "esk": "ik", "fat": "ak", "fuc": "ff", "gaz": "om", "gbo": "grb", "gno": "gon",
    "gom": "kok", "gug": "gn", "gya": "gba", "hdn": "hai", "hea": "hmn", "him": "srx", "ike": "iu", "khk": "mn",
    "kmr": "ku", "knc": "kr", "kng": "kg", "kpv": "kv", "lbk": "bnc", "lvs": "lv", "mhr": "chm", "mnk": "man",
    "mup": "raj", "npi": "ne", "ojg": "oj", "ory": "or", "pbu": "ps", "pes": "fa", "plt": "mg", "pnb": "lah",
    "quz": "qu", "rmy": "rom", "spy": "kln", "src": "sc", "swh": "sw", "ttq": "tmh", "umu": "del", "uzn": "uz",
    "xpe": "kpe", "xsl": "den", "ydd": "yi", "zai": "zap", "zsm": "ms", "zyb": "za",
}  # fmt: skip
#: The script each language is (nearly) always written in: the Suppress-Script fields of the IANA Language
#: Subtag Registry (File-Date 2021-08-06), by script. BCP 47 drops such a script subtag (``en-Latn`` is
#: ``en``, ``ja-Jpan`` is ``ja``) and keeps the others (``zh-Hans``, ``sr-Latn``, ``uz-Cyrl``, ``pa-Arab``).
_SUPPRESSED_SCRIPT = {
    "Arab": "ar fa ps ur", "Armn": "hy", "Beng": "as bn", "Blis": "zbl", "Cyrl": "ab be bg kk mk ru uk",
    "Deva": "hi kok mai mr ne", "Ethi": "am ti", "Geor": "ka", "Grek": "el", "Gujr": "gu", "Guru": "pa",
    "Hebr": "he yi", "Jpan": "ja", "Khmr": "km", "Knda": "kn", "Kore": "ko", "Laoo": "lo", "Mlym": "ml",
    "Mymr": "my", "Nkoo": "nqo", "Orya": "or", "Sinh": "si", "Taml": "ta", "Telu": "te", "Thaa": "dv",
    "Thai": "th", "Tibt": "dz",
    "Latn": "af ay bs ca ch cs cy da de dsb en eo es et eu fi fj fo fr frr frs fy ga gl gn gsw gv hr hsb ht hu id "
            "is it kl la lb ln lt lv men mg mh ms mt na nb nd nds niu nl nn no nr nso ny om pl pt qu rm rn ro rw sg "
            "sk sl sm so sq ss st sv sw tem tkl tl tmh tn to tpi tr ts tvl ve vi xh zu",
}  # fmt: skip
SUPPRESS_SCRIPT = {
    language: script for script, languages in _SUPPRESSED_SCRIPT.items() for language in languages.split()
}
#: ISO 15924 script codes (pycountry 26.2.16's table, without the private-use range Qaaa..Qabx): the second
#: subtag of a stem such as ``eng_Latn`` must be one of these for the stem to name a language.
_ISO_15924_CODES = """
    Adlm Afak Aghb Ahom Arab Aran Armi Armn Avst Bali Bamu Bass Batk Beng Berf Bhks Blis Bopo Brah Brai Bugi Buhd
    Cakm Cans Cari Cham Cher Chis Chrs Cirt Copt Cpmn Cprt Cyrl Cyrs Deva Diak Dogr Dsrt Dupl Egyd Egyh Egyp Elba
    Elym Ethi Gara Geok Geor Glag Gong Gonm Goth Gran Grek Gujr Gukh Guru Hanb Hang Hani Hano Hans Hant Hatr Hebr
    Hira Hluw Hmng Hmnp Hntl Hrkt Hung Inds Ital Jamo Java Jpan Jurc Kali Kana Kawi Khar Khmr Khoj Kitl Kits Knda
    Kore Kpel Krai Kthi Lana Laoo Latf Latg Latn Leke Lepc Limb Lina Linb Lisu Loma Lyci Lydi Mahj Maka Mand Mani
    Marc Maya Medf Mend Merc Mero Mlym Modi Mong Moon Mroo Mtei Mult Mymr Nagm Nand Narb Nbat Newa Nkdb Nkgb Nkoo
    Nshu Ogam Olck Onao Orkh Orya Osge Osma Ougr Palm Pauc Pcun Pelm Perm Phag Phli Phlp Phlv Phnx Piqd Plrd Prti
    Psin Ranj Rjng Rohg Roro Runr Samr Sara Sarb Saur Seal Sgnw Shaw Shrd Shui Sidd Sidt Sind Sinh Sogd Sogo Sora
    Soyo Sund Sunu Sylo Syrc Syre Syrj Syrn Tagb Takr Tale Talu Taml Tang Tavt Tayo Telu Teng Tfng Tglg Thaa Thai
    Tibt Tirh Tnsa Todr Tols Toto Tutg Ugar Vaii Visp Vith Wara Wcho Wole Xpeo Xsux Yezi Yiii Zanb Zinh Zmth Zsye
    Zsym Zxxx Zyyy Zzzz
"""
ISO_15924 = frozenset(_ISO_15924_CODES.split())
_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_](?:[A-Za-z]{4}|[A-Za-z]{2}|[0-9]{3}|[A-Za-z0-9]{5,8}))*")
# BCP 47's generic syntax (a 2-3 letter language, then subtags of 1-8 letters or digits: zh-yue, de-1901,
# en-x-old), or a private-use name (x-008, x-cmn_hans_beijing; UDHR's names run past 8 characters).
_LANGUAGE_NAME = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*|[xX](?:[-_][A-Za-z0-9]+)+")
UNDETERMINED = "und"


def is_language_tag(text: str) -> bool:
    """Whether ``text`` has the shape of a BCP 47 tag (``de``, ``zh-CN``, ``sr-Latn``, ``ast``)."""
    return _TAG.fullmatch(text) is not None


def names_a_language(text: str) -> bool:
    """Whether a file stem can name a language: a tag of BCP 47's syntax (``pt_BR``, ``ca-valencia``,
    ``de-1901``) or a private-use name (``x-008``); ``README``, ``LICENSE`` and ``notes`` cannot.

    Subtags are not checked against the registry, so a three-letter word (``log``) passes.
    """
    return _LANGUAGE_NAME.fullmatch(text) is not None


#: Whole tags BCP 47 replaces (grandfathered and redundant tags with a Preferred-Value in the IANA registry).
_REPLACED_TAGS = {
    "art-lojban": "jbo", "i-ami": "ami", "i-bnn": "bnn", "i-hak": "hak", "i-klingon": "tlh", "i-lux": "lb",
    "i-navajo": "nv", "i-pwn": "pwn", "i-tao": "tao", "i-tay": "tay", "i-tsu": "tsu", "no-bok": "nb",
    "no-nyn": "nn", "sgn-be-fr": "sfb", "sgn-be-nl": "vgt", "sgn-ch-de": "sgg", "zh-guoyu": "cmn",
    "zh-hakka": "hak", "zh-min-nan": "nan", "zh-xiang": "hsn",
}  # fmt: skip
#: Deprecated primary language subtags and their Preferred-Value.
_REPLACED_LANGUAGES = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro"}
#: Macrolanguages whose extended language subtags BCP 47 writes as the language itself (``zh-yue`` -> ``yue``).
_EXTLANG_PREFIXES = ("zh", "ar", "ms", "sgn")


def canonical_language(label: str) -> str:
    """``label`` in BCP 47's canonical form when it is shaped like a language tag, else unchanged.

    Files and flags spell tags many ways (``pt_BR``, ``PT-br``, ``zh_hant``, ``EN``, FLORES-200's ``eng_Latn``);
    one spelling per language lets a ``pt_BR.txt`` parallel file, a ``pt-BR=`` tag and ``--ref-lang pt-BR`` meet:
    ``-`` between subtags, the language lower case, a script title case, a region upper case; deprecated
    and grandfathered tags become their replacements (``iw`` -> ``he``, ``zh-yue`` -> ``yue``, ``i-klingon``
    -> ``tlh``), so the same language gets the same word segmenter however it was tagged. As in CLDR's
    canonicalization, an ISO 639-2 code of a language ISO 639-1 codes becomes that code (``eng``/``deu``/``ger``
    -> ``en``/``de``), an individual language the macrolanguage users mean (``arb`` -> ``ar``, ``cmn`` ->
    ``zh``: :data:`MACROLANGUAGE_ALIASES`), and a script the language is always written in is dropped
    (``eng_Latn`` -> ``en``, ``ja-Jpan`` -> ``ja``; ``zho_Hans`` -> ``zh-Hans``, ``sr-Latn`` stays).
    """
    key = label.replace("_", "-").lower()
    if key in _REPLACED_TAGS:
        return canonical_language(_REPLACED_TAGS[key])  # zh-guoyu -> cmn -> zh
    subtags = label.replace("_", "-").split("-")
    if len(subtags) > 1 and subtags[0].lower() in _EXTLANG_PREFIXES and re.fullmatch(r"[A-Za-z]{3}", subtags[1]):
        label = "-".join(subtags[1:])
    if subtags[0].lower() in _REPLACED_LANGUAGES:
        label = "-".join([_REPLACED_LANGUAGES[subtags[0].lower()], *subtags[1:]])
    if not is_language_tag(label):
        return label  # a domain label (code, legal) or a private name (x-008)
    primary, *rest = re.split(r"[-_]", label)
    primary = primary.lower()
    primary = ISO_639_2_TO_1.get(primary, primary)
    primary = MACROLANGUAGE_ALIASES.get(primary, primary)
    subtags = [primary]
    for subtag in rest:
        if len(subtag) == 4 and subtag.isalpha():
            subtags.append(subtag.title())
        elif len(subtag) == 2 and subtag.isalpha():
            subtags.append(subtag.upper())
        else:
            subtags.append(subtag.lower())
    if len(subtags) > 1 and subtags[1] == SUPPRESS_SCRIPT.get(primary):
        del subtags[1]
    return "-".join(subtags)


def basic_filter(requested: str, available: Iterable[str]) -> list[str]:
    """The tags of ``available`` that the tag ``requested`` names: RFC 4647's basic filtering on canonical tags,
    an exact match first.

    ``requested`` names the available tag equal to it (``en``, ``eng_Latn`` and ``EN`` name ``en``) and, when
    none is, every tag it is a prefix of at a subtag boundary: ``ko`` names ``ko-Hang`` (FLORES-200's
    ``kor_Hang.txt``: Korean has no Suppress-Script), ``zh`` both ``zh-Hans`` and ``zh-Hant``; ``en`` names
    neither ``eng``-anything nor ``en-x-2``: a private-use subtag draws a distinction only the folder's author
    knows (a second version of English), so a tag holding one is named in full. A tag never names a less
    specific one (``ko-Hang`` does not name ``ko``). Compared without regard to case, as RFC 4647 does.
    """
    wanted = canonical_language(requested).lower()
    tags = list(dict.fromkeys(available))
    exact = [tag for tag in tags if canonical_language(tag).lower() == wanted]
    if exact:
        return exact
    return [tag for tag in tags if canonical_language(tag).lower().startswith(wanted + "-")
            and "x" not in canonical_language(tag).lower().split("-")]


def resolve_languages(requested: Iterable[str], available: Iterable[str], where: str,
                      flag: str | None = None) -> dict[str, str | None]:
    """The available tag each requested tag names (see :func:`basic_filter`), by canonical requested tag; None
    for a tag that names none (the caller says what it lacks, listing what there is).

    Args:
        requested: tags a user asked for (``--lang``, ``--ref-lang``, the languages trained).
        available: the tags a corpus holds (a folder's files, the dev set's languages).
        where: the corpus, as the errors name it (``"the parallel corpus flores/"``).
        flag: the option the tags come from, as the errors name it (``"--ref-lang"``), if one.

    Raises:
        InputError: a tag names several available tags (``zh``: ``zh-Hans`` and ``zh-Hant``), or two tags
            name one (``ko`` and ``ko-Hang``: one language's text would stand for two).
    """
    tags = list(available)
    resolved: dict[str, str | None] = {}
    asked_as: dict[str, str] = {}  # available tag -> the requested tag that named it, as the user spelt it
    for spelt in requested:
        tag = canonical_language(spelt)
        if tag in resolved:
            continue  # en and eng_Latn are one language
        matches = basic_filter(tag, tags)
        if len(matches) > 1:
            raise InputError(f"{f'{flag} {spelt}' if flag else repr(spelt)} names {len(matches)} languages of "
                             f"{where}: {', '.join(matches)}",
                             f"pass the full tag of the one you mean ({' or '.join(matches)})")
        match = matches[0] if matches else None
        if match is not None and match in asked_as:
            raise InputError(f"{asked_as[match]!r} and {spelt!r} both name {match} of {where}"
                             + (f" ({flag})" if flag else ""), "name each language of the corpus once")
        if match is not None:
            asked_as[match] = spelt
        resolved[tag] = match
    return resolved


def resolve_language(requested: str, available: Iterable[str], where: str, flag: str | None = None) -> str | None:
    """The one available tag ``requested`` names, or None (see :func:`resolve_languages`)."""
    return resolve_languages([requested], available, where, flag)[canonical_language(requested)]


def guess_language(stem: str) -> str | None:
    """The language a file or folder name states (``de``, ``pt-BR``, ``zh_TW``, ``eng_Latn``), or None.

    Trusted are an ISO 639-1 primary subtag (see :data:`ISO_639_1`) and, as FLORES-200 and NLLB name their
    files, a lower-case three-letter code followed by an ISO 15924 script in title case (``zho_Hans``,
    ``arb_Arab``, ``ace_Latn``): no word is spelt so; such a tag also names a file that has a suffix after it
    (FLORES-200's ``eng_Latn.devtest``). A bare three-letter stem (``deu``, ``log``) is not trusted.
    """
    head = stem.split(".", 1)[0]
    if _flores_shaped(head):
        return canonical_language(head)
    if not is_language_tag(stem) or re.split(r"[-_]", stem)[0].lower() not in ISO_639_1:
        return None
    return canonical_language(stem)


def _flores_shaped(stem: str) -> bool:
    """Whether ``stem`` is a lower-case three-letter code and a title-case ISO 15924 script (``zho_Hans``),
    then any further subtags."""
    primary, *rest = re.split(r"[-_]", stem)
    return is_language_tag(stem) and len(primary) == 3 and primary.islower() and bool(rest) and rest[0] in ISO_15924
