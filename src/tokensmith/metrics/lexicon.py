"""Lexicons and the lexicon-based token metrics: %valid (valid-word share) and %pure (morpheme share).

%valid is the %TR of Bayram et al. 2025 ("Tokenization Standards for Linguistic Integrity: Turkish as
a Benchmark", arXiv:2502.07057) for any language: the share of tokens that are words of the
language. %pure is their %Pure: the share of tokens that are morphemes (roots or affixes). The paper
checks validity with a remote analyser and mixes two denominators; here both are local and both
denominators are reported:

* **over unique tokens**: distinct token ids that occur in the corpus (the paper's table: 3,104 of
  6,383 unique tokens), or every ordinary id of the vocabulary when no corpus is given;
* **over occurrences**: every token occurrence in the corpus, weighted by its count.

How a token is looked up (documented because it changes the numbers):

* the token's exact bytes are decoded as UTF-8; a token that is not valid UTF-8 on its own (a byte
  fragment) is never valid;
* surrounding whitespace is stripped, so the word-boundary space (GPT-2 ``Ġ``, SentencePiece ``▁``)
  does not matter: ``" kitap"`` and ``"kitap"`` are both looked up as ``kitap``; a token that is only
  whitespace is never valid;
* lookup is case-insensitive: token and lexicon entries are NFC-normalised and lower-cased, with
  Turkish/Azerbaijani dotted and dotless I handled for ``tr``/``az`` lexicons (``I`` -> ``ı``,
  ``İ`` -> ``i``); pass ``case_sensitive=True`` to compare exact forms;
* special (control) tokens are left out of both denominators; UNK and byte-fallback tokens count
  (they are produced from text) and are never valid.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tokensmith.corpus.language_tags import canonical_language, is_language_tag
from tokensmith.errors import InputError

#: Languages whose lower-casing of I/İ differs from the default (dotless ı and dotted i).
TURKIC_CASING = ("tr", "az", "crh", "gag")


def fold_case(text: str, lang: str | None = None) -> str:
    """NFC, then lower-case (``I`` -> ``ı`` and ``İ`` -> ``i`` for Turkic ``lang``)."""
    text = unicodedata.normalize("NFC", text)
    if lang and _turkic_casing(lang):
        text = text.replace("I", "ı").replace("İ", "i")
    return text.lower()


@functools.lru_cache(maxsize=256)
def _turkic_casing(lang: str) -> bool:
    """Whether ``lang``, however spelt (``tr``, ``tur``, ``azj_Latn``), lower-cases I as ı (once per tag:
    every token looked up asks)."""
    return canonical_language(lang).split("-")[0] in TURKIC_CASING


@dataclass(frozen=True)
class Lexicon:
    """A set of words of one language (or of morphemes), looked up as the module docstring says.

    Attributes:
        lang: language tag (from the file name).
        words: the stored forms (case-folded unless ``case_sensitive``).
        entries: lines read from the source(s) (before filtering by ``keep``).
        sources: files read.
        kind: ``"words"`` or ``"morphemes"``.
        case_sensitive: compare exact NFC forms.
    """

    lang: str
    words: frozenset[str]
    entries: int
    sources: tuple[str, ...] = ()
    kind: str = "words"
    case_sensitive: bool = False

    def normalise(self, text: str) -> str:
        text = text.strip()
        return unicodedata.normalize("NFC", text) if self.case_sensitive else fold_case(text, self.lang)

    def contains(self, text: str) -> bool:
        """Whether ``text`` (whitespace stripped) is in the lexicon."""
        key = self.normalise(text)
        return bool(key) and key in self.words

    def describe(self) -> dict[str, Any]:
        return {
            "lang": self.lang,
            "kind": self.kind,
            "entries": self.entries,
            "sources": [Path(s).name for s in self.sources],
            "case_sensitive": self.case_sensitive,
        }

    @classmethod
    def from_words(
        cls,
        lang: str,
        words: Iterable[str],
        *,
        kind: str = "words",
        case_sensitive: bool = False,
        sources: Sequence[str] = (),
        keep: Iterable[str] | None = None,
    ) -> Lexicon:
        """Build a lexicon from words in memory.

        Args:
            keep: if given, store only entries equal (after normalising) to one of these strings; a
                memory saving when only a vocabulary's tokens will ever be looked up.
        """
        probe = cls(lang, frozenset(), 0, kind=kind, case_sensitive=case_sensitive)
        wanted = None if keep is None else {probe.normalise(k) for k in keep}
        stored, entries = set(), 0
        for word in words:
            entries += 1
            key = probe.normalise(word)
            if key and (wanted is None or key in wanted):
                stored.add(key)
        return cls(lang, frozenset(stored), entries, tuple(sources), kind, case_sensitive)


# -- reading ------------------------------------------------------------------------------------------


def _read_text(path: Path, encoding: str = "utf-8") -> str:
    try:
        return path.read_text(encoding=encoding)
    except UnicodeDecodeError as error:
        raise InputError(
            f"lexicon {path} is not valid {encoding} (byte {error.start})",
            "convert it to UTF-8 (iconv -t UTF-8), or for hunspell give the .aff with its SET line",
        ) from None
    except LookupError:
        raise InputError(f"lexicon {path} declares an unknown encoding {encoding!r}", "fix the SET line") from None


def _hunspell_encoding(dic: Path) -> str:
    """The encoding named by the ``SET`` line of the ``.aff`` beside ``dic`` (UTF-8 when absent)."""
    aff = dic.with_suffix(".aff")
    if not aff.is_file():
        return "utf-8"
    for line in aff.read_bytes().decode("latin-1").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "SET":
            name = parts[1].lower()
            return name.replace("microsoft-", "").replace("iso8859", "iso-8859")
    return "utf-8"


def hunspell_stems(text: str) -> list[str]:
    """Stems of a hunspell ``.dic`` text: the count line, flags (``/ABC``) and fields dropped.

    Affixes are not expanded, so a stems-only lexicon misses inflected forms (a lower %valid).
    """
    stems = []
    for index, line in enumerate(text.splitlines()):
        if index == 0 and line.strip().isdigit():
            continue
        if not line.strip() or line.startswith(("#", "\t", " ")):
            continue
        field = line.split("\t", 1)[0].split(" ", 1)[0]
        stem = re.split(r"(?<!\\)/", field, maxsplit=1)[0].replace("\\/", "/")
        if stem:
            stems.append(stem)
    return stems


def read_lexicon(
    path: str | os.PathLike,
    *,
    lang: str | None = None,
    kind: str = "words",
    case_sensitive: bool = False,
    keep: Iterable[str] | None = None,
) -> Lexicon:
    """Read one lexicon file: a UTF-8 word list (one per line) or a hunspell ``.dic`` (stems).

    A ``.tsv`` segmentation file (``word<TAB>morph morph``) gives its morphs (``kind="morphemes"``).

    Raises:
        InputError: missing, empty, or undecodable file.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such lexicon file: {path}", "pass a word list (one word per line) or a hunspell .dic")
    lang = lang or canonical_language(path.stem)
    if path.suffix == ".tsv":
        from tokensmith.metrics.morphology import read_segmentations

        words: Iterable[str] = sorted(read_segmentations(path).morphemes())
        kind = "morphemes"
    elif path.suffix == ".dic":
        words = hunspell_stems(_read_text(path, _hunspell_encoding(path)))
    else:
        words = [line.strip() for line in _read_text(path).splitlines() if line.strip()]
    lexicon = Lexicon.from_words(lang, words, kind=kind, case_sensitive=case_sensitive, sources=(str(path),), keep=keep)
    if lexicon.entries == 0:
        raise InputError(f"lexicon {path} is empty", "give a file with one word per line")
    return lexicon


