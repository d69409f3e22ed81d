"""What a vocabulary is made of: every token classified by script, position and kind (no corpus needed).

The classes follow Qtok (Chelombitko et al. 2024, nup-csai/Qtok) with three fixes: every token gets
exactly one class in each dimension, so per-script and per-kind shares always sum to 100%; the
language distribution of alphabetic tokens splits each token's weight over the lexicons it occurs in,
so it sums to 100% too (Qtok's does not); and classes are computed from the exact bytes each token
stands for (``Tokenizer.token_bytes``), so GPT-2 ``Ġ``, SentencePiece ``▁`` and ``<0xNN>`` tokens
compare across formats.

Dimensions of one token (its *body* is its text minus one leading space):

* **position**: ``word_initial`` when the token's bytes start with a space (the space marker already
  resolved to a real space; a lone space token counts too), or, for WordPiece and BPE with a
  continuing_subword_prefix, when the piece is not a ``##`` continuation; ``inner`` otherwise; ``n/a``
  for special, byte-fallback and partial-UTF-8 tokens.
* **kind**: ``special`` (control tokens), ``byte_fallback`` (``<0xNN>``), ``partial_utf8`` (bytes that
  are not valid UTF-8 on their own), ``whitespace``, ``alphabetic`` (letters and combining marks only),
  ``numeric`` (``\\p{N}`` only), ``punctuation`` (punctuation and symbols, ``\\p{P}``/``\\p{S}``),
  ``control`` (control/format characters, ``\\p{C}``), ``mixed`` (anything else, e.g. ``"abc1"``, and
  the empty token).
* **script**: the Unicode script (``\\p{Script=..}``) of the token's characters, ignoring the shared
  scripts ``Common`` (digits, punctuation, spaces) and ``Inherited`` (combining marks); ``Common`` when
  nothing else is left; ``Mixed`` when two or more scripts remain; ``n/a`` for tokens without text
  (special, byte-fallback, partial UTF-8). Characters of scripts newer than the table below get
  ``Other``.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import regex

#: Unicode scripts recognised by name (Unicode 16). ``Common`` and ``Inherited`` are the shared ones.
UNICODE_SCRIPTS = tuple(
    [
        "Adlam",
        "Ahom",
        "Anatolian_Hieroglyphs",
        "Arabic",
        "Armenian",
        "Avestan",
        "Balinese",
        "Bamum",
        "Bassa_Vah",
        "Batak",
        "Bengali",
        "Bhaiksuki",
        "Bopomofo",
        "Brahmi",
        "Braille",
        "Buginese",
        "Buhid",
        "Canadian_Aboriginal",
        "Carian",
        "Caucasian_Albanian",
        "Chakma",
        "Cham",
        "Cherokee",
        "Chorasmian",
        "Common",
        "Coptic",
        "Cuneiform",
        "Cypriot",
        "Cypro_Minoan",
        "Cyrillic",
        "Deseret",
        "Devanagari",
        "Dives_Akuru",
        "Dogra",
        "Duployan",
        "Egyptian_Hieroglyphs",
        "Elbasan",
        "Elymaic",
        "Ethiopic",
        "Garay",
        "Georgian",
        "Glagolitic",
        "Gothic",
        "Grantha",
        "Greek",
        "Gujarati",
        "Gunjala_Gondi",
        "Gurmukhi",
        "Gurung_Khema",
        "Han",
        "Hangul",
        "Hanifi_Rohingya",
        "Hanunoo",
        "Hatran",
        "Hebrew",
        "Hiragana",
        "Imperial_Aramaic",
        "Inherited",
        "Inscriptional_Pahlavi",
        "Inscriptional_Parthian",
        "Javanese",
        "Kaithi",
        "Kannada",
        "Katakana",
        "Kawi",
        "Kayah_Li",
        "Kharoshthi",
        "Khitan_Small_Script",
        "Khmer",
        "Khojki",
        "Khudawadi",
        "Kirat_Rai",
        "Lao",
        "Latin",
        "Lepcha",
        "Limbu",
        "Linear_A",
        "Linear_B",
        "Lisu",
        "Lycian",
        "Lydian",
        "Mahajani",
        "Makasar",
        "Malayalam",
        "Mandaic",
        "Manichaean",
        "Marchen",
        "Masaram_Gondi",
        "Medefaidrin",
        "Meetei_Mayek",
        "Mende_Kikakui",
        "Meroitic_Cursive",
        "Meroitic_Hieroglyphs",
        "Miao",
        "Modi",
        "Mongolian",
        "Mro",
        "Multani",
        "Myanmar",
        "Nabataean",
        "Nag_Mundari",
        "Nandinagari",
        "New_Tai_Lue",
        "Newa",
        "Nko",
        "Nushu",
        "Nyiakeng_Puachue_Hmong",
        "Ogham",
        "Ol_Chiki",
        "Ol_Onal",
        "Old_Hungarian",
        "Old_Italic",
        "Old_North_Arabian",
        "Old_Permic",
        "Old_Persian",
        "Old_Sogdian",
        "Old_South_Arabian",
        "Old_Turkic",
        "Old_Uyghur",
        "Oriya",
        "Osage",
        "Osmanya",
        "Pahawh_Hmong",
        "Palmyrene",
        "Pau_Cin_Hau",
        "Phags_Pa",
        "Phoenician",
        "Psalter_Pahlavi",
        "Rejang",
        "Runic",
        "Samaritan",
        "Saurashtra",
        "Sharada",
        "Shavian",
        "Siddham",
        "SignWriting",
        "Sinhala",
        "Sogdian",
        "Sora_Sompeng",
        "Soyombo",
        "Sundanese",
        "Sunuwar",
        "Syloti_Nagri",
        "Syriac",
        "Tagalog",
        "Tagbanwa",
        "Tai_Le",
        "Tai_Tham",
        "Tai_Viet",
        "Takri",
        "Tamil",
        "Tangsa",
        "Tangut",
        "Telugu",
        "Thaana",
        "Thai",
        "Tibetan",
        "Tifinagh",
        "Tirhuta",
        "Todhri",
        "Toto",
        "Tulu_Tigalari",
        "Ugaritic",
        "Vai",
        "Vithkuqi",
        "Wancho",
        "Warang_Citi",
        "Yezidi",
        "Yi",
        "Zanabazar_Square",
    ]
)

SHARED_SCRIPTS = frozenset({"Common", "Inherited"})
MIXED_SCRIPT = "Mixed"
NO_SCRIPT = "n/a"  # the token has no text of its own (special, byte fallback, partial UTF-8)
OTHER_SCRIPT = "Other"  # an assigned character of a script missing from UNICODE_SCRIPTS

KINDS = (
    "alphabetic",
    "numeric",
    "punctuation",
    "whitespace",
    "control",
    "mixed",
    "special",
    "byte_fallback",
    "partial_utf8",
)
POSITIONS = ("word_initial", "inner", "n/a")

_SCRIPT_PATTERN = regex.compile("|".join(rf"(?P<{name}>\p{{Script={name}}})" for name in UNICODE_SCRIPTS))
_ALPHABETIC = regex.compile(r"[\p{L}\p{M}]+")
_NUMERIC = regex.compile(r"\p{N}+")
_PUNCTUATION = regex.compile(r"[\p{P}\p{S}]+")
_WHITESPACE = regex.compile(r"\s+")
_CONTROL = regex.compile(r"\p{C}+")


@lru_cache(maxsize=1 << 17)
def char_script(char: str) -> str:
    """Unicode script name of one character (``'ж'`` -> ``'Cyrillic'``, ``'1'`` -> ``'Common'``)."""
    match = _SCRIPT_PATTERN.match(char)
    if match is None:
        return "Unknown" if regex.match(r"\p{Script=Unknown}", char) else OTHER_SCRIPT
    return match.lastgroup or OTHER_SCRIPT


def text_scripts(text: str) -> set[str]:
    """The non-shared scripts of ``text``'s characters (Common and Inherited dropped)."""
    return {s for s in map(char_script, set(text)) if s not in SHARED_SCRIPTS}


