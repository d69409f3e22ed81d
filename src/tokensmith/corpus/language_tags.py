"""Language tags of corpora: BCP 47's shape and canonical spelling, and the language a file name states."""

from __future__ import annotations

import re

#: ISO 639-1 codes: a file stem that is one of these (optionally with script/region subtags, as in
#: ``pt-BR`` or ``sr-Latn``) names the corpus language. Three-letter stems are too often ordinary
#: words (``log``, ``out``, ``all``) to be guessed; tag those corpora explicitly with ``LANG=PATH``.
ISO_639_1 = frozenset(
    {
        "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bh", "bi", "bm",
        "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da", "de", "dv", "dz", "ee",
        "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr", "fy", "ga", "gd", "gl", "gn", "gu",
        "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz", "ia", "id", "ie", "ig", "ii", "ik", "io", "is",
        "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj", "kk", "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw",
        "ky", "la", "lb", "lg", "li", "ln", "lo", "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms",
        "mt", "my", "na", "nb", "nd", "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os",
        "pa", "pi", "pl", "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk",
        "sl", "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti", "tk", "tl",
        "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo", "wa", "wo", "xh", "yi",
        "yo", "za", "zh", "zu",
    }
)  # fmt: skip
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

    Files and flags spell tags many ways (``pt_BR``, ``PT-br``, ``zh_hant``, ``EN``); one spelling per
    language lets a ``pt_BR.txt`` parallel file, a ``pt-BR=`` tag and ``--ref-lang pt-BR`` meet:
    ``-`` between subtags, the language lower case, a script title case, a region upper case; deprecated
    and grandfathered tags become their replacements (``iw`` -> ``he``, ``zh-yue`` -> ``yue``, ``i-klingon``
    -> ``tlh``), so the same language gets the same word segmenter however it was tagged.
    """
    key = label.replace("_", "-").lower()
    if key in _REPLACED_TAGS:
        return _REPLACED_TAGS[key]
    subtags = label.replace("_", "-").split("-")
    if len(subtags) > 1 and subtags[0].lower() in _EXTLANG_PREFIXES and re.fullmatch(r"[A-Za-z]{3}", subtags[1]):
        label = "-".join(subtags[1:])
    if subtags[0].lower() in _REPLACED_LANGUAGES:
        label = "-".join([_REPLACED_LANGUAGES[subtags[0].lower()], *subtags[1:]])
    if not is_language_tag(label):
        return label  # a domain label (code, legal) or a private name (x-008)
    primary, *rest = re.split(r"[-_]", label)
    subtags = [primary.lower()]
    for subtag in rest:
        if len(subtag) == 4 and subtag.isalpha():
            subtags.append(subtag.title())
        elif len(subtag) == 2 and subtag.isalpha():
            subtags.append(subtag.upper())
        else:
            subtags.append(subtag.lower())
    return "-".join(subtags)


def guess_language(stem: str) -> str | None:
    """The language a file or folder name states (``de``, ``pt-BR``, ``zh_TW``), or None.

    Only ISO 639-1 primary subtags are trusted (see :data:`ISO_639_1`).
    """
    if not is_language_tag(stem) or re.split(r"[-_]", stem)[0].lower() not in ISO_639_1:
        return None
    return canonical_language(stem)