def lexicon_files(directory: str | os.PathLike) -> dict[str, list[Path]]:
    """Language tag -> lexicon files (``<lang>.txt`` and/or ``<lang>.dic``) of a folder, sorted; the tags in
    canonical form, as corpora's are (``pt_BR.txt`` and ``pt-br.dic`` are both ``pt-BR``)."""
    directory = Path(directory)
    found: dict[str, list[Path]] = {}
    for path in sorted(directory.iterdir()):
        if path.is_file() and path.suffix in (".txt", ".dic") and is_language_tag(path.stem):
            found.setdefault(canonical_language(path.stem), []).append(path)
    return found


def load_lexicon_dir(
    directory: str | os.PathLike,
    *,
    langs: Iterable[str] | None = None,
    keep: Iterable[str] | None = None,
    case_sensitive: bool = False,
) -> dict[str, Lexicon]:
    """Every lexicon of a folder (``<lang>.txt`` word lists, hunspell ``<lang>.dic``), by language.

    A single file is accepted too (its stem is the language). ``keep`` limits what is stored (see
    :meth:`Lexicon.from_words`).

    Raises:
        InputError: the folder does not exist, holds no lexicon, or a requested language is missing.
    """
    directory = Path(directory)
    if directory.is_file():
        lexicon = read_lexicon(directory, keep=keep, case_sensitive=case_sensitive)
        return {lexicon.lang: lexicon}
    if not directory.is_dir():
        raise InputError(f"no such lexicon folder: {directory}", "pass a folder of <lang>.txt or <lang>.dic files")
    files = lexicon_files(directory)
    if not files:
        raise InputError(
            f"lexicon folder {directory} has no <lang>.txt or <lang>.dic file",
            "name word lists by language tag, e.g. tr.txt, pt-BR.txt",
        )
    if langs is not None:
        langs = [canonical_language(lang) for lang in langs]  # the files' tags are canonical: tur is tr
        missing = [lang for lang in langs if lang not in files]
        if missing:
            raise InputError(
                f"no lexicon for {', '.join(missing)} in {directory}", f"available: {', '.join(sorted(files))}"
            )
        files = {lang: files[lang] for lang in langs}
    keep = None if keep is None else set(keep)
    lexicons = {}
    for lang, paths in files.items():
        parts = [read_lexicon(p, lang=lang, keep=keep, case_sensitive=case_sensitive) for p in paths]
        lexicons[lang] = Lexicon(
            lang,
            frozenset().union(*(p.words for p in parts)),
            sum(p.entries for p in parts),
            tuple(s for p in parts for s in p.sources),
            "words",
            case_sensitive,
        )
    return lexicons