def text_script(text: str) -> str:
    """One script label for a text: its only non-shared script, ``Common``, or ``Mixed``."""
    scripts = text_scripts(text)
    if not scripts:
        return "Common"
    if len(scripts) == 1:
        return next(iter(scripts))
    return MIXED_SCRIPT


def text_kind(body: str) -> str:
    """Kind of a decoded token body (text after one leading space is removed); see the module docstring."""
    if not body:
        return "mixed"
    for kind, pattern in (
        ("alphabetic", _ALPHABETIC),
        ("numeric", _NUMERIC),
        ("whitespace", _WHITESPACE),
        ("punctuation", _PUNCTUATION),
        ("control", _CONTROL),
    ):
        if pattern.fullmatch(body):
            return kind
    return "mixed"


@dataclass(frozen=True)
class TokenClass:
    """The classes of one token.

    Attributes:
        id: token id.
        text: decoded text (None when the bytes are not valid UTF-8 on their own).
        body: ``text`` without one leading space ("" for textless tokens).
        kind, script, position: see the module docstring.
    """

    id: int
    text: str | None
    body: str
    kind: str
    script: str
    position: str


def _wordpiece_continuations(tokenizer: Any) -> frozenset[int] | None:
    """Ids of ``##`` pieces (WordPiece, or BPE with a continuing_subword_prefix), whose bytes do not show
    they are word-inner.

    ``token_bytes`` drops the ``##`` prefix; a tokenizer that knows its marked pieces lists them
    (``continuation_ids``), else for WordPiece the reference decoder is asked: HF's WordPiece decoder
    keeps the prefix on the first token of a sequence, so ``decode([id])`` shows it.
    """
    listed = getattr(tokenizer, "continuation_ids", None)
    if listed is not None:
        return listed
    info = getattr(tokenizer, "info", None)
    if info is None or getattr(info, "model", None) != "wordpiece":
        return None
    specials = set(tokenizer.special_by_id)
    return frozenset(
        i for i in range(tokenizer.vocab_size) if i not in specials and tokenizer.decode([i]).startswith("##")
    )


