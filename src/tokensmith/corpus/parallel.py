"""Parallel corpora: a folder of ``<lang>.txt`` files whose line *i* is the same segment in every language.

Alignment is checked when the folder is opened: every file must have the same number of lines
(counted as newlines, streaming), otherwise a :class:`CorpusError` lists each file's count.

Blank lines: a blank (empty or whitespace-only) line means the segment is missing in that language.
Token premiums and parity compare the *same* segments across languages, so a line index that is blank
in any language is skipped in all of them; :attr:`ParallelCorpus.skipped_lines` records which. Each
language's :class:`AlignedCorpus` therefore yields exactly ``kept_lines`` documents, document *k*
being original line ``line_ids()[k]`` in every language.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path

from tokensmith.corpus.language_tags import (
    canonical_language,
    guess_language,
    names_a_language,
    resolve_language,
    resolve_languages,
)
from tokensmith.corpus.readers import (
    READ_BLOCK,
    Corpus,
    DocumentBlocks,
    ReadStats,
    count_line_ends,
    file_sha256,
    iter_line_blocks,
    open_binary,
    refuse_unread_compressions,
    split_suffixes,
)
from tokensmith.errors import CorpusError


def count_lines(path: Path) -> int:
    """Lines of a (possibly compressed) text file: line ends (``\\n``, ``\\r\\n``, a lone ``\\r``: the
    ones the readers split at), plus one for a last line without one."""
    lines, last = 0, b"\n"
    with open_binary(path) as stream:
        for block in iter(lambda: stream.read(READ_BLOCK), b""):
            lines += count_line_ends(block)
            if last == b"\r" and block.startswith(b"\n"):
                lines -= 1  # a "\r\n" cut between two reads is one line end, counted at its "\r"
            last = block[-1:]
    return lines + (last not in (b"\n", b"\r"))


@dataclass(frozen=True)
class AlignedCorpus(Corpus):
    """One language of a parallel corpus: every line is a document, except the skipped line indices.

    Attributes:
        skipped: 0-based line indices left out (blank in at least one language).
    """

    skipped: frozenset[int] = dataclass_field(default=frozenset(), repr=False)

    def _source_blocks(self, source: Path) -> DocumentBlocks:
        skipped = self.skipped
        for lines, sizes, first_line in iter_line_blocks(source, errors=self.errors, stats=self.read_stats):
            if not skipped:
                yield lines, sizes
                continue
            start = first_line - 1
            kept = [i for i in range(len(lines)) if start + i not in skipped]
            yield [lines[i] for i in kept], [sizes[i] for i in kept]


@dataclass(frozen=True)
class ParallelCorpus:
    """A checked, line-aligned parallel corpus.

    Attributes:
        name: the folder name (shared as ``parallel_group`` by the metrics).
        directory: the folder.
        corpora: one :class:`AlignedCorpus` per language, sorted by language tag.
        total_lines: lines per file (equal in every file).
        skipped_lines: 0-based indices skipped in every language (blank in at least one).
        blank_counts: per language, how many of its lines are blank.
    """

    name: str
    directory: Path
    corpora: tuple[AlignedCorpus, ...]
    total_lines: int
    skipped_lines: tuple[int, ...]
    blank_counts: dict[str, int] = dataclass_field(default_factory=dict, compare=False)

    @property
    def langs(self) -> list[str]:
        return [c.lang for c in self.corpora]

    @property
    def kept_lines(self) -> int:
        """Segments each language yields."""
        return self.total_lines - len(self.skipped_lines)

    def corpus(self, lang: str) -> AlignedCorpus:
        """The corpus of one language: the one whose tag ``lang`` names (``ko`` names ``ko-Hang``, see
        :func:`~tokensmith.corpus.language_tags.basic_filter`).

        Raises:
            CorpusError: the folder has no file for ``lang``.
            InputError: ``lang`` names several of its files (``zh``: ``zh-Hans`` and ``zh-Hant``).
        """
        found = resolve_language(lang, self.langs, f"the parallel corpus {self.directory}")
        if found is None:
            raise CorpusError(f"parallel corpus {self.directory} has no {canonical_language(lang)!r} file",
                              f"languages: {' '.join(self.langs)}")
        return self.corpora[self.langs.index(found)]

    def line_ids(self) -> Iterator[int]:
        """Original 0-based line index of each yielded segment (the segment's group id across languages)."""
        skipped = set(self.skipped_lines)
        return (i for i in range(self.total_lines) if i not in skipped)

    def iter_segments(self) -> Iterator[tuple[str, ...]]:
        """Aligned tuples: the same segment in every language, in :attr:`langs` order."""
        return zip(*(c.iter_documents() for c in self.corpora), strict=True)

    def sha256(self) -> str:
        """sha256 of a ``sha256sum``-style manifest of the language files."""
        manifest = "".join(f"{file_sha256(c.sources[0])}  {c.sources[0].name}\n" for c in self.corpora)
        return hashlib.sha256(manifest.encode()).hexdigest()


def language_files(directory: Path) -> dict[str, Path]:
    """The ``<lang>.txt`` files of ``directory`` by language.

    Every ``.txt`` file is a language: the alignment and parity are over all of them, so one whose name
    is no language tag (``README.txt``) is refused rather than read as a language or left out unseen.
    """
    files: dict[str, Path] = {}
    unnamed = []
    entries = sorted(path for path in directory.iterdir() if path.is_file() and not path.name.startswith("."))
    refuse_unread_compressions(entries, (".txt",))  # a uz.txt.zip would be left out as index.tsv is
    for path in entries:
        stem, compression, fmt = split_suffixes(path)
        if fmt != "txt" or not path.name.lower().removesuffix(compression or "").endswith(".txt"):
            continue  # index.tsv, README.md... are not languages
        if not names_a_language(stem):
            unnamed.append(path.name)
            continue
        lang = canonical_language(stem)  # pt_BR.txt is pt-BR, as it is for --corpus and --ref-lang
        if lang in files:
            raise CorpusError(
                f"two files for language {lang!r} in {directory}: {files[lang].name} and {path.name}",
                # ca.txt and cat.txt, en.txt and eng_Latn.txt: one language however its tag is spelt
                f"keep one; two versions of a language are told apart by a private-use subtag ({lang}-x-2.txt)",
            )
        files[lang] = path
    if unnamed:
        raise CorpusError(
            f"parallel corpus {directory}: {', '.join(unnamed)} {'is' if len(unnamed) == 1 else 'are'} not named "
            "by a language tag, and every .txt file of the folder is read as one language",
            "name a language's file by its BCP 47 tag (de.txt, pt-BR.txt or pt_BR.txt, x-name.txt for a private "
            "name); move other text out of the folder or give it another extension (README.md)",
        )
    return files


def _blank_lines(files: Sequence[Path], errors: str) -> list[set[int]]:
    """0-based indices of the blank lines of each file (streaming; decodes, so bad bytes surface here)."""
    blanks = []
    for path in files:
        found: set[int] = set()
        stats = ReadStats()
        for lines, _, first_line in iter_line_blocks(path, errors=errors, stats=stats):
            found.update(first_line - 1 + i for i, line in enumerate(lines) if not line.strip())
        blanks.append(found)
    return blanks


def _describe_counts(counts: dict[str, int], files: dict[str, Path], shown: int = 4) -> str:
    """``"fr.txt: 2 lines; de.txt, en.txt: 3 lines"``, the rarest counts first (the likely culprits)."""
    by_count: dict[int, list[str]] = {}
    for lang, n in counts.items():
        by_count.setdefault(n, []).append(files[lang].name)
    parts = []
    for n, names in sorted(by_count.items(), key=lambda item: (len(item[1]), item[0])):
        listed = ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")
        parts.append(f"{listed}: {n} lines")
    return "; ".join(parts)


def _trailing_blank_lines(path: Path) -> int:
    """Blank lines at the end of a text file, after its last non-blank one."""
    trailing = 0
    for lines, _, _ in iter_line_blocks(path, errors="replace", stats=ReadStats()):
        last = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].strip()), None)
        trailing = trailing + len(lines) if last is None else len(lines) - 1 - last
    return trailing