def resolve_lexicon(lexicon: Lexicon | str | os.PathLike, lang: str | None = None, **options: Any) -> Lexicon:
    """A :class:`Lexicon` from itself, a file, or a folder plus ``lang``."""
    if isinstance(lexicon, Lexicon):
        return lexicon
    path = Path(lexicon)
    if path.is_dir():
        if lang is None:
            raise InputError(f"{path} is a folder of lexicons; say which language to use", "pass lang='tr'")
        return load_lexicon_dir(path, langs=[lang], **options)[canonical_language(lang)]
    return read_lexicon(path, lang=lang, **options)


# -- shares -------------------------------------------------------------------------------------------


def token_lookup_texts(token_bytes: Sequence[bytes]) -> list[str | None]:
    """What each token is looked up as: its UTF-8 text stripped of whitespace, or None if undecodable."""
    texts: list[str | None] = []
    for data in token_bytes:
        try:
            texts.append(data.decode("utf-8").strip())
        except UnicodeDecodeError:
            texts.append(None)
    return texts


def lexicon_share(
    token_bytes: Sequence[bytes],
    lexicon: Lexicon,
    *,
    counts: np.ndarray | Mapping[int, int] | None = None,
    exclude_ids: Iterable[int] = (),
    unknown_ids: Iterable[int] = (),
    letters_only: bool = False,
) -> dict[str, Any]:
    """Share of tokens found in ``lexicon``, over unique tokens and over occurrences.

    Args:
        token_bytes: exact bytes of every id (``Tokenizer.all_token_bytes``).
        lexicon: words (for %valid) or morphemes (for %pure).
        counts: occurrences per id in a corpus (``TokenStats.type_counts`` or a mapping); None
            measures the vocabulary itself (every non-excluded id once, no occurrence figure).
        exclude_ids: ids left out of both denominators (control tokens: :func:`control_ids`).
        unknown_ids: ids that count but are never found (UNK, whatever its text).
        letters_only: count only tokens containing a letter (drops punctuation, digits, spaces).

    Returns:
        ``unique_tokens``, ``unique_found``, ``unique_percent``, ``occurrences``, ``occurrences_found``,
        ``occurrences_percent`` (the last three None without ``counts``) and ``scope``.
    """
    excluded = set(exclude_ids)
    unknown = set(unknown_ids)
    texts = token_lookup_texts(token_bytes)
    if counts is None:  # every id a token occupies (o200k leaves 19 ids between its ranks and specials empty)
        used = {i: 0 for i in range(len(token_bytes)) if i not in excluded and token_bytes[i]}
    elif isinstance(counts, np.ndarray):
        used = {int(i): int(counts[i]) for i in np.flatnonzero(counts) if int(i) not in excluded}
    else:
        used = {int(i): int(n) for i, n in counts.items() if n and int(i) not in excluded}
    unique = found_unique = occurrences = found_occurrences = 0
    for token_id, count in used.items():
        text = texts[token_id]
        if letters_only and (text is None or not any(ch.isalpha() for ch in text)):
            continue
        found = text is not None and token_id not in unknown and lexicon.contains(text)
        unique += 1
        occurrences += count
        if found:
            found_unique += 1
            found_occurrences += count
    with_corpus = counts is not None
    return {
        "scope": "corpus" if with_corpus else "vocabulary",
        "lexicon": lexicon.lang,
        "lexicon_kind": lexicon.kind,
        "letters_only": letters_only,
        "unique_tokens": unique,
        "unique_found": found_unique,
        "unique_percent": 100.0 * found_unique / unique if unique else None,
        "occurrences": occurrences if with_corpus else None,
        "occurrences_found": found_occurrences if with_corpus else None,
        "occurrences_percent": (100.0 * found_occurrences / occurrences if occurrences else None)
        if with_corpus
        else None,
    }