def classify_token(
    token_id: int,
    data: bytes,
    *,
    special: bool = False,
    byte_fallback: bool = False,
    continuation: bool | None = None,
) -> TokenClass:
    """Classify one token from its exact bytes.

    Args:
        token_id: the id (carried through to the result).
        data: ``Tokenizer.token_bytes(token_id)``.
        special: it is a control token.
        byte_fallback: it is a ``<0xNN>`` byte-fallback token.
        continuation: for vocabularies whose bytes hide the position (WordPiece), True for a
            word-inner piece and False for a word-initial one; None reads the position from a
            leading space.
    """
    if special or byte_fallback:
        kind = "special" if special else "byte_fallback"
        text = data.decode("utf-8", "replace") if special else None
        return TokenClass(token_id, text, "", kind, NO_SCRIPT, "n/a")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return TokenClass(token_id, None, "", "partial_utf8", NO_SCRIPT, "n/a")
    if continuation is None:
        initial = text.startswith(" ")
        body = text[1:] if initial else text
    else:
        initial = not continuation
        body = text
    # A run of spaces is whitespace, not a word-initial "space" token with a space body.
    kind = text_kind(body) if body.strip() or not text else "whitespace"
    position = "word_initial" if initial else "inner"
    return TokenClass(token_id, text, body, kind, text_script(text), position)


def classify_vocabulary(tokenizer: Any) -> list[TokenClass]:
    """:class:`TokenClass` of every id of a loaded tokenizer, in id order."""
    specials = set(tokenizer.special_by_id)
    fallback = set(tokenizer.byte_fallback_ids)
    continuations = _wordpiece_continuations(tokenizer)
    return [
        classify_token(
            i,
            data,
            special=i in specials,
            byte_fallback=i in fallback,
            continuation=None if continuations is None else i in continuations,
        )
        for i, data in enumerate(tokenizer.all_token_bytes)
    ]