def _describe_trailing_blanks(counts: dict[str, int], files: dict[str, Path]) -> str:
    """``"; pt_BR.txt ends with 1 blank line"`` for the longer files that end in blank lines (an editor's
    extra empty line, which it does not show), or ``""``."""
    notes = []
    for lang, count in counts.items():
        trailing = _trailing_blank_lines(files[lang]) if count > min(counts.values()) else 0
        if trailing:
            notes.append(f"; {files[lang].name} ends with {trailing} blank line{'s' if trailing > 1 else ''}")
    return "".join(notes)


def _other_suffix_hint(folder: Path) -> str | None:
    """How to read files named by a language but not ``.txt`` (FLORES-200 ships ``eng_Latn.devtest``), or None."""
    named = sorted(path for path in folder.iterdir() if path.is_file() and "." in path.name
                   and guess_language(path.name.split(".", 1)[0]) is not None)
    if not named:
        return None
    suffix = "." + named[0].name.split(".", 1)[1]
    return (f"{named[0].name} and the like are named by a language but not .txt: link them as <lang>.txt, e.g. "
            f"for f in *{suffix}; do ln -s \"$f\" \"${{f%{suffix}}}.txt\"; done")


def open_parallel(
    directory: str | Path, *, langs: Sequence[str] | None = None, errors: str = "strict"
) -> ParallelCorpus:
    """Open and check a folder of line-aligned ``<lang>.txt`` files (``.txt.gz``/``.zst``/``.xz``/``.bz2`` too).

    Args:
        directory: the folder; other files (``index.tsv``...) and subfolders are ignored.
        langs: keep only these languages (all by default); a tag also names the one file whose tag extends it
            (``ko``: ``ko-Hang.txt``), which keeps its own tag.
        errors: ``"strict"`` or ``"replace"``, as for :class:`Corpus`.

    Raises:
        CorpusError: the folder is missing or has no ``.txt`` file, a requested language is absent,
            the files differ in line count (misaligned), or no line is non-blank in every language.
        InputError: a requested tag names several files (``zh``: ``zh-Hans`` and ``zh-Hant``).
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise CorpusError(
            f"no such directory: {folder}" if not folder.exists() else f"{folder} is not a directory",
            "give a folder of <lang>.txt files, one segment per line (measure --parallel, train --dev)",
        )
    files = language_files(folder)
    if not files:
        raise CorpusError(f"empty parallel corpus: no <lang>.txt files in {folder}", _other_suffix_hint(folder))
    if langs is not None:
        if not langs:
            raise CorpusError(f"no language of the parallel corpus {folder} is chosen", f"languages: {' '.join(files)}")
        # ko names the folder's ko-Hang.txt (FLORES-200's kor_Hang), which keeps its tag
        chosen = resolve_languages(langs, files, f"the parallel corpus {folder}")
        missing = [lang for lang, found in chosen.items() if found is None]
        if missing:
            raise CorpusError(
                f"parallel corpus {folder} has no file for {', '.join(missing)}", f"languages: {' '.join(files)}"
            )
        files = {lang: files[lang] for lang in sorted(filter(None, chosen.values()))}
    counts = {lang: count_lines(path) for lang, path in files.items()}
    if len(set(counts.values())) > 1:
        raise CorpusError(
            f"misaligned parallel corpus {folder}: the files differ in line count: {_describe_counts(counts, files)}"
            + _describe_trailing_blanks(counts, files),
            "each <lang>.txt must have one line per segment, the same segments in the same order (a line ends at "
            "\\n, \\r\\n or a lone \\r: a lone \\r inside a segment, which `wc -l` does not count, makes it two)",
        )
    total = next(iter(counts.values()))
    blanks = _blank_lines(list(files.values()), errors)
    skipped = frozenset().union(*blanks)
    if total - len(skipped) <= 0:
        blank_files = [path.name for path, blank in zip(files.values(), blanks, strict=True) if len(blank) == total]
        which = f": {', '.join(blank_files)} {'holds' if len(blank_files) == 1 else 'hold'} only blank lines"
        raise CorpusError(f"empty parallel corpus {folder}: no line is non-blank in every language"
                          + (which if blank_files else ""),
                          "a blank line marks the segment missing in that language: fill the file, or leave its "
                          "language out (measure --lang)")
    corpora = tuple(
        AlignedCorpus(name=lang, lang=lang, sources=(path,), errors=errors, skipped=skipped)
        for lang, path in files.items()
    )
    return ParallelCorpus(
        name=folder.resolve().name,
        directory=folder,
        corpora=corpora,
        total_lines=total,
        skipped_lines=tuple(sorted(skipped)),
        blank_counts={lang: len(b) for lang, b in zip(files, blanks, strict=True)},
    )


__all__ = ["AlignedCorpus", "ParallelCorpus", "count_lines", "open_parallel"]