def control_ids(special_tokens: Iterable[Any]) -> set[int]:
    """Ids of the special tokens left out of the shares: all but UNK, which ``encode`` emits for text it
    cannot spell and which therefore counts (as never valid), as the module docstring says."""
    return {s.id for s in special_tokens if s.role != "unk"}


def unk_ids(special_tokens: Iterable[Any]) -> set[int]:
    """Ids of the UNK tokens: counted in the shares, never found."""
    return {s.id for s in special_tokens if s.role == "unk"}


def _corpus_counts(tokenizer: Any, texts: Iterable[str] | None, type_counts: Any) -> Any:
    if texts is None:
        return type_counts
    counts = np.zeros(tokenizer.vocab_size, dtype=np.int64)
    batch: list[str] = []

    def flush() -> None:
        for ids in tokenizer.encode_batch(batch):
            if ids:
                counts[:] += np.bincount(np.asarray(ids, dtype=np.int64), minlength=tokenizer.vocab_size)
        batch.clear()

    for text in texts:
        batch.append(text)
        if len(batch) >= 1024:
            flush()
    if batch:
        flush()
    return counts


def valid_word_share(
    tokenizer: Any,
    lexicon: Lexicon | str | os.PathLike,
    *,
    lang: str | None = None,
    texts: Iterable[str] | None = None,
    type_counts: np.ndarray | Mapping[int, int] | None = None,
    letters_only: bool = False,
) -> dict[str, Any]:
    """%valid (Bayram et al.'s %TR): share of tokens that are words of ``lexicon``.

    Args:
        tokenizer: a loaded tokenizer.
        lexicon: a :class:`Lexicon`, a word-list/.dic file, or a lexicon folder with ``lang``.
        texts: corpus documents to encode (gives the corpus scope), or
        type_counts: occurrences per id already measured (``TokenStats.type_counts``).
            Neither: the vocabulary itself is measured.
        letters_only: see :func:`lexicon_share`.
    """
    resolved = resolve_lexicon(lexicon, lang)
    counts = _corpus_counts(tokenizer, texts, type_counts)
    return lexicon_share(
        tokenizer.all_token_bytes,
        resolved,
        counts=counts,
        exclude_ids=control_ids(tokenizer.special_tokens),
        unknown_ids=unk_ids(tokenizer.special_tokens),
        letters_only=letters_only,
    )


def morpheme_lexicon(source: str | os.PathLike, *, lang: str | None = None) -> Lexicon:
    """Morpheme inventory from a segmentation ``.tsv`` (all morphs) or a morpheme list (one per line)."""
    return read_lexicon(source, lang=lang, kind="morphemes")


def pure_share(
    tokenizer: Any,
    morphemes: Lexicon | str | os.PathLike,
    *,
    texts: Iterable[str] | None = None,
    type_counts: np.ndarray | Mapping[int, int] | None = None,
    letters_only: bool = False,
) -> dict[str, Any]:
    """%pure (Bayram et al.'s %Pure): share of tokens that are morphemes (roots or affixes).

    ``morphemes`` is a :class:`Lexicon` or a file: a segmentation ``.tsv`` (every morph of every
    analysis) or a list of morphemes. Other arguments as :func:`valid_word_share`.
    """
    resolved = morphemes if isinstance(morphemes, Lexicon) else morpheme_lexicon(morphemes)
    counts = _corpus_counts(tokenizer, texts, type_counts)
    return lexicon_share(
        tokenizer.all_token_bytes,
        resolved,
        counts=counts,
        exclude_ids=control_ids(tokenizer.special_tokens),
        unknown_ids=unk_ids(tokenizer.special_tokens),
        letters_only=letters_only,
    )


def lexicon_metric_values(stats: Any, token_bytes: Sequence[bytes], lexicon: Lexicon) -> dict[str, Any]:
    """Bridge to the metrics table: %valid/%pure of one measured cell as ``MetricValue`` (fractions).

    The registry's cell metrics see only :class:`TokenStats`, which carries neither token bytes nor a
    lexicon, so these figures are computed here from ``stats.type_counts`` and named
    ``<kind>_share_unique`` / ``<kind>_share_occurrences`` (kind ``valid`` for word lexicons,
    ``pure`` for morphemes).
    """
    from tokensmith.metrics.base import MetricValue, not_applicable

    result = lexicon_share(token_bytes, lexicon, counts=stats.type_counts,
                           exclude_ids=stats.vocab.special_ids - stats.vocab.unk_ids, unknown_ids=stats.vocab.unk_ids)
    prefix = "pure" if lexicon.kind == "morphemes" else "valid"
    values = {}
    for scope in ("unique", "occurrences"):
        percent = result[f"{scope}_percent"]
        values[f"{prefix}_share_{scope}"] = (
            not_applicable("no tokens in this cell") if percent is None else MetricValue(percent / 100.0)
        )
    return values
