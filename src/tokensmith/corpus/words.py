"""Per-language word segmentation, the denominator of fertility (tokens per word).

``word_segmenter(lang)`` returns a :class:`WordSegmenter` or a :class:`NotApplicable` with the reason;
a wrong word count is never returned silently:

* languages with a registered segmenter (:data:`SEGMENTERS`): zh via ``rjieba``, ja via ``fugashi`` +
  ``unidic-lite``, th via ``pythainlp`` (newmm); each leaves the text between its words to UAX #29.
  Missing package -> NotApplicable naming the extra.
* languages known to be written without spaces but without a segmenter here (Khmer, Lao, Burmese,
  Tibetan...) -> NotApplicable, unless the tag names a spaced script (``bo-Latn``; so do ``zh-Latn``,
  ``ja-Latn``, which get no zh/ja segmenter) or the text is in spaced scripts (romanised Tibetan tagged
  ``bo``): UAX #29 as below.
* every other language: Unicode default word boundaries (UAX #29, the ``regex`` module's WORD mode),
  unless more than :data:`UNSPACED_SHARE_LIMIT` of the letters of a sample of the text are in scripts
  written without spaces (the script guard).

The script guard also holds a registered segmenter to the scripts it segments (a Burmese text tagged
``zh`` is refused, not cut into one "word" per letter), and :class:`ScriptTally` applies it to a whole
corpus, batch by batch, since a corpus may change script after its first batch (a folder of languages).

A *word* is a segment that contains at least one letter or decimal digit; punctuation, spaces and
symbols are not words. Segmenters return ``Counter[str]`` of word types so that
:class:`tokensmith.metrics.word_split.WordSplitter` encodes each type once.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import regex

from tokensmith.corpus.language_tags import canonical_language
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
#: The same at the start of every line (chunks joined one per line).
_LEADING_EXTEND_LINES = regex.compile(r"(?m)^[\p{WB=Extend}\p{WB=Format}\p{WB=ZWJ}]+")
_HAS_LETTER_OR_DIGIT = regex.compile(r"[\p{L}\p{Nd}]")
#: Whitespace that UAX #29 joins words across: U+202F NARROW NO-BREAK SPACE is ExtendNumLet (WB13a/b), so
#: ``1\u202f234`` (French thousands) and a Mongolian stem and suffix are one word each. At a word's end it is
#: spacing (French ``Bonjour\u202f!``), not part of the word: it is trimmed there.
JOINING_SPACES = "\u202f"

#: Scripts whose text has no spaces between words: UAX #29 alone would make each character a "word"
#: (Han, kana, Tangut, Nushu, Khitan Small Script and the Southeast Asian scripts of line-break class SA:
#: Thai... Ahom), or a whole phrase between two spaces a "word" (Tibetan, Yi, and the scriptio continua
#: of Javanese, Balinese, Buginese, Batak, Makasar and Kawi).
UNSPACED_SCRIPTS = (
    "Han", "Hiragana", "Katakana", "Thai", "Lao", "Khmer", "Myanmar", "Tai_Le", "New_Tai_Lue", "Tai_Tham",
    "Tai_Viet", "Ahom", "Tibetan", "Yi", "Javanese", "Balinese", "Buginese", "Batak", "Makasar", "Kawi",
    "Tangut", "Nushu", "Khitan_Small_Script",
)  # fmt: skip

#: Share of letters in unspaced scripts (that the segmenter does not segment) above which a text is refused.
#: Every such letter may be counted as a word of its own (UAX #29 cuts Han and Khmer text into single
#: characters or clusters), so the word count is off by about as many words as those letters make: an English
#: text whose letters are 3% Chinese counts ~7% too many words, 8% Chinese ~15%; Khmer twice that. Below
#: 2% the error stays within a few percent (stray names and quotations: 0.2% in a Korean legal corpus).
UNSPACED_SHARE_LIMIT = 0.02

#: Characters of sample text the script guard inspects (per batch, for :class:`ScriptTally`).
GUARD_SAMPLE_CHARS = 200_000
#: The sample is this many windows spread evenly over the text, so text after its start is seen too.
GUARD_SAMPLE_WINDOWS = 64

#: Languages written without spaces for which no segmenter is registered (primary subtags of canonical tags:
#: :func:`primary_subtag` turns ``khm`` into ``km``).
UNSPACED_LANGUAGES = {
    "km": "Khmer", "lo": "Lao", "my": "Burmese", "bo": "Tibetan", "dz": "Dzongkha", "shn": "Shan",
    "ii": "Nuosu (Yi)", "blt": "Tai Dam", "khb": "Tai Lue", "kkh": "Khun", "nod": "Northern Thai",
    "yue": "Cantonese", "wuu": "Wu Chinese", "lzh": "Literary Chinese", "nan": "Min Nan", "hak": "Hakka",
}  # fmt: skip

#: A word by the definition above that UAX #29 never breaks: a letter or decimal digit, then letters,
#: digits, marks and format characters (ALetter and Numeric runs stay whole, rules WB5 and WB8-WB10;
#: WB4 attaches marks and format characters to what precedes them). Hebrew letters are left out (WB7a
#: keeps a quote after them).
CORE_FIRST = r"[[\p{WB=ALetter}\p{WB=Numeric}]&&[\p{L}\p{Nd}]]"
CORE_REST = r"[\p{WB=ALetter}\p{WB=Numeric}\p{WB=Extend}\p{WB=Format}\p{WB=ZWJ}]"
#: ASCII punctuation whose word-break class is Other: no rule joins it to anything, so it always
#: separates words (unlike ``.,;:'"_``, which can join letters or digits).
SEPARATOR = r"[()\[\]{}<>=+\-*/\\|&%$#@!?~^`]"
#: Punctuation that joins nothing at a chunk's edge (opening before the first word, closing after the
#: last one): a chunk ``LEAD* CORE_FIRST CORE_REST* TAIL*`` is one *plain* word (the common case), and a
#: chunk whose pieces between separators (``well-known``, ``and/or``) are each plain or punctuation only
#: holds their words; found in compiled code by :func:`tokensmith.corpus.chunk_words.chunk_words`. A
#: differential test holds it and the batched full rules to the per-chunk full rules (words_of_chunk) on the
#: text of every language in ../shared/data and on generated chunks.
LEAD = SEPARATOR[:-1] + r"""'"¿¡«“‘„""" + "]"
TAIL = SEPARATOR[:-1] + r""".,;:'"»”’…،؛؟।""" + "]"


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
        segmented_scripts: the scripts of :data:`UNSPACED_SCRIPTS` it really segments into words (text
            in the others would come out one "word" per letter: the script guard refuses it).
    """

    name: str
    lang: str
    spaced: bool
    segmented_scripts: tuple[str, ...]

    def segment(self, text: str) -> list[str]:
        """The words of ``text`` in order."""
        ...

    def count_words(self, texts: Iterable[str]) -> Counter[str]:
        """Occurrences of every word type in a batch of documents."""
        ...

    def new_units(self) -> Any:
        """An empty table of units (a ``Counter`` or a compiled table) for :meth:`count_units`; ``len()`` of
        it is the number of distinct units."""
        ...

    def count_units(self, texts: Iterable[str], into: Any) -> None:
        """Add the segmenter's units of ``texts`` (chunks or segments, not yet words) to ``into``.

        Counting units first and converting each distinct one with :meth:`words_of_units` is how a
        whole corpus is counted: the per-unit work is done once per distinct unit.
        """
        ...

    def words_of_units(self, units: Any) -> Mapping[str, int]:
        """Word counts of unit counts made by :meth:`count_units`."""
        ...


def _is_word(segment: str) -> bool:
    return _HAS_LETTER_OR_DIGIT.search(segment) is not None


def _uax29_segments(text: str) -> list[str]:
    """The UAX #29 segments of ``text`` that start at a word character, without a trailing
    :data:`JOINING_SPACES`."""
    segments = _UAX29_WORD.findall(text)
    if JOINING_SPACES in text:
        return [segment.rstrip(JOINING_SPACES) for segment in segments]
    return segments


@functools.cache
def _unsegmented_scripts(segmented: tuple[str, ...]) -> tuple[str, ...]:
    """The unspaced scripts a segmenter of ``segmented`` scripts leaves unsegmented."""
    return tuple(s for s in UNSPACED_SCRIPTS if s not in segmented)


_LETTER = regex.compile(r"\p{L}")


@functools.cache
def _letter_script(code_point: int) -> str | None:
    """``""`` for a letter in no unspaced script, the unspaced script of a letter, None for a non-letter.

    Combining vowel signs (Thai, Khmer) are marks, not letters, so they count for no script.
    """
    character = chr(code_point)
    if _LETTER.match(character) is None:
        return None
    return next((s for s in UNSPACED_SCRIPTS if _script_pattern(s).match(character)), "")


def _spread_sample(texts: list[str], max_chars: int) -> tuple[str, int]:
    """About ``max_chars`` characters of ``texts`` in :data:`GUARD_SAMPLE_WINDOWS` windows spread evenly
    over them, and the number of characters they stand for."""
    joined = "\n".join(texts)
    if len(joined) <= max_chars:
        return joined, len(joined)
    width = max(1, max_chars // GUARD_SAMPLE_WINDOWS)
    stride = len(joined) // GUARD_SAMPLE_WINDOWS
    return "".join(joined[start:start + width] for start in range(0, len(joined), stride)), len(joined)


@functools.cache
def _script_pattern(script: str) -> regex.Pattern:
    return regex.compile(rf"\p{{{script}}}")


def _letter_counts(sample: str, segmented: tuple[str, ...]) -> tuple[int, int, set[str]]:
    """``(letters, letters in unspaced scripts other than segmented, those scripts)`` of ``sample``."""
    # A histogram of code points, then a class per distinct code point (cached): a regex over every
    # character of every batch's sample was a quarter of measure's word counting (2.5 s on 122 MB).
    code_points = np.frombuffer(sample.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    histogram = np.bincount(code_points) if code_points.size else np.zeros(0, dtype=np.int64)
    unsegmented_scripts = _unsegmented_scripts(segmented)
    letters = unsegmented = 0
    found: set[str] = set()
    for code_point in np.flatnonzero(histogram).tolist():
        script = _letter_script(code_point)
        if script is None:
            continue
        count = int(histogram[code_point])
        letters += count
        if script and script in unsegmented_scripts:
            unsegmented += count
            found.add(script)
    return letters, unsegmented, found


class ScriptTally:
    """The script guard over a whole corpus: its letters, and those in unspaced scripts its segmenter does
    not segment, estimated from a spread sample of every batch (scaled to the batch's size).

    Args:
        segmented: the unspaced scripts the corpus' segmenter segments (``WordSegmenter.segmented_scripts``).
    """

    def __init__(self, segmented: tuple[str, ...] = ()) -> None:
        self.segmented = tuple(segmented)
        self.letters = 0.0
        self.unsegmented = 0.0
        self.scripts: set[str] = set()  # the unsegmented scripts met

    def add(self, texts: Iterable[str], max_chars: int = GUARD_SAMPLE_CHARS) -> ScriptTally:
        sample, represented = _spread_sample(list(texts), max_chars)
        letters, unsegmented, scripts = _letter_counts(sample, self.segmented)
        self.scripts |= scripts
        scale = represented / len(sample) if sample else 0.0
        self.letters += letters * scale
        self.unsegmented += unsegmented * scale
        return self

    @property
    def share(self) -> float:
        """Share of the letters in unspaced scripts left unsegmented (0 for text without letters)."""
        return self.unsegmented / self.letters if self.letters else 0.0

    def refusal(self, lang: str, segmenter: str) -> NotApplicable | None:
        """NotApplicable when more than :data:`UNSPACED_SHARE_LIMIT` of the letters are in unspaced scripts
        that ``segmenter`` would cut into one "word" per letter (or cluster)."""
        if self.share <= UNSPACED_SHARE_LIMIT:
            return None
        scripts = ", ".join(s.replace("_", " ") for s in UNSPACED_SCRIPTS if s in self.scripts)
        if not self.segmented and primary_subtag(lang) == "und":
            advice = "tag the corpus with its language (zh, ja or th have segmenters)"
        elif not self.segmented and primary_subtag(lang) in SEGMENTERS:  # zh-Latn on text in Han
            advice = (f"the tag names a script written with spaces ({script_subtag(lang)}): tag the corpus "
                      f"{primary_subtag(lang)!r} if its text is not in that script")
        elif not self.segmented and self.share > 0.5:  # a tagged text in those scripts (jv in Javanese script)
            advice = "if the text is Chinese, Japanese or Thai, tag it zh, ja or th (they have segmenters)"
        elif not self.segmented:  # a few lines in another script, in a text of its own language
            advice = ("measure the text in those scripts as a corpus of its own, tagged with its language "
                      "(zh, ja or th have segmenters)")
        else:
            advice = f"{segmenter} segments only {', '.join(self.segmented)}: check the corpus' language tag"
        return NotApplicable(
            lang,
            f"{self.share:.1%} of the letters of this {lang!r} text are in scripts written without spaces "
            f"between words ({scripts}) and no word segmenter for them is registered for {lang!r}, which would "
            f"count their words wrong (refused above {UNSPACED_SHARE_LIMIT:.0%}); {advice}",
        )


class UnicodeWordSegmenter:
    """UAX #29 default word boundaries, for languages written with spaces.

    Counting works on whitespace-delimited *chunks* (UAX #29 never joins across whitespace but U+202F, which
    chunks keep whole): ``count_units`` counts the chunks of documents, ``words_of_units`` segments each
    *distinct* chunk once, so the cost grows with the vocabulary, not with the text. Both run in compiled code
    (:mod:`tokensmith.corpus.chunk_words`) but for the chunks that are not one plain word, which take the
    full rules here (:meth:`full_rule_words`).
    """

    name = "uax29"
    spaced = True
    segmented_scripts: tuple[str, ...] = ()

    def __init__(self, lang: str = "und") -> None:
        self.lang = lang

    def segment(self, text: str) -> list[str]:
        return [w for w in _uax29_segments(text) if _is_word(w)]

    def words_of_chunk(self, chunk: str) -> tuple[str, ...]:
        """The words of one whitespace-free chunk, by the full UAX #29 rules."""
        body = _LEADING_EXTEND.sub("", chunk, count=1)
        return tuple(w for w in _uax29_segments(body) if _is_word(w))

    def new_units(self) -> Any:
        """An empty :class:`~tokensmith.corpus.chunk_words.ChunkCounts`."""
        from tokensmith.corpus.chunk_words import ChunkCounts

        return ChunkCounts()

    def count_units(self, texts: Iterable[str], into: Any) -> None:
        into.add(texts)

    def words_of_units(self, chunks: Any) -> Mapping[str, int]:
        """Word counts of :meth:`new_units`' chunk counts, or of any ``chunk -> count`` mapping."""
        from tokensmith.corpus.chunk_words import ChunkCounts, chunk_words

        if not isinstance(chunks, ChunkCounts):
            chunks = ChunkCounts.of(chunks)
        return chunk_words(chunks, self.full_rule_words)

    def full_rule_words(self, chunks: list[str], counts: list[int]) -> Counter[str]:
        """Word counts of ``chunks`` (``counts[i]`` times chunk ``i``) by the full rules: one regex pass over
        the chunks of each count, one per line (a line break is a hard word boundary, so a line's words are
        its chunk's), scaled once per count, instead of calls per chunk."""
        by_count: dict[int, list[str]] = {}
        for chunk, n in zip(chunks, counts, strict=True):
            group = by_count.get(n)
            if group is None:
                by_count[n] = [chunk]
            else:
                group.append(chunk)
        total: Counter[str] = Counter()
        for n, group in by_count.items():
            words = self._count_chunk_words(group)
            if n == 1:
                total.update(words)
            else:
                for word, k in words.items():
                    total[word] += k * n
        return total

    def _count_chunk_words(self, chunks: list[str]) -> Counter[str]:
        """Words of ``chunks``, each counted once per chunk it occurs in."""
        lines = "\n".join(chunks)
        if lines.count("\n") != len(chunks) - 1:  # a chunk holding a line break (never one of count_units')
            words: Counter[str] = Counter()
            for chunk in chunks:
                words.update(self.words_of_chunk(chunk))
            return words
        segments = Counter(_uax29_segments(_LEADING_EXTEND_LINES.sub("", lines)))
        for segment in [s for s in segments if not _is_word(s)]:
            del segments[segment]
        return segments

    def count_words(self, texts: Iterable[str]) -> Counter[str]:
        chunks = self.new_units()
        self.count_units(texts, chunks)
        return Counter(self.words_of_units(chunks))


class _ToolSegmenter:
    """Shared counting of segmenters for unspaced scripts: segment each line, keep words.

    Units are lines: no word spans a line break (MeCab reads one sentence per call anyway), and UI
    strings or boilerplate repeat, so each distinct line is segmented once.
    """

    spaced = False

    def __init__(self, lang: str, split: Callable[[str], Iterable[str]], *, name: str,
                 segmented_scripts: tuple[str, ...]) -> None:
        self.lang = lang
        self.name = name
        self.segmented_scripts = segmented_scripts
        self._split = split

    def segment(self, text: str) -> list[str]:
        return [w for line in text.splitlines() for w in self._split(line) if _is_word(w)]

    def new_units(self) -> Counter[str]:
        return Counter()

    def count_units(self, texts: Iterable[str], into: Counter[str]) -> None:
        into.update(itertools.chain.from_iterable(map(str.splitlines, texts)))

    def words_of_units(self, lines: Mapping[str, int]) -> Counter[str]:
        segments: dict[str, int] = {}
        get = segments.get
        for line, n in lines.items():
            for segment in self._split(line):
                segments[segment] = get(segment, 0) + n
        return Counter({s: n for s, n in segments.items() if _is_word(s)})

    def count_words(self, texts: Iterable[str]) -> Counter[str]:
        lines: Counter[str] = Counter()
        self.count_units(texts, lines)
        return self.words_of_units(lines)


# -- registered segmenters ----------------------------------------------------------------------
class MissingSegmenter(Exception):
    """Raised by a factory whose package is not installed; becomes a NotApplicable."""

    def __init__(self, package: str) -> None:
        super().__init__(package)
        self.package = package


class _OtherTextByUax29:
    """A segmenter's cut of a line, with the text between its words in its own scripts re-cut by UAX #29.

    jieba and MeCab know their scripts and ASCII; around other letters and around ASCII punctuation they
    cut where a spaced text is not cut: jieba makes ``Pok``, ``é``, ``mon`` of ``Pokémon`` (Cyrillic, Hangul
    and pinyin one letter at a time), both cut ``12,000`` at its comma, MeCab makes ``2``, ``5`` of ``2.5``
    and ``GPT``, ``4``, ``o`` of ``GPT-4o``. In each run of text without a character of the segmenter's
    scripts where it may cut so, its pieces (found in the line, since MeCab drops spaces) are replaced by
    the UAX #29 words of the text they cover; pieces holding such a character (``T恤``, ``卡拉OK``'s
    ``卡拉``) stay the segmenter's.

    Args:
        native: characters of the segmenter's scripts (a piece holding one is its word).
        may_miscut: where in a line the segmenter may cut otherwise than UAX #29; lines without a match
            keep the segmenter's cut as it is (most lines: the check is cheaper than the regrouping).
    """

    def __init__(self, lang: str, native: str, may_miscut: str) -> None:
        self._may_miscut = regex.compile(may_miscut)
        self._other_runs = regex.compile(rf"[^{native[1:-1]}]+")  # maximal runs of other text, spaces included
        self._others = UnicodeWordSegmenter(lang)

    def __call__(self, line: str, pieces: list[str]) -> list[str]:
        if self._may_miscut.search(line) is None:
            return pieces
        regions = [run.span() for run in self._other_runs.finditer(line) if self._may_miscut.search(line, *run.span())]
        starts, ends, position = [], [], 0
        for piece in pieces:
            start = line.find(piece, position)
            if start < 0:  # not the line's own text: keep the segmenter's cut
                return pieces
            position = start + len(piece)
            starts.append(start)
            ends.append(position)
        words: list[str] = []
        kept = 0  # pieces before this one are in words already
        for region_start, region_end in regions:  # the pieces inside a region give way to its UAX #29 words
            first = bisect.bisect_left(starts, region_start, lo=kept)
            last = bisect.bisect_right(ends, region_end, lo=first)
            if first < last:
                words.extend(pieces[kept:first])
                words.extend(self._others.segment(line[starts[first]:ends[last - 1]]))
                kept = last
        words.extend(pieces[kept:])
        return words


def _may_miscut(native: str, whole_runs: str) -> str:
    """A letter, mark or digit outside ``native`` beside a character that is neither ``native``, a space
    nor in ``whole_runs`` (characters the segmenter keeps in one word when they run together)."""
    word_char = rf"[[\p{{L}}\p{{M}}\p{{N}}]--{native}]"
    other = rf"[^\s{native[1:-1]}{whole_runs}]"
    return rf"(?V1){word_char}{other}|{other}{word_char}"


#: jieba keeps runs of ASCII letters and digits whole ("Python3"), as UAX #29 does.
_HAN = r"[\p{Han}]"
_JIEBA_OTHER_TEXT = (_HAN, _may_miscut(_HAN, "A-Za-z0-9"))
#: MeCab cuts ASCII letters from digits (``4o``, ``3D``), so any two neighbours but letter-letter or
#: digit-digit may be cut; kana and Han by Script_Extensions (``ー``, ``々``, ``、`` are theirs).
_JAPANESE = r"[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}]"
_MECAB_OTHER_TEXT = (_JAPANESE, _may_miscut(_JAPANESE, "") + r"|[A-Za-z][0-9]|[0-9][A-Za-z]")


def _chinese(lang: str) -> WordSegmenter:
    """jieba (rjieba) for the Han text; the text between its Han words gets UAX #29 (:class:`_OtherTextByUax29`)."""
    try:
        import rjieba
    except ImportError:
        raise MissingSegmenter("rjieba") from None
    others = _OtherTextByUax29(lang, *_JIEBA_OTHER_TEXT)
    split = _long_lines_in_pieces(lambda text: others(text, rjieba.cut(text)))
    return _ToolSegmenter(lang, split, name="rjieba", segmented_scripts=("Han",))


@functools.lru_cache(maxsize=1)
def _mecab_tagger():
    import fugashi  # unidic-lite is found by fugashi when installed

    return fugashi.Tagger("-Owakati")


#: Characters MeCab and jieba are given at a time. MeCab crashes the process (a segfault in libc) on a line
#: of about 1.1 million characters, which a document per file or a JSON record without line breaks can be;
#: jieba cut a 10M-character line into one list of 6M pieces (0.9 GB; 1.7 GB with the regrouping).
MECAB_MAX_CHARS = 100_000
#: Where a long line is cut for MeCab: after a sentence end or at a space, both word boundaries already.
_SENTENCE_ENDS = ("。", "！", "？", "!", "?", " ", "\u3000")


def cut_long_line(line: str, max_chars: int = MECAB_MAX_CHARS) -> list[str]:
    """``line`` in pieces of at most ``max_chars`` characters, each ending after its last sentence end or
    space (a hard cut only where a piece has neither)."""
    pieces, start = [], 0
    while len(line) - start > max_chars:
        end = start + max_chars
        cut = max(line.rfind(mark, start, end) for mark in _SENTENCE_ENDS) + 1
        cut = cut if cut > start else end
        pieces.append(line[start:cut])
        start = cut
    pieces.append(line[start:])
    return pieces


def _long_lines_in_pieces(cut_words: Callable[[str], list[str]]) -> Callable[[str], Iterable[str]]:
    """``cut_words`` of a line, or of a long line's :func:`cut_long_line` pieces one after another (lazily,
    so that a long line's words are counted without a list of them all)."""

    def split(line: str) -> Iterable[str]:
        if len(line) <= MECAB_MAX_CHARS:
            return cut_words(line)
        return itertools.chain.from_iterable(map(cut_words, cut_long_line(line)))

    return split


def _japanese(lang: str) -> WordSegmenter:
    try:
        tagger = _mecab_tagger()
    except ImportError:
        raise MissingSegmenter("fugashi") from None
    except RuntimeError:  # fugashi without a dictionary
        raise MissingSegmenter("unidic-lite") from None

    others = _OtherTextByUax29(lang, *_MECAB_OTHER_TEXT)
    split = _long_lines_in_pieces(lambda text: others(text, tagger.parse(text).split(" ")))
    return _ToolSegmenter(lang, split, name="fugashi-unidic-lite", segmented_scripts=("Han", "Hiragana", "Katakana"))


#: Thai script (U+0E00-U+0E7F) with the spaces and lone periods between its letters, and the period closing an
#: abbreviation of several parts: the runs newmm segments. Its dictionary holds abbreviations (พ.ศ. "Buddhist
#: Era", ธ.ค., ดร.) and words with a space (ต่าง ๆ); a period ending a sentence stays out, or newmm, matching
#: the abbreviations it knows, cuts the word before it (งาน. -> งา, น.). Anything else gets UAX #29.
_THAI_RUN = regex.compile(r"([\u0E00-\u0E7F]+(?:(?: +|\.)[\u0E00-\u0E7F]+)*(?:(?<=\.[\u0E00-\u0E7F]+)\.)?)")


@functools.lru_cache(maxsize=1)
def _nlpo3_dictionary() -> str:
    """Load pythainlp's default word list into nlpo3 (once) and return its dictionary name."""
    import os

    import nlpo3
    import pythainlp.corpus

    name = "tokensmith-pythainlp-words"
    nlpo3.load_dict(os.path.join(os.path.dirname(pythainlp.corpus.__file__), "words_th.txt"), name)
    return name


def _thai(lang: str) -> WordSegmenter:
    """newmm (dictionary maximal matching) on Thai runs (:data:`_THAI_RUN`): nlpo3's Rust port when
    installed (about 14x faster; it disagrees with pythainlp's on 3 of 11,302 distinct Thai runs of
    ../shared/data), else pythainlp's. Both read pythainlp's dictionary; other text in the line gets UAX #29."""
    try:
        from pythainlp.tokenize import word_tokenize
    except ImportError:
        raise MissingSegmenter("pythainlp") from None
    try:
        import nlpo3

        dictionary = _nlpo3_dictionary()

        def newmm(run: str) -> list[str]:
            return nlpo3.segment(run, dictionary)

        name = "nlpo3-newmm"
    except ImportError:

        def newmm(run: str) -> list[str]:
            return word_tokenize(run, engine="newmm", keep_whitespace=False)

        name = "pythainlp-newmm"
    others = UnicodeWordSegmenter(lang)

    def split(line: str) -> list[str]:
        pieces = _THAI_RUN.split(line)  # odd positions are Thai runs
        return [w for i, piece in enumerate(pieces) if piece
                for w in (newmm(piece) if i % 2 else others.segment(piece))]

    return _ToolSegmenter(lang, split, name=name, segmented_scripts=("Thai",))


#: Primary language subtag -> factory of its segmenter (may raise :class:`MissingSegmenter`).
SEGMENTERS: Registry[Callable[[str], WordSegmenter]] = Registry("word segmenter")
SEGMENTERS.add("zh", _chinese)
SEGMENTERS.add("ja", _japanese)
SEGMENTERS.add("th", _thai)

def primary_subtag(lang: str) -> str:
    """``"zh"`` for ``"zh-Hant-TW"``, ``"zh_CN"``, ``"ZH"``, ``"cmn"`` or ``"zho_Hans"``: the language of the
    canonical tag, so every code of a language (ISO 639-2/3, FLORES-200's) finds its segmenter."""
    return canonical_language(lang).split("-", 1)[0].lower()


#: ISO 15924 codes of the scripts of :data:`UNSPACED_SCRIPTS` (and their unions: Hanb, Jpan, Hrkt). A tag of
#: an unspaced language naming another script (``bo-Latn``: Wylie, ``yue-Latn``: Jyutping) is spaced text.
UNSPACED_SCRIPT_CODES = frozenset({
    "Hani", "Hans", "Hant", "Hanb", "Jpan", "Hira", "Kana", "Hrkt", "Thai", "Laoo", "Khmr", "Mymr", "Tale", "Talu",
    "Lana", "Tavt", "Ahom", "Tibt", "Yiii", "Java", "Bali", "Bugi", "Batk", "Maka", "Kawi", "Tang", "Nshu", "Kits",
    None,
})  # fmt: skip


def script_subtag(lang: str) -> str | None:
    """``"Latn"`` for ``"bo-Latn"`` or ``"yue_latn_HK"``; None for a tag without a script subtag (``th-x-news``:
    what follows a singleton, ``x`` for private use, is no script)."""
    subtags = lang.replace("_", "-").split("-")[1:]
    subtags = list(itertools.takewhile(lambda subtag: len(subtag) != 1, subtags))
    return next((s.title() for s in subtags if len(s) == 4 and s.isalpha()), None)


def unspaced_share(texts: Iterable[str], max_chars: int = GUARD_SAMPLE_CHARS) -> float:
    """Share of the letters of ``texts`` (a sample of ``max_chars`` characters spread over them) in
    scripts written without spaces."""
    return ScriptTally().add(texts, max_chars).share


def script_guard(lang: str, texts: Iterable[str], segmenter: WordSegmenter | None = None) -> NotApplicable | None:
    """NotApplicable when more than :data:`UNSPACED_SHARE_LIMIT` of the letters of ``texts`` are in scripts
    without spaces that ``segmenter`` (default: the Unicode one) does not segment."""
    segmenter = segmenter or UnicodeWordSegmenter(lang)
    return ScriptTally(segmenter.segmented_scripts).add(texts).refusal(lang, segmenter.name)


def _spaced_text(sample: Iterable[str] | None) -> bool:
    """Whether ``sample`` has letters, nearly all in scripts written with spaces (romanised Khmer or Tibetan
    tagged km or bo): then UAX #29 counts its words, whatever the tag says."""
    if sample is None:
        return False
    tally = ScriptTally().add(sample)
    return tally.letters > 0 and tally.share <= UNSPACED_SHARE_LIMIT


def word_segmenter(
    lang: str | None, sample: Iterable[str] | None = None, *, guard: bool = True
) -> WordSegmenter | NotApplicable:
    """The word segmenter for ``lang``, or why words cannot be counted.

    Args:
        lang: BCP 47 tag (``"de"``, ``"zh-TW"``, ``"und"``...); None means undetermined.
        sample: some documents of the corpus (the first batch). When given, the script guard checks them
            (needed for ``"und"`` corpora), and the text of a language written without spaces, when it is
            in spaced scripts (romanised Tibetan tagged ``bo``), gets UAX #29.
        guard: run the script guard on ``sample``. False leaves it to a caller that runs it on the whole
            corpus (:class:`ScriptTally`, batch by batch): a first batch may hold more of another script
            than the corpus does (a folder whose first file is a translation).

    Returns:
        A :class:`WordSegmenter`, or :class:`NotApplicable` (falsy) with the reason.
    """
    lang = canonical_language(lang or "und")  # jpn_Jpan is ja: the messages name the tag the results show
    primary = primary_subtag(lang)
    segmenter: WordSegmenter
    if script_subtag(lang) not in UNSPACED_SCRIPT_CODES:  # zh-Latn (pinyin), bo-Latn (Wylie): spaced text
        segmenter = UnicodeWordSegmenter(lang)
    elif primary in SEGMENTERS:
        try:
            segmenter = SEGMENTERS.get(primary)(lang)
        except MissingSegmenter as missing:
            return NotApplicable(
                lang, f"word segmentation for {lang!r} needs {missing.package}, which is not installed: {INSTALL_HINT}"
            )
    elif primary in UNSPACED_LANGUAGES and not _spaced_text(sample):
        return NotApplicable(
            lang,
            f"{UNSPACED_LANGUAGES[primary]} ({lang!r}) is written without spaces between words and tokensmith "
            "has no word segmenter for it",
        )
    else:
        segmenter = UnicodeWordSegmenter(lang)
    if sample is not None and guard:  # the tag may be wrong or "und": the text's scripts have the last word
        refused = script_guard(lang, sample, segmenter)
        if refused is not None:
            return refused
    return segmenter


__all__ = [
    "SEGMENTERS",
    "NotApplicable",
    "ScriptTally",
    "UnicodeWordSegmenter",
    "WordSegmenter",
    "primary_subtag",
    "script_guard",
    "unspaced_share",
    "word_segmenter",
]
