"""Compiled pre-tokenizers: the preset regexes (GPT-2, cl100k, Llama 3, o200k) and SuperBPE's stage-2 regex as
hand-written matchers.

Counting pre-tokens with Python's ``regex`` costs a Python string per pre-token and a ``Counter`` update
for each; on 130 MB that is most of a training run. These matchers cut a batch of documents in one
compiled call over its code points and count the distinct pre-tokens in a hash table, so Python only
touches each *distinct* pre-token of a batch once.

Each matcher follows its regex alternative by alternative, in order (a regex takes the first alternative
that matches, not the longest); the comments name the alternative each branch implements. Character
classes come from ``regex`` itself (:func:`character_classes`), so ``\\p{L}``, ``\\p{N}`` and ``\\s`` mean
exactly what they mean to the regex engine; the tests compare the pieces with ``regex.findall`` on every
file of the team corpora and on generated Unicode.

Only the regexes of :data:`COMPILED_FORMS` have a matcher; custom regexes keep the ``regex`` path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import numpy as np
import regex
from numba import njit

from tokensmith.train.pretokenize import PRETOKENIZER_PRESETS, SUPERBPE_STAGE2_REGEX
from tokensmith.train.text_table import TextTable, code_points_of, distinct_slices, utf8_of_slices
from tokensmith.train.text_table import compile_kernels as compile_table_kernels

# bits of the character-class table (the last two: o200k's two letter classes, which overlap)
LETTER, NUMBER, SPACE, LINE_BREAK, UPPER_OR_OTHER, LOWER_OR_OTHER = 1, 2, 4, 8, 16, 32
_APOSTROPHE, _SPACE_CHAR, _SLASH = 0x27, 0x20, 0x2F
_ALL_CODE_POINTS = 0x110000

#: Letters of the contractions; :func:`character_classes` maps every code point that ``(?i)`` matches to
#: one of these to its index + 1 (the other code points to 0).
_CONTRACTION_LETTERS = "sdmtlvre"
_S, _D, _M, _T, _L, _V, _R, _E = range(1, 9)
#: The lowercase ASCII code point of each contraction letter index (0: none), for the case-sensitive GPT-2.
_LETTER_CODES = np.array([0] + [ord(letter) for letter in _CONTRACTION_LETTERS], dtype=np.uint32)

# the matchers' families
_GPT2, _GPT4, _SUPERBPE_STAGE2, _O200K = 0, 1, 2, 3


@dataclass(frozen=True)
class CompiledForm:
    """How a regex is matched: the family and its variants.

    Args:
        family: ``_GPT2`` (``'s|... ?\\p{L}+| ?\\p{N}+|...``), ``_GPT4`` (cl100k / Llama 3), ``_O200K`` or
            ``_SUPERBPE_STAGE2`` (:data:`SUPERBPE_STAGE2_REGEX`; the text between its matches is a piece too).
        max_digits: digits per numeric pre-token (GPT-4, stage 2: 3, or 1 with split digits; GPT-2: 0 for
            any run, 1 with split digits).
        trailing_space_run: cl100k's ``\\s++$`` (a whitespace run reaching the end of the text is one
            pre-token); Llama 3 lacks it.
    """

    family: int
    max_digits: int
    trailing_space_run: bool = False


def _forms_by_pattern() -> dict[str, CompiledForm]:
    by_preset = {
        "gpt2": (CompiledForm(_GPT2, max_digits=0), CompiledForm(_GPT2, max_digits=1)),
        "cl100k": (CompiledForm(_GPT4, max_digits=3, trailing_space_run=True),
                   CompiledForm(_GPT4, max_digits=1, trailing_space_run=True)),
        "llama3": (CompiledForm(_GPT4, max_digits=3), CompiledForm(_GPT4, max_digits=1)),
        "o200k": (CompiledForm(_O200K, max_digits=3), CompiledForm(_O200K, max_digits=1)),
    }
    forms = {SUPERBPE_STAGE2_REGEX: CompiledForm(_SUPERBPE_STAGE2, max_digits=3)}
    for name, (plain, digits) in by_preset.items():
        preset = PRETOKENIZER_PRESETS.get(name)
        forms[preset.pattern], forms[preset.digit_pattern] = plain, digits
    return forms


#: Regex -> its matcher: the presets gpt2, cl100k and llama3 (with and without split digits) and SuperBPE's
#: stage-2 regex. A custom regex equal to one of them gets it too: the same regex cuts the same way.
COMPILED_FORMS: dict[str, CompiledForm] = _forms_by_pattern()


@cache
def character_classes() -> tuple[np.ndarray, np.ndarray]:
    """``(classes, contraction_letters)``, one ``uint8`` per code point: the class bits, and which
    contraction letter the code point is under ``(?i)`` (0: none), both as the ``regex`` module sees them."""
    every = "".join(map(chr, range(_ALL_CODE_POINTS)))
    classes = np.zeros(_ALL_CODE_POINTS, dtype=np.uint8)
    for bit, pattern in ((LETTER, r"\p{L}+"), (NUMBER, r"\p{N}+"), (SPACE, r"\s+"), (LINE_BREAK, r"[\r\n]+"),
                         (UPPER_OR_OTHER, r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+"),
                         (LOWER_OR_OTHER, r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]+")):
        for match in regex.finditer(pattern, every):
            classes[match.start():match.end()] |= bit
    letters = np.zeros(_ALL_CODE_POINTS, dtype=np.uint8)
    for index, letter in enumerate(_CONTRACTION_LETTERS, start=1):
        for match in regex.finditer("(?i:" + letter + ")", every):
            letters[match.start()] = index
    return classes, letters


class CompiledPretokenizer:
    """A regex's compiled matcher (build it with :func:`compiled_pretokenizer`)."""

    def __init__(self, form: CompiledForm) -> None:
        self.form = form
        self.classes, self.letters = character_classes()
        # load the kernels now (and the tables' that count and sort what they cut): built in a parent process,
        # workers forked from it inherit them, instead of each compiling them on a fresh install
        self.cut_table(self.count_utf8(["it's 1 x!\n é"])[0])
        compile_table_kernels()

    def _cut(self, joined: str, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(code points, pre-token ends)`` of ``joined``, the documents of ``lengths`` back to back."""
        text = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        return text, self._ends(text, np.cumsum(lengths))

    def _ends(self, text: np.ndarray, document_ends: np.ndarray) -> np.ndarray:
        """The end of every pre-token of the code points ``text``, documents ending at ``document_ends``."""
        ends = np.empty(len(text), dtype=np.int64)
        form = self.form
        count = _cut_documents(text, document_ends, self.classes, self.letters, form.family, form.max_digits,
                               form.trailing_space_run, ends)
        return ends[:count]

    def split(self, text: str) -> list[str]:
        """The pre-tokens of ``text`` (what ``regex.findall`` of the preset gives)."""
        _, ends = self._cut(text, np.array([len(text)], dtype=np.int64))
        stops = ends.tolist()
        starts = [0, *stops[:-1]] if stops else []
        return [text[start:stop] for start, stop in zip(starts, stops, strict=True)]

    def cut(self, texts: Iterable[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Every text cut into pieces: ``(pieces, occurrence, per_text)``, the distinct pieces in order of
        first occurrence, the index into them of every piece of every text (``int32``, texts back to back)
        and how many pieces each text has (``int64``). Cut in blocks, so memory follows a block, not all texts."""
        from tokensmith.train.counting import _batches  # the counting batches: ~1M characters each

        index: dict[str, int] = {}
        occurrences, per_text = [], []
        for block in _batches(texts):
            joined = "".join(block)
            lengths = np.fromiter(map(len, block), dtype=np.int64, count=len(block))
            text, ends = self._cut(joined, lengths)
            starts, first, _, ids = _distinct_pieces(text, ends)
            global_ids = np.fromiter((index.setdefault(joined[start:stop], len(index))
                                      for start, stop in zip(starts[first].tolist(), ends[first].tolist(),
                                                             strict=True)),
                                     dtype=np.int32, count=len(first))
            occurrences.append(global_ids[ids])
            per_text.append(np.diff(np.searchsorted(ends, np.cumsum(lengths), side="right"), prepend=0))
        if not occurrences:
            return [], np.zeros(0, np.int32), np.zeros(0, np.int64)
        return list(index), np.concatenate(occurrences), np.concatenate(per_text).astype(np.int64, copy=False)

    def count_utf8(self, documents: list[str]) -> tuple[TextTable, np.ndarray]:
        """The pre-tokens of every document counted (as ``Counter(findall(d))`` summed over them), without a
        Python string per pre-token: the distinct pre-tokens of ``documents``
        as UTF-8 (in order of first occurrence) and how often each occurs (``int64``).

        Raises:
            InputError: a document holds a lone surrogate (no UTF-8 for it).
        """
        if not documents:
            return TextTable.empty(), np.zeros(0, dtype=np.int64)
        joined = "".join(documents)
        text, ends = self._cut(joined, np.fromiter(map(len, documents), dtype=np.int64, count=len(documents)))
        starts, first, counts, _ = _distinct_pieces(text, ends)
        return _pieces_utf8(joined, text, starts[first], ends[first]), counts

    def cut_utf8(self, texts: Iterable[str]) -> tuple[TextTable, np.ndarray, np.ndarray]:
        """:meth:`cut` with the distinct pieces as UTF-8 in one :class:`~tokensmith.train.text_table.TextTable`
        (encoded here from the code points, deduplicated across blocks by its compiled hash): no Python
        string per piece. Same order of pieces and occurrences as :meth:`cut`.

        Raises:
            InputError: a text holds a lone surrogate (no UTF-8 for it).
        """
        from tokensmith.train.counting import _batches

        def blocks():
            for block in _batches(texts):
                joined = "".join(block)
                text = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
                yield joined, text, np.fromiter(map(len, block), dtype=np.int64, count=len(block))

        return self._cut_blocks(blocks())

    def cut_table(self, texts: TextTable, blank: np.ndarray | None = None,
                  block_bytes: int = 1 << 20) -> tuple[TextTable, np.ndarray, np.ndarray]:
        """:meth:`cut_utf8` of the UTF-8 strings of ``texts``, decoded to code points in compiled code (no
        Python string); the strings ``blank`` (``bool`` per string, optional) are cut as empty texts."""
        blank = np.zeros(len(texts), dtype=np.bool_) if blank is None else blank

        def blocks():
            bounds = np.searchsorted(texts.offsets, np.arange(0, texts.offsets[-1], block_bytes), side="left")
            bounds = np.unique(np.concatenate([bounds, [len(texts)]])).tolist()
            for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
                text, lengths = code_points_of(texts.text, texts.offsets, start, stop, blank)
                yield None, text, lengths

        return self._cut_blocks(blocks())

    def _cut_blocks(self, blocks) -> tuple[TextTable, np.ndarray, np.ndarray]:
        """The cut of texts given as blocks ``(joined str or None, code points, lengths)``."""
        tables, occurrences, per_text = [], [], []
        known = 0
        for joined, text, lengths in blocks:
            document_ends = np.cumsum(lengths)
            ends = self._ends(text, document_ends)
            starts, first, _, ids = _distinct_pieces(text, ends)
            tables.append(_pieces_utf8(joined, text, starts[first], ends[first]))
            occurrences.append(ids.astype(np.int64) + known)
            known += len(first)
            per_text.append(np.diff(np.searchsorted(ends, document_ends, side="right"), prepend=0))
        if not tables:
            return TextTable.empty(), np.zeros(0, np.int32), np.zeros(0, np.int64)
        table = TextTable.concatenate(tables)
        first, ids = table.distinct()
        return (table.take(first), ids[np.concatenate(occurrences)].astype(np.int32),
                np.concatenate(per_text).astype(np.int64, copy=False))


def _pieces_utf8(joined: str | None, text: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> TextTable:
    """The UTF-8 of the pieces ``text[starts[p]:stops[p]]`` (code points of ``joined``) as a table.

    Raises:
        InputError: a piece holds a lone surrogate (named from ``joined``, when given).
    """
    from tokensmith.train.counting import lone_surrogate_error

    utf8, offsets, surrogate = utf8_of_slices(text, starts, stops)
    if surrogate >= 0:
        piece = (joined[starts[surrogate]:stops[surrogate]] if joined is not None
                 else "".join(map(chr, text[starts[surrogate]:stops[surrogate]].tolist())))
        try:
            piece.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise lone_surrogate_error(exc) from None
    return TextTable(utf8, offsets)


def whitespace_next_to_whitespace(documents: list[str]) -> np.ndarray:
    """Per document (bool): does it hold a line break, or whitespace other than a space next to whitespace
    (``[^\\S ](?:(?<=[\\r\\n])|(?<=\\s[^\\S ])|(?=\\s))``, superword's test for documents whose
    stage-1 pre-tokens it cannot derive), in one compiled pass over the documents."""
    classes, _ = character_classes()
    joined = "".join(documents)
    text = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    lengths = np.fromiter(map(len, documents), dtype=np.int64, count=len(documents))
    return _whitespace_next_to_whitespace(text, np.cumsum(lengths), classes)


@njit(cache=True, nogil=True)
def _whitespace_next_to_whitespace(text, document_ends, classes):
    found = np.zeros(len(document_ends), dtype=np.bool_)
    start = 0
    for d in range(len(document_ends)):
        stop = document_ends[d]
        for position in range(start, stop):
            code_point = text[position]
            if code_point == _SPACE_CHAR or (classes[code_point] & SPACE) == 0:
                continue
            if (classes[code_point] & LINE_BREAK or (position > start and classes[text[position - 1]] & SPACE)
                    or (position + 1 < stop and classes[text[position + 1]] & SPACE)):
                found[d] = True
                break
        start = stop
    return found


def compiled_pretokenizer(pattern: str) -> CompiledPretokenizer | None:
    """The compiled matcher of the regex ``pattern``, or None if it has none (see :data:`COMPILED_FORMS`)."""
    form = COMPILED_FORMS.get(pattern)
    return None if form is None else _compiled(form)


@cache
def _compiled(form: CompiledForm) -> CompiledPretokenizer:
    return CompiledPretokenizer(form)


@njit(cache=True, nogil=True)
def _cut_documents(text, document_ends, classes, letters, family, max_digits, trailing_space_run, ends):
    """Write the end of every pre-token of every document into ``ends``; returns how many there are."""
    count = 0
    start = 0
    for d in range(len(document_ends)):
        stop = document_ends[d]
        position = start
        while position < stop:
            if family == _GPT2:
                position = _match_gpt2(text, position, stop, classes, letters, max_digits)
            elif family == _GPT4:
                position = _match_gpt4(text, position, stop, classes, letters, max_digits, trailing_space_run)
            elif family == _O200K:
                position = _match_o200k(text, position, stop, classes, letters, max_digits)
            else:
                position = _piece_stage2(text, position, stop, classes, max_digits)
            ends[count] = position
            count += 1
        start = stop
    return count


@njit(cache=True, inline="always")
def _is_other(classes, code_point):
    """``[^\\s\\p{L}\\p{N}]``"""
    return (classes[code_point] & (LETTER | NUMBER | SPACE)) == 0


@njit(cache=True, inline="always")
def _run_end(text, position, stop, classes, bits):
    """The end of the run of characters having one of ``bits`` that starts at ``position``."""
    while position < stop and classes[text[position]] & bits:
        position += 1
    return position


@njit(cache=True, inline="always")
def _other_run_end(text, position, stop, classes):
    while position < stop and _is_other(classes, text[position]):
        position += 1
    return position


@njit(cache=True)
def _contraction_end(text, position, stop, letters, case_sensitive):
    """The end of ``'s|'t|'re|'ve|'m|'ll|'d`` at ``position`` (``(?i)`` unless ``case_sensitive``), or -1."""
    if text[position] != _APOSTROPHE or position + 1 >= stop:
        return -1
    first = text[position + 1]
    a = letters[first]
    if case_sensitive and first != _LETTER_CODES[a]:
        a = 0
    if _S <= a <= _T:  # s, d, m or t (the first four letters)
        return position + 2
    if position + 2 >= stop or a == 0:
        return -1
    second = text[position + 2]
    b = letters[second]
    if case_sensitive and second != _LETTER_CODES[b]:
        b = 0
    if (a == _L and b == _L) or (a == _V and b == _E) or (a == _R and b == _E):
        return position + 3
    return -1


@njit(cache=True, inline="always")
def _digits_end(text, position, stop, classes, max_digits):
    """``\\p{N}{1,max_digits}`` at a numeric character."""
    end = position + 1
    while end < stop and end - position < max_digits and classes[text[end]] & NUMBER:
        end += 1
    return end


@njit(cache=True, inline="always")
def _spaced_other_start(text, position, stop, classes):
    """Where ``[^\\s\\p{L}\\p{N}]+`` starts in `` ?[^\\s\\p{L}\\p{N}]+`` at ``position``, or -1."""
    if text[position] == _SPACE_CHAR and position + 1 < stop and _is_other(classes, text[position + 1]):
        return position + 1
    return position if _is_other(classes, text[position]) else -1


@njit(cache=True)
def _line_break_or_whitespace_end(text, position, stop, classes):
    """``\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`` at a whitespace character: to the last line break of the run if it
    has one (cl100k's ``\\s*[\\r\\n]`` ends there too), else :func:`_whitespace_end`."""
    last = _run_end(text, position + 1, stop, classes, SPACE) - 1
    while last >= position and (classes[text[last]] & LINE_BREAK) == 0:
        last -= 1
    if last >= position:
        return last + 1
    return _whitespace_end(text, position, stop, classes)


@njit(cache=True)
def _whitespace_end(text, position, stop, classes):
    """``\\s+(?!\\S)|\\s+`` at a whitespace character: the run, less its last character when a
    non-space follows the run and the run has two or more."""
    run = _run_end(text, position + 1, stop, classes, SPACE)
    if run == stop or run - position == 1:
        return run
    return run - 1


@njit(cache=True)
def _match_gpt2(text, position, stop, classes, letters, max_digits):
    """``'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+``; with split
    digits ``max_digits == 1`` and `` ?\\p{N}+`` is `` (?=\\p{N})|\\p{N}``."""
    end = _contraction_end(text, position, stop, letters, True)
    if end >= 0:
        return end
    code_point = text[position]
    spaced = code_point == _SPACE_CHAR and position + 1 < stop
    body = position + 1 if spaced else position
    body_class = classes[text[body]]
    if body_class & LETTER:  # ` ?\p{L}+`
        return _run_end(text, body + 1, stop, classes, LETTER)
    if body_class & NUMBER:  # ` ?\p{N}+`, or ` (?=\p{N})|\p{N}`
        if max_digits == 1:
            return position + 1
        return _run_end(text, body + 1, stop, classes, NUMBER)
    if _is_other(classes, text[body]):  # ` ?[^\s\p{L}\p{N}]+`
        return _other_run_end(text, body + 1, stop, classes)
    return _whitespace_end(text, position, stop, classes)


@njit(cache=True)
def _match_gpt4(text, position, stop, classes, letters, max_digits, trailing_space_run):
    """cl100k: ``'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}++|\\p{N}{1,3}|
    ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*+|\\s++$|\\s*[\\r\\n]|\\s+(?!\\S)|\\s``; Llama 3 the same without ``\\s++$``
    (its ``\\s*[\\r\\n]+`` and ``\\s+`` end where cl100k's ``\\s*[\\r\\n]`` and ``\\s`` do)."""
    end = _contraction_end(text, position, stop, letters, False)
    if end >= 0:
        return end
    code_point_class = classes[text[position]]
    if code_point_class & LETTER:  # `[^\r\n\p{L}\p{N}]?\p{L}+` without its prefix
        return _run_end(text, position + 1, stop, classes, LETTER)
    if (code_point_class & (NUMBER | LINE_BREAK)) == 0 and position + 1 < stop and classes[text[position + 1]] & LETTER:
        return _run_end(text, position + 2, stop, classes, LETTER)  # ... with it
    if code_point_class & NUMBER:  # `\p{N}{1,3}`
        return _digits_end(text, position, stop, classes, max_digits)
    body = _spaced_other_start(text, position, stop, classes)
    if body >= 0:  # ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        end = _other_run_end(text, body + 1, stop, classes)
        return _run_end(text, end, stop, classes, LINE_BREAK)
    if trailing_space_run and _run_end(text, position + 1, stop, classes, SPACE) == stop:  # `\s++$`
        return stop
    return _line_break_or_whitespace_end(text, position, stop, classes)


@njit(cache=True)
def _o200k_word_end(text, start, stop, classes, letters, lower_run_needed):
    """The end of o200k's ``[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+`` (with
    ``lower_run_needed``; else ``...]+[...]*``) and its optional ``(?i:'s|'t|'re|'ve|'m|'ll|'d)`` from ``start``,
    or -1. Backtracking made explicit: the first run is greedy, so the second starts at the first run's end
    if it can, else at the last character of the first run that both classes hold."""
    upper_end = _run_end(text, start, stop, classes, UPPER_OR_OTHER)
    if lower_run_needed:
        second = upper_end
        if second >= stop or (classes[text[second]] & LOWER_OR_OTHER) == 0:
            second = upper_end - 1
            while second >= start and (classes[text[second]] & LOWER_OR_OTHER) == 0:
                second -= 1
            if second < start:
                return -1
        end = _run_end(text, second + 1, stop, classes, LOWER_OR_OTHER)
    else:
        if upper_end == start:
            return -1
        end = _run_end(text, upper_end, stop, classes, LOWER_OR_OTHER)
    if end < stop:
        contraction = _contraction_end(text, end, stop, letters, False)
        if contraction >= 0:
            return contraction
    return end


@njit(cache=True)
def _match_o200k(text, position, stop, classes, letters, max_digits):
    """o200k: ``[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|...)?|
    [^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|...)?|\\p{N}{1,3}|
    ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+``; each word alternative is tried with its optional
    prefix character, then without it, before the next alternative."""
    code_point_class = classes[text[position]]
    prefixed = (code_point_class & (LETTER | NUMBER | LINE_BREAK)) == 0 and position + 1 < stop
    for lower_run_needed in (True, False):
        if prefixed:
            end = _o200k_word_end(text, position + 1, stop, classes, letters, lower_run_needed)
            if end >= 0:
                return end
        end = _o200k_word_end(text, position, stop, classes, letters, lower_run_needed)
        if end >= 0:
            return end
    if code_point_class & NUMBER:  # `\p{N}{1,3}`
        return _digits_end(text, position, stop, classes, max_digits)
    body = _spaced_other_start(text, position, stop, classes)
    if body >= 0:  # ` ?[^\s\p{L}\p{N}]+[\r\n/]*`
        end = _other_run_end(text, body + 1, stop, classes)
        while end < stop and (classes[text[end]] & LINE_BREAK or text[end] == _SLASH):
            end += 1
        return end
    return _line_break_or_whitespace_end(text, position, stop, classes)


@njit(cache=True)
def _match_stage2(text, position, stop, classes, max_digits):
    """The end of a match of ``\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]{2,}[\\r\\n/]*| +(?!\\S)`` at ``position``, or -1."""
    code_point = text[position]
    if classes[code_point] & NUMBER:  # `\p{N}{1,3}`
        return _digits_end(text, position, stop, classes, max_digits)
    body = position + 1 if code_point == _SPACE_CHAR else position
    run = _other_run_end(text, body, stop, classes)
    if run - body >= 2:  # ` ?[^\s\p{L}\p{N}]{2,}[\r\n/]*`
        while run < stop and (classes[text[run]] & LINE_BREAK or text[run] == _SLASH):
            run += 1
        return run
    if code_point == _SPACE_CHAR:  # ` +(?!\S)`
        end = position + 1
        while end < stop and text[end] == _SPACE_CHAR:
            end += 1
        if end == stop or classes[text[end]] & SPACE:
            return end
        if end - position >= 2:
            return end - 1
    return -1


@njit(cache=True)
def _piece_stage2(text, position, stop, classes, max_digits):
    """The end of the piece at ``position``: a match, or the text up to the next match (or the end)."""
    end = _match_stage2(text, position, stop, classes, max_digits)
    if end >= 0:
        return end
    end = position + 1
    # no match starts at a letter (most of the text): its class alone says so
    while end < stop and (classes[text[end]] & LETTER or _match_stage2(text, end, stop, classes, max_digits) < 0):
        end += 1
    return end


def _distinct_pieces(text: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(starts, first, counts, ids)``: where every piece starts (a piece ends at ``ends[i]`` and starts at the
    previous end, or 0), and :func:`~tokensmith.train.text_table.distinct_slices` of the pieces."""
    starts = np.zeros(len(ends), dtype=np.int64)
    starts[1:] = ends[:-1]
    return (starts, *distinct_slices(text, starts, ends))