def shares(counts: Mapping[str, float], total: float | None = None) -> dict[str, float]:
    """``counts`` as percentages of ``total`` (default: their sum), keys sorted, rounded to 1e-9."""
    total = sum(counts.values()) if total is None else total
    if not total:
        return {key: 0.0 for key in sorted(counts)}
    return {key: round(100.0 * counts[key] / total, 9) for key in sorted(counts)}


def _sorted_counts(counter: Counter) -> dict[str, int]:
    return {key: counter[key] for key in sorted(counter, key=lambda k: (-counter[k], k))}


def composition_of(classes: Sequence[TokenClass]) -> dict[str, Any]:
    """Counts and shares (percent of the whole vocabulary) per kind, script and position.

    Also: the scripts of alphabetic tokens by position (Qtok's ``unicode_stats``), and the most
    frequent script combinations of ``Mixed`` tokens.
    """
    kinds = Counter(c.kind for c in classes)
    scripts = Counter(c.script for c in classes)
    positions = Counter(c.position for c in classes)
    alpha_by_position: dict[str, Counter] = {"word_initial": Counter(), "inner": Counter()}
    for c in classes:
        if c.kind == "alphabetic":
            alpha_by_position[c.position][c.script] += 1
    mixes = Counter("+".join(sorted(text_scripts(c.text))) for c in classes if c.script == MIXED_SCRIPT and c.text)
    total = len(classes)
    return {
        "tokens": total,
        "kind_counts": {k: kinds.get(k, 0) for k in KINDS},
        "kind_percent": shares({k: kinds.get(k, 0) for k in KINDS}, total),
        "position_counts": {p: positions.get(p, 0) for p in POSITIONS},
        "position_percent": shares({p: positions.get(p, 0) for p in POSITIONS}, total),
        "script_counts": _sorted_counts(scripts),
        "script_percent": shares(scripts, total),
        "alphabetic_scripts_by_position": {pos: _sorted_counts(c) for pos, c in alpha_by_position.items()},
        "mixed_script_combinations": dict(list(_sorted_counts(mixes).items())[:20]),
    }


def language_distribution(
    classes: Iterable[TokenClass],
    lexicons: Mapping[str, Any],
    *,
    min_chars: int = 2,
) -> dict[str, Any]:
    """Languages of the alphabetic tokens, estimated from lexicons; shares sum to 100%.

    Each alphabetic token counts once in total. A token whose body (case-folded per language, see
    :meth:`tokensmith.metrics.lexicon.Lexicon.contains`) is a word of k lexicons adds 1/k to each of
    those languages; a token in no lexicon goes to ``unknown``; a body shorter than ``min_chars``
    characters (single letters are words in many languages and say nothing) goes to ``short``.

    Args:
        classes: token classes (only ``kind == "alphabetic"`` ones are counted).
        lexicons: language tag -> object with ``contains(word) -> bool`` (a :class:`Lexicon`).
        min_chars: shortest body that is looked up.
    """
    weights: dict[str, float] = {lang: 0.0 for lang in lexicons}
    weights["unknown"] = 0.0
    weights["short"] = 0.0
    # Integer numerators per k keep the sum exact before the final division.
    per_lang_fraction: dict[str, Counter] = {lang: Counter() for lang in lexicons}
    alphabetic = 0
    ambiguous = 0
    for c in classes:
        if c.kind != "alphabetic":
            continue
        alphabetic += 1
        if len(unicodedata.normalize("NFC", c.body)) < min_chars:
            weights["short"] += 1
            continue
        found = [lang for lang, lexicon in lexicons.items() if lexicon.contains(c.body)]
        if not found:
            weights["unknown"] += 1
            continue
        ambiguous += len(found) > 1
        for lang in found:
            per_lang_fraction[lang][len(found)] += 1
    for lang, by_k in per_lang_fraction.items():
        weights[lang] = sum(n / k for k, n in by_k.items())
    ordered = dict(sorted(weights.items(), key=lambda kv: (-kv[1], kv[0])))
    return {
        "alphabetic_tokens": alphabetic,
        "in_several_lexicons": ambiguous,
        "min_chars": min_chars,
        "rule": "a token found in k lexicons adds 1/k to each; 'unknown' = in none; 'short' = body < min_chars",
        "weights": {k: round(v, 9) for k, v in ordered.items()},
        "percent": shares(ordered, alphabetic),
    }


