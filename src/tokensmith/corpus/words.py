"""Per-language word segmentation, the denominator of fertility (tokens per word).

``word_segmenter(lang)`` returns a :class:`WordSegmenter` or a :class:`NotApplicable` with the reason;
a wrong word count is never returned silently:

* languages with a registered segmenter (:data:`SEGMENTERS`): zh via ``rjieba``, ja via ``fugashi`` +
  ``unidic-lite``, th via ``pythainlp`` (newmm). Missing package -> NotApplicable naming the extra.
* languages known to be written without spaces but without a segmenter here (Khmer, Lao, Burmese,
  Tibetan...) -> NotApplicable.
* every other language: Unicode default word boundaries (UAX #29, the ``regex`` module's WORD mode),
  unless a sample of the text is mostly in scripts written without spaces (the script guard).

A *word* is a segment that contains at least one letter or decimal digit; punctuation, spaces and
symbols are not words. Segmenters return ``Counter[str]`` of word types so that
:class:`tokensmith.metrics.stats.WordSplitter` encodes each type once.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import regex

from tokensmith.registry import Registry

WORDS_EXTRA = "words"
INSTALL_HINT = f"install tokensmith[{WORDS_EXTRA}]"

#: A UAX #29 word segment that starts at a word character: a letter, mark, decimal digit or connector
#: (``\w``), continued up to the next default word boundary (``(?w)`` makes ``\b``/``\B`` follow UAX #29).
#: Not anchored at a boundary on the left, so a word behind a format character (U+200F...) is kept.
_UAX29_WORD = regex.compile(r"(?w)\w(?:\B.)*")
#: Marks and format characters opening a whitespace-delimited chunk: in running text UAX #29 attaches
#: them to the preceding space (rule WB4), so they belong to no word.
_LEADING_EXTEND = regex.compile(r"^[\p{WB=Extend}\p{WB=Format}\p{WB=ZWJ}]+")
_HAS_LETTER_OR_DIGIT = regex.compile(r"[\p{L}\p{Nd}]")

#: Scripts whose text has no spaces between words: UAX #29 alone would make each character a "word".
UNSPACED_SCRIPTS = ("Han", "Hiragana", "Katakana", "Thai", "Lao", "Khmer", "Myanmar", "Tibetan")
_UNSPACED_CHAR = regex.compile("[" + "".join(rf"\p{{{s}}}" for s in UNSPACED_SCRIPTS) + "]")
_LETTER = regex.compile(r"\p{L}")

#: Share of letters in unspaced scripts above which the Unicode segmenter refuses a text.
UNSPACED_SHARE_LIMIT = 0.5

#: Characters of sample text the script guard inspects.
GUARD_SAMPLE_CHARS = 200_000

#: Languages written without spaces for which no segmenter is registered (ISO 639-1/-3 primary subtags).
UNSPACED_LANGUAGES = {
    "km": "Khmer", "khm": "Khmer", "lo": "Lao", "lao": "Lao", "my": "Burmese", "mya": "Burmese",
    "bo": "Tibetan", "bod": "Tibetan", "dz": "Dzongkha", "dzo": "Dzongkha", "shn": "Shan",
    "yue": "Cantonese", "wuu": "Wu Chinese", "lzh": "Literary Chinese", "nan": "Min Nan", "hak": "Hakka",
}  # fmt: skip

#: Cache of chunk -> words per segmenter; cleared when it grows past this many entries (memory bound).
CHUNK_CACHE_LIMIT = 1 << 20


@dataclass(frozen=True)
class NotApplicable:
    """Words cannot be counted for this language: ``reason`` says why (goes to ``mark_words_not_applicable``)."""

    lang: str
    reason: str

    def __bool__(self) -> bool:
        return False


@runtime_checkable
class WordSegmenter(Protocol):
    """Splits text into words.

    Attributes:
        name: the method, for provenance (``"uax29"``, ``"rjieba"``...).
        lang: the language tag it was made for.
        spaced: words are separated by spaces in running text, so a tokenizer sees them after a
            space (``WordSplitter(leading_space=None)`` probes); False for zh/ja/th.
    """

    name: str
    lang: str
    spaced: bool

    def segment(self, text: str) -> list[str]:
        """The words of ``text`` in order."""
        ...

    def count_words(self, texts: Iterable[str]) -> Counter[str]:
        """Occurrences of every word type in a batch of documents."""
        ...


def _is_word(segment: str) -> bool:
    return _HAS_LETTER_OR_DIGIT.search(segment) is not None


class UnicodeWordSegmenter:
    """UAX #29 default word boundaries, for languages written with spaces.

    ``count_words`` splits the batch on whitespace with ``str.split`` (C speed; UAX #29 never joins
    across whitespace), counts the chunks, and runs the boundary regex once per *distinct* chunk
    (cached), so the cost grows with the vocabulary, not with the text.
    """

    name = "uax29"
    spaced = True

    def __init__(self, lang: str = "und") -> None:
        self.lang = lang
        self._chunk_words: dict[str, str | tuple[str, ...]] = {}

    def segment(self, text: str) -> list[str]:
        return [w for w in _UAX29_WORD.findall(text) if _is_word(w)]

    def _words_of_chunk(self, chunk: str) -> str | tuple[str, ...]:
        body = _LEADING_EXTEND.sub("", chunk, count=1)
        words = tuple(w for w in _UAX29_WORD.findall(body) if _is_word(w))
        return chunk if words == (chunk,) else words  # most chunks are one word: store no tuple

    def count_words(self, texts: Iterable[str]) -> Counter[str]:
        if len(self._chunk_words) > CHUNK_CACHE_LIMIT:
            self._chunk_words.clear()
        cache = self._chunk_words
        chunks = Counter(itertools.chain.from_iterable(map(str.split, texts)))
        counts: Counter[str] = Counter()
        for chunk, n in chunks.items():
            words = cache.get(chunk)
            if words is None:
                words = cache[chunk] = self._words_of_chunk(chunk)
            if words.__class__ is str:
                counts[words] += n
            else:
                for word in words:
                    counts[word] += n
        return counts


class _ToolSegmenter:
    """Shared ``count_words`` of segmenters for unspaced scripts: segment each text, keep words."""

    spaced = False

    def __init__(self, lang: str, split: Callable[[str], Iterable[str]], *, name: str) -> None:
        self.lang = lang
        self.name = name
        self._split = split

    def segment(self, text: str) -> list[str]:
        return [w for w in self._split(text) if _is_word(w)]

    def count_words(self, texts: Iterable[str]) -> Counter[str]:
        counts = Counter(itertools.chain.from_iterable(map(self._split, texts)))
        for segment in [s for s in counts if not _is_word(s)]:
            del counts[segment]
        return counts


# -- registered segmenters ----------------------------------------------------------------------
class MissingSegmenter(Exception):
    """Raised by a factory whose package is not installed; becomes a NotApplicable."""

    def __init__(self, package: str) -> None:
        super().__init__(package)
        self.package = package


def _chinese(lang: str) -> WordSegmenter:
    try:
        import rjieba
    except ImportError:
        raise MissingSegmenter("rjieba") from None
    return _ToolSegmenter(lang, rjieba.cut, name="rjieba")


@functools.lru_cache(maxsize=1)
def _mecab_tagger():
    import fugashi  # unidic-lite is found by fugashi when installed

    return fugashi.Tagger("-Owakati")


def _japanese(lang: str) -> WordSegmenter:
    try:
        tagger = _mecab_tagger()
    except ImportError:
        raise MissingSegmenter("fugashi") from None
    except RuntimeError:  # fugashi without a dictionary
        raise MissingSegmenter("unidic-lite") from None

    def split(text: str) -> list[str]:
        # MeCab reads one sentence per call; per line keeps it from joining words across line breaks.
        return [w for line in text.splitlines() for w in tagger.parse(line).split(" ")]

    return _ToolSegmenter(lang, split, name="fugashi-unidic-lite")


def _thai(lang: str) -> WordSegmenter:
    try:
        from pythainlp.tokenize import word_tokenize
    except ImportError:
        raise MissingSegmenter("pythainlp") from None

    def split(text: str) -> list[str]:
        return word_tokenize(text, engine="newmm", keep_whitespace=False)

    return _ToolSegmenter(lang, split, name="pythainlp-newmm")


#: Primary language subtag -> factory of its segmenter (may raise :class:`MissingSegmenter`).
SEGMENTERS: Registry[Callable[[str], WordSegmenter]] = Registry("word segmenter")
SEGMENTERS.add("zh", _chinese)
SEGMENTERS.add("ja", _japanese)
SEGMENTERS.add("th", _thai)

#: Other codes of the registered languages (ISO 639-2/3).
LANGUAGE_ALIASES = {"zho": "zh", "chi": "zh", "cmn": "zh", "jpn": "ja", "tha": "th"}


def primary_subtag(lang: str) -> str:
    """``"zh"`` for ``"zh-Hant-TW"``, ``"zh_CN"`` or ``"ZH"``; aliases (``cmn``, ``jpn``) mapped."""
    primary = lang.replace("_", "-").split("-", 1)[0].lower()
    return LANGUAGE_ALIASES.get(primary, primary)


def unspaced_share(texts: Iterable[str], max_chars: int = GUARD_SAMPLE_CHARS) -> float:
    """Share of the letters of ``texts`` (first ``max_chars`` characters) in scripts written without spaces."""
    sample = "".join(itertools.islice(itertools.chain.from_iterable(texts), max_chars))
    letters = len(_LETTER.findall(sample))
    return len(_UNSPACED_CHAR.findall(sample)) / letters if letters else 0.0


def script_guard(lang: str, texts: Iterable[str]) -> NotApplicable | None:
    """NotApplicable when ``texts`` are mostly in scripts without spaces (for a language with no segmenter)."""
    share = unspaced_share(texts)
    if share > UNSPACED_SHARE_LIMIT:
        return NotApplicable(
            lang,
            f"{share:.0%} of the letters of this {lang!r} text are in scripts written without spaces "
            f"({', '.join(UNSPACED_SCRIPTS)}) and no word segmenter is registered for {lang!r}; "
            "tag the corpus with its language (zh, ja or th have segmenters)",
        )
    return None


def word_segmenter(lang: str | None, sample: Iterable[str] | None = None) -> WordSegmenter | NotApplicable:
    """The word segmenter for ``lang``, or why words cannot be counted.

    Args:
        lang: BCP 47 tag (``"de"``, ``"zh-TW"``, ``"und"``...); None means undetermined.
        sample: some documents of the corpus (the first batch). When given and the language has no
            registered segmenter, the script guard checks them (needed for ``"und"`` corpora).

    Returns:
        A :class:`WordSegmenter`, or :class:`NotApplicable` (falsy) with the reason.
    """
    lang = lang or "und"
    primary = primary_subtag(lang)
    if primary in SEGMENTERS:
        try:
            return SEGMENTERS.get(primary)(lang)
        except MissingSegmenter as missing:
            return NotApplicable(
                lang, f"word segmentation for {lang!r} needs {missing.package}, which is not installed: {INSTALL_HINT}"
            )
    if primary in UNSPACED_LANGUAGES:
        return NotApplicable(
            lang,
            f"{UNSPACED_LANGUAGES[primary]} ({lang!r}) is written without spaces between words and tokensmith "
            "has no word segmenter for it",
        )
    if sample is not None:
        refused = script_guard(lang, sample)
        if refused is not None:
            return refused
    return UnicodeWordSegmenter(lang)


__all__ = [
    "SEGMENTERS",
    "NotApplicable",
    "UnicodeWordSegmenter",
    "WordSegmenter",
    "primary_subtag",
    "script_guard",
    "unspaced_share",
    "word_segmenter",
]