def vocab_composition(tokenizer: Any, lexicon_dir: str | None = None, *, min_chars: int = 2) -> dict[str, Any]:
    """Composition of a tokenizer's vocabulary as a plain JSON dict.

    Args:
        tokenizer: a loaded :class:`tokensmith.tokenizers.base.Tokenizer`.
        lexicon_dir: folder of ``<lang>.txt`` word lists or hunspell ``<lang>.dic`` files; adds the
            language distribution of alphabetic tokens.
        min_chars: shortest alphabetic body looked up in the lexicons.
    """
    classes = classify_vocabulary(tokenizer)
    result = {"tokenizer": tokenizer.name, "vocab_size": tokenizer.vocab_size, **composition_of(classes)}
    if lexicon_dir is not None:
        from tokensmith.metrics.lexicon import load_lexicon_dir

        bodies = {c.body for c in classes if c.kind == "alphabetic"}
        lexicons = load_lexicon_dir(lexicon_dir, keep=bodies)
        result["languages"] = language_distribution(classes, lexicons, min_chars=min_chars)
        result["languages"]["lexicons"] = {lang: lex.describe() for lang, lex in lexicons.items()}
    return result


def canonical_forms(tokenizer: Any, *, include_special: bool = False) -> set[bytes]:
    """The set of exact byte forms of a vocabulary (the comparable identity of a token across formats).

    Special tokens are left out unless asked for: their text is a convention, not vocabulary.
    """
    specials = set(tokenizer.special_by_id)
    return {data for i, data in enumerate(tokenizer.all_token_bytes) if include_special or i not in specials}


def compare_vocabularies(a: Any, b: Any) -> dict[str, Any]:
    """Overlap of two vocabularies on canonical byte forms, and their tokens per script.

    Returns a dict with the size of each byte-form set, the intersection, the union, the Jaccard
    index |A∩B|/|A∪B|, the share of each vocabulary found in the other, and the shared tokens per
    script (the script of the shared byte form).
    """
    forms_a, forms_b = canonical_forms(a), canonical_forms(b)
    shared = forms_a & forms_b
    union = forms_a | forms_b
    shared_scripts: Counter = Counter()
    for data in shared:
        try:
            shared_scripts[text_script(data.decode("utf-8"))] += 1
        except UnicodeDecodeError:
            shared_scripts[NO_SCRIPT] += 1
    scripts_a = Counter(c.script for c in classify_vocabulary(a))
    scripts_b = Counter(c.script for c in classify_vocabulary(b))
    return {
        "a": a.name,
        "b": b.name,
        "forms_a": len(forms_a),
        "forms_b": len(forms_b),
        "shared": len(shared),
        "union": len(union),
        "jaccard": round(len(shared) / len(union), 9) if union else 0.0,
        "share_of_a_in_b": round(len(shared) / len(forms_a), 9) if forms_a else 0.0,
        "share_of_b_in_a": round(len(shared) / len(forms_b), 9) if forms_b else 0.0,
        "shared_by_script": _sorted_counts(shared_scripts),
        "scripts": {
            script: {"a": scripts_a.get(script, 0), "b": scripts_b.get(script, 0)}
            for script in sorted(set(scripts_a) | set(scripts_b), key=lambda s: (-scripts_a[s] - scripts_b[s], s))
        },
    }
