"""Streaming corpus readers: ``.txt``, ``.jsonl`` (``.json``) and ``.parquet``, optionally
``.gz``/``.zst``/``.xz``/``.bz2``, files, directories and globs, each behind one :class:`Corpus` that yields
documents (str).

Memory stays flat: text files are read in blocks of :data:`READ_BLOCK` bytes cut at a line end
(``\\n``, ``\\r\\n`` or a lone ``\\r``, as in Python's universal newlines) and decoded one block at a time;
parquet files are read batch by batch. Only ``doc_per="file"`` holds a whole file (it *is* the
document).

Decoding is strict UTF-8 by default: the first bad byte raises a :class:`CorpusError` naming the file,
the line and the byte offset. With ``errors="replace"`` bad bytes become U+FFFD and reading goes on;
:attr:`Corpus.read_stats` counts the replacements so the caller can report them.
"""

from __future__ import annotations

import bisect
import bz2
import glob
import gzip
import hashlib
import io
import itertools
import json
import lzma
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import IO

from tokensmith.corpus.language_tags import UNDETERMINED, canonical_language, guess_language
from tokensmith.errors import CorpusError, InputError, MissingDependencyError
from tokensmith.registry import Registry

#: Bytes read (and decoded) at a time; lines longer than this are joined across reads.
READ_BLOCK = 1 << 20

#: Default batch size of :meth:`Corpus.iter_batches`, in UTF-8 bytes.
BATCH_BYTES = 4_000_000

DOC_PER = ("line", "file")
ERRORS = ("strict", "replace")
REPLACE_HINT = "fix the file, or pass --errors replace to decode bad bytes as U+FFFD and go on"

_BOM = b"\xef\xbb\xbf"
_REPLACEMENT_UTF8 = "\ufffd".encode()
_GLOB_CHARS = re.compile(r"[*?\[]")
_SURROGATE = re.compile("[\ud800-\udfff]")

#: A corpus name given as LABEL=PATH.
_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,39}")

#: What a JSON value that is not a string is called, for the error that names it.
_JSON_KINDS = {str: "string", bool: "boolean", int: "number", float: "number", list: "array", dict: "object"}


# -- compression and formats --------------------------------------------------------------------
class _ZstdFrames:
    """The decompressed bytes of a ``.zst`` file, frame after frame.

    zstandard's ``stream_reader`` stops without a word where a file is cut short; here a file that ends
    inside a frame raises ``EOFError``, as ``gzip`` does.
    """

    def __init__(self, path: Path) -> None:
        import zstandard  # light, but only text-file users of .zst need it

        self._raw = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._new_frame = zstandard.ZstdDecompressor().decompressobj
        self._frame = None  # the decoder of the frame being read, None between frames
        self._pending = memoryview(b"")

    def read(self, size: int) -> bytes:
        while not self._pending:
            data = self._raw.read(READ_BLOCK)
            if not data:
                if self._frame is not None:
                    raise EOFError("the file ends inside a zstd frame")
                return b""
            self._pending = memoryview(self._decompress(data))
        chunk, self._pending = self._pending[:size], self._pending[size:]
        return bytes(chunk)

    def _decompress(self, data: bytes) -> bytes:
        out = []
        while data:
            if self._frame is None:
                self._frame = self._new_frame()
            out.append(self._frame.decompress(data))
            if not self._frame.eof:
                break
            data, self._frame = self._frame.unused_data, None
        return b"".join(out)

    def close(self) -> None:
        self._raw.close()


class _Decompressed(io.RawIOBase):
    """A decoder's stream (gzip, zstd, xz, bz2) where a damaged or cut-short file is one :class:`CorpusError`
    naming it, instead of the decoder's own exception."""

    def __init__(self, path: Path, decoder) -> None:
        self._path = path
        self._decoder = decoder

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._decoder.read(len(buffer))
        except Exception as exc:  # EOFError, gzip.BadGzipFile, zlib.error, zstandard.ZstdError, lzma.LZMAError...
            raise CorpusError(f"{self._path}: the compressed data is damaged or cut short ({exc})",
                              "compress the file again from its source, or pass the uncompressed file") from None
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._decoder.close()
        super().close()


#: Suffix -> opener returning a decompressed binary stream.
COMPRESSIONS: Registry[Callable[[Path], IO[bytes]]] = Registry("compression")
COMPRESSIONS.add(".gz", lambda path: gzip.open(path, "rb"))  # noqa: SIM115 - the reader closes it
COMPRESSIONS.add(".zst", _ZstdFrames)
COMPRESSIONS.add(".xz", lambda path: lzma.open(path, "rb"))  # noqa: SIM115 - CC-100 ships .txt.xz
COMPRESSIONS.add(".bz2", lambda path: bz2.open(path, "rb"))  # noqa: SIM115

#: Suffix (after any compression suffix) -> format name.
#: A .json file is read as JSON Lines: HF datasets' to_json() writes them so (one JSON document is refused).
FORMAT_SUFFIXES = {".txt": "txt", ".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet"}


def split_suffixes(path: Path) -> tuple[str, str | None, str]:
    """``(stem, compression suffix or None, format)`` of a file name: ``de.jsonl.zst`` -> ``("de", ".zst", "jsonl")``.

    A name without a known format suffix is a text file (stem = the name without its compression).
    """
    name = path.name
    compression = None
    lowered = name.lower()
    for suffix in COMPRESSIONS:
        if lowered.endswith(suffix):
            compression, name, lowered = suffix, name[: -len(suffix)], lowered[: -len(suffix)]
            break
    for suffix, fmt in FORMAT_SUFFIXES.items():
        if lowered.endswith(suffix):
            return name[: -len(suffix)], compression, fmt
    return name, compression, "txt"


def has_known_format(path: Path) -> bool:
    """Whether a file in a directory is a corpus file (known format suffix, optionally compressed)."""
    lowered = path.name.lower()
    for suffix in COMPRESSIONS:
        lowered = lowered.removesuffix(suffix)
    return any(lowered.endswith(s) for s in FORMAT_SUFFIXES)


def open_binary(path: Path) -> IO[bytes]:
    """The decompressed bytes of ``path`` as a stream (compression chosen by suffix)."""
    _, compression, _ = split_suffixes(path)
    try:
        if compression is None:
            return open(path, "rb")
        return io.BufferedReader(_Decompressed(path, COMPRESSIONS.get(compression)(path)), READ_BLOCK)
    except OSError as exc:
        raise unreadable(path, exc) from None


def unreadable(path: Path | str, exc: OSError) -> CorpusError:
    """The error for a corpus file that cannot be opened or read: missing, or any other reason (no read
    permission, a symbolic link looping on itself), named."""
    if isinstance(exc, FileNotFoundError):
        return CorpusError(f"no such file: {path}")
    return CorpusError(f"cannot read {path}: {exc.strerror or exc}")


# -- reading statistics -------------------------------------------------------------------------
@dataclass
class ReadStats:
    """What one pass over a corpus met; reset at the start of every :meth:`Corpus.iter_documents`.

    Attributes:
        documents: documents yielded so far.
        replacements: byte sequences decoded as U+FFFD (``errors="replace"`` only).
        first_replacement: ``"file:line"`` of the first replacement, for the report.
        empty_records: JSONL records and parquet rows skipped because their text is null or ``""``
            (no document to measure or train on; counted so that no record is dropped unseen).
        first_empty_record: ``"file:line"`` (JSONL) or ``"file:row N"`` (parquet) of the first of them.
    """

    documents: int = 0
    replacements: int = 0
    first_replacement: str | None = None
    empty_records: int = 0
    first_empty_record: str | None = None

    def reset(self) -> None:
        self.documents, self.replacements, self.first_replacement = 0, 0, None
        self.empty_records, self.first_empty_record = 0, None

    def add(self, other: ReadStats) -> None:
        """Count what ``other`` (a pass over more files) met as well (its first places only if none yet)."""
        self.documents += other.documents
        self.replacements += other.replacements
        self.first_replacement = self.first_replacement or other.first_replacement
        if other.empty_records:
            self.skip_empty(other.first_empty_record, other.empty_records)

    def skip_empty(self, where: str, count: int = 1) -> None:
        """Count ``count`` records without text, the first of them at ``where``."""
        self.empty_records += count
        self.first_empty_record = self.first_empty_record or where

    def record(self) -> dict[str, int | str | None]:
        """What reading changed or left out, as a corpus' description in results.json records it (and
        :func:`tokensmith.tables.warn_reading` reads it)."""
        return {"replaced_byte_sequences": self.replacements, "first_replacement": self.first_replacement,
                "empty_records": self.empty_records, "first_empty_record": self.first_empty_record}

    def describe_empty(self) -> str:
        """``"3 records with a null or empty text (the first at a.jsonl:7)"``, or ``""`` when none."""
        return describe_empty_records(self.empty_records, self.first_empty_record)


def describe_empty_records(count: int, first: str | None) -> str:
    """What :attr:`ReadStats.empty_records` says, in words (``""`` when ``count`` is 0)."""
    if not count:
        return ""
    return f"{count} record{'s' if count > 1 else ''} with a null or empty text (the first at {first})"


# -- line ends ----------------------------------------------------------------------------------
# Text files end their lines as Python's universal newlines do: "\n", "\r\n" or a lone "\r" (old Mac
# files). U+2028, U+0085, \v and \f are characters inside a line, as for open() and HF datasets' text
# loader (str.splitlines() would break there too). JSON Lines ends records with "\n" only: a lone "\r"
# is whitespace inside a record there (universal=False).
def count_line_ends(data: bytes, end: int | None = None, *, universal: bool = True) -> int:
    """Line ends in ``data[:end]``: every ``\\n``, and with ``universal`` every ``\\r`` not followed by ``\\n``."""
    end = len(data) if end is None else end
    ends = data.count(b"\n", 0, end)
    if universal and b"\r" in data:
        ends += data.count(b"\r", 0, end) - data.count(b"\r\n", 0, end)
    return ends


def _line_start(data: bytes, position: int, *, universal: bool) -> int:
    """Index in ``data`` of the first byte of the line holding ``data[position]``."""
    last = data.rfind(b"\n", 0, position)
    if universal:
        last = max(last, data.rfind(b"\r", 0, position))
    return last + 1


def _last_line_end(chunk: bytes, *, universal: bool) -> int:
    """Index just past the last line end of ``chunk`` (0 if none), a read that more bytes may follow: a
    final ``\\r`` may be the first half of a ``\\r\\n``, so it ends no line yet."""
    cut = chunk.rfind(b"\n")
    if universal:
        end = len(chunk) - 1 if chunk.endswith(b"\r") else len(chunk)
        cut = max(cut, chunk.rfind(b"\r", 0, end))
    return cut + 1


def _decode(block: bytes, *, source: Path, first_line: int, offset: int, errors: str, stats: ReadStats,
            universal: bool) -> str:
    """UTF-8 text of ``block`` (whole lines of ``source`` starting at ``first_line``/byte ``offset``)."""
    if errors == "strict":
        return decode_text(block, source=source, first_line=first_line, offset=offset, not_utf8_hint=REPLACE_HINT,
                           binary_hint="pass text files (UTF-8), or --errors replace to read it anyway",
                           universal=universal)
    return decode_with_replacements(block, source=source, first_line=first_line, stats=stats, universal=universal)


def decode_with_replacements(block: bytes, *, source: Path, first_line: int, stats: ReadStats,
                             universal: bool = False) -> str:
    """UTF-8 text of ``block`` (whole lines of ``source`` from ``first_line``), each bad byte sequence read as
    U+FFFD and counted in ``stats`` (``errors="replace"``)."""
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = block.decode("utf-8", "replace")
        # Genuine U+FFFD characters in the file are valid UTF-8; only the new ones are replacements.
        stats.replacements += text.count("\ufffd") - block.count(_REPLACEMENT_UTF8)
        line = first_line + count_line_ends(block, exc.start, universal=universal)
        stats.first_replacement = stats.first_replacement or f"{source}:{line}"
        return text


def decode_text(block: bytes, *, source: Path, first_line: int, offset: int, not_utf8_hint: str,
                binary_hint: str, universal: bool = False) -> str:
    """The UTF-8 text of ``block`` (whole lines of ``source`` from ``first_line``, at byte ``offset``).

    Lines are numbered by ``\\n``, and with ``universal`` by a lone ``\\r`` too (:func:`count_line_ends`).

    Raises:
        CorpusError: a byte that is not UTF-8, or a NUL byte (:func:`refuse_binary`), located by file, line
            and byte offset; the hints name what the calling command can do about each.
    """
    try:
        text = block.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = exc.start
        line = first_line + count_line_ends(block, bad, universal=universal)
        column = bad - _line_start(block, bad, universal=universal)
        compressed = split_suffixes(source)[1] is not None
        raise CorpusError(
            f"{source}:{line}: byte offset {offset + bad}{' (of the decompressed stream)' if compressed else ''} "
            f"(byte {column} of line {line}) is not UTF-8: 0x{block[bad]:02x}",
            not_utf8_hint,
        ) from None
    refuse_binary(text, block, source=source, first_line=first_line, offset=offset, hint=binary_hint,
                  universal=universal)
    return text


def _other_unicode(encoding: str) -> tuple[str, str]:
    return (f"starts with a {encoding} byte-order mark: it is {encoding[:6]} text, not UTF-8",
            f"convert it first: iconv -f {encoding[:6]} -t UTF-8 {{source}} > NEW.txt")


def _compressed(kind: str, hint: str) -> tuple[str, str]:
    return f"holds {kind}-compressed data, not text", hint


#: Compressions the readers do not decompress, with the command that does.
UNREAD_COMPRESSIONS = {".zip": "unzip", ".lz4": "lz4 -d", ".7z": "7z x", ".br": "brotli -d"}
_UNREAD_COMPRESSION = ("decompress it first ({tool} {{source}}); "
                       f"{', '.join(COMPRESSIONS)} files are decompressed as they are read")
_MISSING_SUFFIX = "name it {{source.name}}{suffix}: such a file is decompressed as it is read"
#: How files that are no UTF-8 text start (UTF-32 LE before UTF-16 LE, whose mark it begins with): what the
#: file is, and what to do. Read as text they stopped at "byte 0 is not UTF-8" with a hint at --errors replace,
#: which then measured their bytes (every other one a NUL for UTF-16, Notepad's "Unicode").
_NOT_TEXT_STARTS: dict[re.Pattern[bytes], tuple[str, str]] = {
    re.compile(rb"\xff\xfe\x00\x00"): _other_unicode("UTF-32 LE"),
    re.compile(rb"\x00\x00\xfe\xff"): _other_unicode("UTF-32 BE"),
    re.compile(rb"\xff\xfe"): _other_unicode("UTF-16 LE"),
    re.compile(rb"\xfe\xff"): _other_unicode("UTF-16 BE"),
    re.compile(rb"\x1f\x8b"): _compressed("gzip", _MISSING_SUFFIX.format(suffix=".gz")),
    re.compile(rb"\x28\xb5\x2f\xfd"): _compressed("zstd", _MISSING_SUFFIX.format(suffix=".zst")),
    re.compile(rb"\xfd7zXZ\x00"): _compressed("xz", _MISSING_SUFFIX.format(suffix=".xz")),
    re.compile(rb"BZh[1-9]1AY&SY"): _compressed("bz2", _MISSING_SUFFIX.format(suffix=".bz2")),
    re.compile(rb"PK\x03\x04"): _compressed("zip", _UNREAD_COMPRESSION.format(tool=UNREAD_COMPRESSIONS[".zip"])),
    re.compile(rb".{257}ustar {0,2}\x00", re.DOTALL): ("holds a tar archive, not text",
                                            "unpack it first (tar -xf {source}) and pass the folder of its files"),
}


def refuse_known_non_text(data: bytes, *, source: Path) -> None:
    """Refuse a file whose first bytes (``data``) show it is no UTF-8 text: UTF-16 or UTF-32 (by their
    byte-order marks), compressed data the readers do not decompress, or a tar archive (:data:`_NOT_TEXT_STARTS`).

    Raises:
        CorpusError: naming what the file holds, with what to do about it.
    """
    for start, (what, hint) in _NOT_TEXT_STARTS.items():
        if start.match(data):
            raise CorpusError(f"{source}: the file {what}", hint.format(source=source))


def strip_bom(data: bytes) -> tuple[bytes, int]:
    """``data`` without a leading UTF-8 byte-order mark (not text), and the number of bytes dropped."""
    return (data[len(_BOM):], len(_BOM)) if data.startswith(_BOM) else (data, 0)


def refuse_binary(text: str, block: bytes, *, source: Path, first_line: int, offset: int, hint: str,
                  universal: bool = False) -> None:
    """Refuse decoded text holding a NUL byte: valid UTF-8, but no text file has one, and a binary file
    read as text would otherwise go on to be counted.

    ``block`` is the bytes ``text`` was decoded from (whole lines of ``source`` from ``first_line``, at
    byte ``offset``, lines numbered as :func:`decode_text` does); ``hint`` names what the calling command
    can do about it.

    Raises:
        CorpusError: ``text`` holds a NUL byte.
    """
    if "\x00" in text:
        bad = block.index(b"\x00")
        line = first_line + count_line_ends(block, bad, universal=universal)
        raise CorpusError(
            f"{source}:{line}: byte offset {offset + bad} is a NUL byte: this looks like a binary file, not text",
            hint,
        )


def iter_line_blocks(source: Path, *, errors: str, stats: ReadStats,
                     universal: bool = True) -> Iterator[tuple[list[str], list[int], int]]:
    """Decoded lines of a text file, a block at a time: ``(lines, utf8_sizes, number of the first line)``.

    Line terminators are stripped: ``\\n``, ``\\r\\n`` and, with ``universal`` (the default, as Python's
    universal newlines), a lone ``\\r``; without it (JSON Lines) a lone ``\\r`` stays in its line. Empty
    lines are kept (callers filter); a UTF-8 byte-order mark at the start of the file is dropped. Sizes
    are the byte lengths of the lines without their terminators.
    """
    first_line, offset, pending = 1, 0, []
    with open_binary(source) as stream:
        at_start = True
        while True:
            chunk = stream.read(READ_BLOCK)
            if chunk:
                cut = _last_line_end(chunk, universal=universal)
                if cut == 0:  # no line end yet: a long line continues in the next read
                    pending.append(chunk)
                    continue
                block = b"".join([*pending, chunk[:cut]])
                pending = [chunk[cut:]] if cut < len(chunk) else []
            else:
                block = b"".join(pending)
                pending = []
                if not block:
                    return
            if at_start:
                at_start = False
                refuse_known_non_text(block, source=source)
                block, offset = strip_bom(block)
            text = _decode(block, source=source, first_line=first_line, offset=offset, errors=errors, stats=stats,
                           universal=universal)
            lines, sizes = _split_lines(text, block, universal=universal)
            yield lines, sizes, first_line
            first_line += count_line_ends(block, universal=universal)
            offset += len(block)
            if not chunk:
                return


def _split_lines(text: str, block: bytes, *, universal: bool) -> tuple[list[str], list[int]]:
    """The lines of ``text`` (decoded from ``block``, whole lines) without terminators, and their byte sizes."""
    if "\r" in text:
        if universal:  # one terminator for all three; the byte sizes are of the same lines
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            block = block.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        else:
            text = text.replace("\r\n", "\n")
            block = block.replace(b"\r\n", b"\n")
    lines = text.split("\n")
    sizes = list(map(len, block.split(b"\n")))
    if text.endswith("\n"):
        lines.pop()
        sizes.pop()
    return lines, sizes


def _read_whole_file(source: Path, *, errors: str, stats: ReadStats) -> tuple[str, int]:
    with open_binary(source) as stream:
        data = stream.read()
    refuse_known_non_text(data, source=source)
    body, skipped = strip_bom(data)
    text = _decode(body, source=source, first_line=1, offset=skipped, errors=errors, stats=stats, universal=True)
    return text, len(data)


# A reader turns one source file into blocks of (documents, their UTF-8 sizes).
DocumentBlocks = Iterator[tuple[list[str], list[int]]]


def _txt_blocks(corpus: Corpus, source: Path) -> DocumentBlocks:
    if corpus.doc_per == "file":
        text, size = _read_whole_file(source, errors=corpus.errors, stats=corpus.read_stats)
        if text:
            yield [text], [size]
        return
    for lines, sizes, _ in iter_line_blocks(source, errors=corpus.errors, stats=corpus.read_stats):
        if all(lines):
            yield lines, sizes
        else:  # empty lines are not documents (compress keeps the filtering in C)
            non_empty = list(map(bool, lines))
            yield list(itertools.compress(lines, non_empty)), list(itertools.compress(sizes, non_empty))


_JSON_LINES_HINT = "JSON Lines (.jsonl, and .json as HF datasets' to_json writes it) hold one JSON object per line"
_TO_JSON_LINES_HINT = ("convert it to one record per line: jq -c '.[]' {source} > NEW.jsonl (records under a key "
                       "of an object: jq -c '.KEY[]'); a file of no records beside the data (dataset_info.json) is "
                       "left out by naming the data files with a glob (data/*.jsonl)")


def _refuse_json_document(line: str, number: int, source: Path, error: json.JSONDecodeError | None) -> None:
    """Refuse a file whose first record (``line``, ``number``; its parse ``error``, if any) shows it holds
    one JSON document, not JSON Lines: an array of records, or an object pretty-printed over many lines
    (its first line does not close: the parse fails at the line's end)."""
    stripped = line.strip()
    if stripped.startswith("["):
        what = "a JSON array"
    elif stripped.startswith("{") and error is not None and error.pos >= len(line.rstrip()):
        what = "one JSON object spread over many lines"
    else:
        return
    raise CorpusError(f"{source}:{number}: the file holds {what}, not JSON Lines (one JSON object per line)",
                      _TO_JSON_LINES_HINT.format(source=source))


_FIELD_HINT = "choose the text field with --field NAME (a dotted path, --field meta.text, reaches into nested objects)"


def _longest_key(path: str, keys) -> tuple[str, str] | None:
    """``(key, rest of the path)`` for the longest dotted prefix of ``path`` in ``keys`` (a key named with
    dots, ``v1.text``, is taken before ``v1``), or None when no prefix is a key."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        head = ".".join(parts[:cut])
        if head in keys:
            return head, ".".join(parts[cut:])
    return None


def _records_under_a_key_hint(record: dict, where: str) -> str:
    """A hint's ending for a record holding an array of objects (SQuAD's ``{"data": [...]}``, HF datasets'
    ``field="data"``): those may be the records, one JSON document rather than JSON Lines."""
    arrays = [key for key, value in record.items() if isinstance(value, list) and value and isinstance(value[0], dict)]
    if not arrays:
        return ""
    source = where.rsplit(":", 1)[0]
    key = arrays[0]
    jq_path = f".{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else f".[{json.dumps(key)}]"
    return (f"; {key!r} holds an array of objects: if those are the records, convert them to one per line: "
            f"jq -c '{jq_path}[]' {source} > NEW.jsonl")


def _nested_field(record: dict, path: str, *, where: str) -> object:
    """The value at ``path`` in ``record`` when no top-level key is ``path`` itself: a dotted path into nested
    objects (``meta.text``), the longest key named with dots taken first at every depth (:func:`_longest_key`);
    None past a null object (an optional object left out: no text, as a null text).

    Raises:
        CorpusError: at ``where`` (``file:line``), the path leads to no value.
    """
    value: object = record
    walked: list[str] = []
    rest = path
    while True:
        if value is None:
            return None
        if not isinstance(value, dict):
            kind = _JSON_KINDS.get(type(value), "value")
            raise CorpusError(f"{where}: field {'.'.join(walked)!r} holds a JSON {kind}, not an object: "
                              f"no field {path!r}", _FIELD_HINT)
        found = _longest_key(rest, value)
        if found is None:
            known = ", ".join(sorted(map(str, value))) or "none"
            inside = f" of {'.'.join(walked)!r}" if walked else ""
            raise CorpusError(f"{where}: no field {path!r} (fields{inside}: {known})", _FIELD_HINT
                              + ("" if walked else _records_under_a_key_hint(value, where)))
        head, rest = found
        value = value[head]
        walked.append(head)
        if not rest:
            return value


#: Bytes a JSON Lines file is peeked at for a JSON array (pandas writes one as a single line of the whole file).
_JSON_PEEK = 4096


def _refuse_json_array(source: Path) -> None:
    """Refuse a file that starts with a JSON array from its first bytes, before its first line (maybe the
    whole file) is gathered and parsed."""
    with open_binary(source) as stream:
        head, _ = strip_bom(stream.read(_JSON_PEEK))
    value = head.lstrip(b" \t\r\n")  # JSON's whitespace
    if value.startswith(b"["):
        _refuse_json_document("[", 1 + head.count(b"\n", 0, len(head) - len(value)), source, None)


def _jsonl_blocks(corpus: Corpus, source: Path) -> DocumentBlocks:
    key = corpus.field
    _refuse_json_array(source)
    lines_of = iter_line_blocks(source, errors=corpus.errors, stats=corpus.read_stats, universal=False)
    first_record = True
    for lines, sizes, first_line in lines_of:
        docs: list[str] = []
        doc_sizes: list[int] = []
        for number, (line, size) in enumerate(zip(lines, sizes, strict=True), start=first_line):
            if not line.strip():
                continue
            if first_record:
                _refuse_json_document(line, number, source, None)  # an array, before parsing it
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                if first_record:
                    _refuse_json_document(line, number, source, exc)
                raise CorpusError(f"{source}:{number}: not valid JSON ({exc.msg} at column {exc.colno})",
                                  _JSON_LINES_HINT) from None
            except (RecursionError, ValueError) as exc:  # nested too deep; an integer of over 4,300 digits
                what = "arrays or objects nested too deeply" if isinstance(exc, RecursionError) else str(exc)
                raise CorpusError(f"{source}:{number}: JSON that Python cannot read ({what})",
                                  _JSON_LINES_HINT) from None
            first_record = False
            if not isinstance(record, dict):
                raise CorpusError(f"{source}:{number}: expected a JSON object, got {type(record).__name__}",
                                  _JSON_LINES_HINT)
            text = record[key] if key in record else _nested_field(record, key, where=f"{source}:{number}")
            if text is None or text == "":  # no text, as a parquet null cell: no document, but counted
                corpus.read_stats.skip_empty(f"{source}:{number}")
                continue
            if not isinstance(text, str):
                kind = _JSON_KINDS.get(type(text), "value")
                raise CorpusError(f"{source}:{number}: field {key!r} holds a JSON {kind}, not a string", _FIELD_HINT)
            if "\\u" in line and _SURROGATE.search(text):  # "\ud800" escapes decode to lone surrogates
                if corpus.errors == "strict":
                    raise CorpusError(f"{source}:{number}: field {key!r} holds a lone surrogate escape", REPLACE_HINT)
                text, replaced = _SURROGATE.subn("\ufffd", text)
                corpus.read_stats.replacements += replaced
                corpus.read_stats.first_replacement = corpus.read_stats.first_replacement or f"{source}:{number}"
            docs.append(text)
            doc_sizes.append(size)  # JSON escapes make this approximate, which batching tolerates
        if docs:
            yield docs, doc_sizes


def _parquet_blocks(corpus: Corpus, source: Path) -> DocumentBlocks:
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependencyError("reading .parquet corpora", ["pyarrow"]) from None
    with tempfile.TemporaryDirectory(prefix="tokensmith-parquet-") as scratch:
        path = source
        if split_suffixes(source)[1] is not None:  # parquet needs random access: decompress to disk first
            path = Path(scratch) / "corpus.parquet"
            with open_binary(source) as stream, open(path, "wb") as out:
                shutil.copyfileobj(stream, out, READ_BLOCK)
        try:
            parquet = pq.ParquetFile(path)
        except FileNotFoundError:
            raise CorpusError(f"no such file: {source}") from None
        except Exception as exc:  # pyarrow raises ArrowInvalid & co. for a file that is not parquet
            raise CorpusError(f"{source}: not a readable parquet file ({exc})") from None
        with parquet:
            top, children, kind = _parquet_column_path(parquet.schema_arrow, corpus.column, source=source)
            # pandas writes a categorical column of strings dictionary-encoded: text all the same
            dictionary = pa.types.is_dictionary(kind)
            if str(kind.value_type if dictionary else kind) not in ("string", "large_string", "string_view"):
                raise CorpusError(f"{source}: column {corpus.column!r} holds {kind}, not strings", _COLUMN_HINT)
            batches = parquet.iter_batches(batch_size=8192, columns=[top])
            first_row = 1
            while True:
                try:
                    batch = next(batches, None)
                except (pa.ArrowException, OSError) as exc:  # a damaged page inside a readable file
                    raise CorpusError(f"{source}: the parquet data is damaged ({exc})") from None
                if batch is None:
                    return
                # by name: columns=["meta.text"] also brings a struct "meta"'s child "text", first
                column = batch.column(top)
                if children:
                    column = pc.struct_field(column, children)  # null where a struct on the path is null
                if dictionary:
                    column = column.dictionary_decode()
                if pa.types.is_string_view(column.type):  # binary_length has no kernel for views
                    column = column.cast(pa.large_string())
                texts = _parquet_texts(column, corpus, source=source, first_row=first_row)
                sizes = pc.binary_length(column).to_pylist()
                kept = [(t, s) for t, s in zip(texts, sizes, strict=True) if t]
                if len(kept) < len(texts):  # null cells and "": no document, but counted
                    first_empty = first_row + next(i for i, t in enumerate(texts) if not t)
                    corpus.read_stats.skip_empty(f"{source}:row {first_empty}", len(texts) - len(kept))
                first_row += len(texts)
                if kept:
                    yield [t for t, _ in kept], [s for _, s in kept]


_COLUMN_HINT = "choose the text column with --column NAME (a dotted path, --column meta.text, reaches into structs)"


def _parquet_column_path(schema, column: str, *, source: Path) -> tuple[str, list[int], object]:
    """Where ``column`` is in a parquet ``schema``: the top-level column, the indices of the struct fields
    down to it, and its type. A dotted path (``meta.text``) reaches into struct columns, the longest name
    with dots taken first at every depth (:func:`_longest_key`).

    Raises:
        CorpusError: the path leads to no column.
    """
    import pyarrow as pa

    level = list(schema)
    walked: list[str] = []
    indices: list[int] = []
    rest = column
    while True:
        names = [field.name for field in level]
        found = _longest_key(rest, names)
        if found is None:
            inside = f"fields of {'.'.join(walked)!r}" if walked else "columns"
            raise CorpusError(f"{source}: no column {column!r} ({inside}: {', '.join(names)})", _COLUMN_HINT)
        head, tail = found
        index = names.index(head)
        walked.append(head)
        indices.append(index)
        kind = level[index].type
        if not tail:
            return walked[0], indices[1:], kind
        if not pa.types.is_struct(kind):
            raise CorpusError(f"{source}: column {'.'.join(walked)!r} holds {kind}, not a struct: "
                              f"no column {column!r}", _COLUMN_HINT)
        level = [kind.field(i) for i in range(kind.num_fields)]
        rest = tail


def _parquet_texts(column, corpus: Corpus, *, source: Path, first_row: int) -> list[str | None]:
    """The strings of a parquet column batch. Parquet writers need not check that a string column is
    UTF-8; pyarrow checks only when it converts, so bad bytes are found here, by row."""
    try:
        return column.to_pylist()
    except UnicodeDecodeError:
        pass
    import pyarrow as pa

    values = column.cast(pa.large_binary(), safe=False).to_pylist()
    texts: list[str | None] = []
    for row, value in enumerate(values, start=first_row):
        if value is None:
            texts.append(None)
            continue
        try:
            texts.append(value.decode("utf-8"))
        except UnicodeDecodeError as exc:
            if corpus.errors == "strict":
                raise CorpusError(
                    f"{source}: row {row} of column {corpus.column!r}: byte {exc.start} is not UTF-8: "
                    f"0x{value[exc.start]:02x}",
                    REPLACE_HINT,
                ) from None
            text = value.decode("utf-8", "replace")
            corpus.read_stats.replacements += text.count("\ufffd") - value.count(_REPLACEMENT_UTF8)
            corpus.read_stats.first_replacement = corpus.read_stats.first_replacement or f"{source}:row {row}"
            texts.append(text)
    return texts


#: Format name -> reader of one source file.
FORMATS: Registry[Callable[[Corpus, Path], DocumentBlocks]] = Registry("corpus format")
FORMATS.add("txt", _txt_blocks)
FORMATS.add("jsonl", _jsonl_blocks)
FORMATS.add("parquet", _parquet_blocks)


# -- the corpus ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CorpusReading:
    """How corpus files are read: the options every command that reads corpora takes (``--field``,
    ``--column``, ``--errors``) and hands on as one.

    Attributes:
        field: JSONL field holding the text (``meta.text``: nested).
        column: parquet column holding the text (``meta.text``: in a struct).
        errors: ``"strict"`` (a non-UTF-8 byte stops) or ``"replace"`` (read as U+FFFD, counted).
    """

    field: str = "text"
    column: str = "text"
    errors: str = "strict"

    def __post_init__(self) -> None:
        if self.errors not in ERRORS:  # (checked here too: not every reader makes a Corpus, which checks it)
            raise InputError(f"errors must be one of {', '.join(ERRORS)}, not {self.errors!r}",
                             "pass --errors strict or --errors replace")

    def options(self) -> dict[str, str]:
        """The keyword arguments of :func:`open_corpus` these are."""
        return {"field": self.field, "column": self.column, "errors": self.errors}


@dataclass(frozen=True)
class Corpus:
    """A named, language-tagged, re-iterable stream of documents read from one or more files.

    Attributes:
        name: label for results (the file stem, folder name or glob).
        lang: BCP 47 language tag, ``"und"`` when unknown.
        sources: the files read, in order.
        doc_per: ``"line"`` (every non-empty line of a ``.txt`` is a document) or ``"file"`` (each
            ``.txt`` file is one document). JSONL records and parquet rows are always one document.
        field: JSONL field holding the text; a dotted path (``meta.text``) reaches into nested objects.
        column: parquet column holding the text; a dotted path (``meta.text``) reaches into struct columns.
        errors: ``"strict"`` (non-UTF-8 bytes raise) or ``"replace"`` (decoded as U+FFFD, counted).
        read_stats: counts of the current/last pass (mutable; one pass at a time per corpus).

    An empty corpus is detected when it is read: :meth:`iter_documents` raises ``CorpusError("empty
    corpus ...")`` at the end of a pass that yielded nothing; :meth:`check_not_empty` does the same
    check up front, reading only up to the first document.
    """

    name: str
    lang: str
    sources: tuple[Path, ...]
    doc_per: str = "line"
    field: str = "text"
    column: str = "text"
    errors: str = "strict"
    read_stats: ReadStats = dataclass_field(default_factory=ReadStats, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.doc_per not in DOC_PER:
            raise InputError(f"doc_per must be one of {', '.join(DOC_PER)}, not {self.doc_per!r}")
        if self.errors not in ERRORS:
            raise InputError(f"errors must be one of {', '.join(ERRORS)}, not {self.errors!r}")
        if not self.sources:
            raise CorpusError(f"empty corpus {self.name!r}: no files")

    # -- reading --------------------------------------------------------------------------------
    def _source_blocks(self, source: Path) -> DocumentBlocks:
        return FORMATS.get(split_suffixes(source)[2])(self, source)

    def iter_blocks(self) -> DocumentBlocks:
        """Documents with their (approximate) UTF-8 sizes, one read block at a time.

        Raises:
            CorpusError: a file is missing or malformed, a byte is not UTF-8 (strict), or the whole
                pass yielded no document (empty corpus).
        """
        self.read_stats.reset()
        for source in self.sources:
            for docs, sizes in self._source_blocks(source):
                if docs:
                    self.read_stats.documents += len(docs)
                    yield docs, sizes
        if self.read_stats.documents == 0:
            skipped = self.read_stats.describe_empty()
            raise CorpusError(
                f"empty corpus {self.name!r}: no documents in {self._describe_sources()}"
                + (f", only {skipped}" if skipped else ""),
                "check the path, the --field/--column, and that the files hold text",
            )

    def iter_documents(self) -> Iterator[str]:
        """Every document, streamed in source order."""
        for docs, _ in self.iter_blocks():
            yield from docs

    def __iter__(self) -> Iterator[str]:
        return self.iter_documents()

    def iter_batches(self, max_bytes: int = BATCH_BYTES) -> Iterator[list[str]]:
        """Lists of consecutive documents of about ``max_bytes`` UTF-8 bytes each (at least one document)."""
        return batch_documents(self.iter_blocks(), max_bytes)

    def check_not_empty(self) -> None:
        """Raise ``CorpusError("empty corpus ...")`` now if the corpus has no document (reads up to the first one)."""
        for _ in self.iter_blocks():
            return

    # -- facts ----------------------------------------------------------------------------------
    @property
    def size_bytes(self) -> int:
        """Total size of the source files on disk (compressed size for a compressed file)."""
        try:
            return sum(os.path.getsize(s) for s in self.sources)
        except OSError as exc:
            raise unreadable(exc.filename, exc) from None

    def source_sha256s(self) -> list[tuple[Path, str]]:
        """``(path, sha256 hex)`` of every source file, hashed streaming."""
        return [(source, file_sha256(source)) for source in self.sources]

    def sha256(self) -> str:
        """Digest of the corpus files: the file's own sha256 for one file; for several, the sha256 of a
        ``sha256sum``-style manifest (``"<hex>  <name relative to their common folder>\\n"`` per file)."""
        digests = self.source_sha256s()
        if len(digests) == 1:
            return digests[0][1]
        root = Path(os.path.commonpath([str(s.parent) for s in self.sources]))
        manifest = "".join(f"{digest}  {path.relative_to(root).as_posix()}\n" for path, digest in digests)
        return hashlib.sha256(manifest.encode("utf-8", "surrogateescape")).hexdigest()  # a name's own bytes

    def _describe_sources(self) -> str:
        if len(self.sources) == 1:
            return str(self.sources[0])
        return f"{len(self.sources)} files ({self.sources[0]} ... {self.sources[-1]})"


def file_sha256(path: Path) -> str:
    """sha256 hex digest of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as stream:
            for block in iter(lambda: stream.read(READ_BLOCK), b""):
                digest.update(block)
    except OSError as exc:
        raise unreadable(path, exc) from None
    return digest.hexdigest()


def batch_documents(
    blocks: Iterable[tuple[list[str], list[int]]] | Iterable[str], max_bytes: int = BATCH_BYTES
) -> Iterator[list[str]]:
    """Group documents into consecutive lists of about ``max_bytes`` UTF-8 bytes.

    Args:
        blocks: ``(documents, sizes)`` blocks (:meth:`Corpus.iter_blocks`) or plain documents (their
            sizes are then computed).
        max_bytes: a batch is closed once it reaches this size; a document larger than it forms a
            batch of its own.
    """
    if max_bytes <= 0:
        raise ValueError(f"max_bytes must be positive, got {max_bytes}")
    batch: list[str] = []
    filled = 0
    for item in blocks:
        if isinstance(item, str):
            docs, sizes = [item], [len(item.encode("utf-8", "surrogatepass"))]
        else:
            docs, sizes = item
        if len(docs) != len(sizes):
            raise ValueError(f"a block of {len(docs)} documents came with {len(sizes)} sizes")
        # Cut points by bisection over running sums, not a Python step per document: the batch that
        # holds document j closes at the first j whose running size reaches max_bytes.
        before = list(itertools.accumulate(sizes, initial=0))  # before[j]: bytes of docs[:j]
        start = 0
        while start < len(docs):
            end = bisect.bisect_left(before, before[start] + max_bytes - filled, lo=start + 1)
            if end > len(docs):  # the block ends before the batch is full
                batch.extend(docs[start:])
                filled += before[-1] - before[start]
                break
            batch.extend(docs[start:end])
            yield batch
            batch, filled, start = [], 0, end
    if batch:
        yield batch


# -- opening ------------------------------------------------------------------------------------
def refuse_unread_compressions(paths: Iterable[Path], formats: tuple[str, ...] = tuple(FORMAT_SUFFIXES)) -> None:
    """Refuse a corpus file (one of ``formats``) compressed in a way the readers do not decompress
    (``de.txt.zip``): a folder or glob would otherwise leave it out unseen, as it leaves out a README.md."""
    for path in paths:
        lowered = path.name.lower()
        suffix = next((s for s in UNREAD_COMPRESSIONS if lowered.endswith(s)), None)
        if suffix is not None and lowered.removesuffix(suffix).endswith(formats):
            raise CorpusError(f"{path}: {suffix[1:]}-compressed, which is not read",
                              _UNREAD_COMPRESSION.format(tool=UNREAD_COMPRESSIONS[suffix]).format(source=path))


#: Data files the readers do not read: what they are, and how to write the data in a format they read.
UNREAD_FORMATS = {
    ".arrow": ("an Arrow file, as HF datasets' save_to_disk writes them",
               "write the dataset as parquet: datasets.load_from_disk(FOLDER).to_parquet('data.parquet'), "
               "and pass that file (--column NAME)"),
}


def refuse_unread_formats(paths: Iterable[Path]) -> None:
    """Refuse a data file of a format the readers do not read (:data:`UNREAD_FORMATS`): given itself it would
    be read as text, and a folder or glob would leave it out unseen."""
    for path in paths:
        suffix = next((s for s in UNREAD_FORMATS if path.name.lower().endswith(s)), None)
        if suffix is not None:
            what, hint = UNREAD_FORMATS[suffix]
            raise CorpusError(f"{path}: {what}, which is not read", hint)


def _expand_directory(directory: Path) -> list[Path]:
    """Corpus files under ``directory``: recursive, known formats only, hidden entries skipped, sorted.

    Raises:
        CorpusError: a corpus file is compressed in a way the readers do not decompress, or of a format
            they do not read (:data:`UNREAD_FORMATS`).
    """
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        visible = [Path(root) / f for f in files if not f.startswith(".")]
        refuse_unread_compressions(visible)
        refuse_unread_formats(visible)
        found.extend(path for path in visible if has_known_format(path))
    return sorted(found, key=lambda p: p.relative_to(directory).as_posix())


def _each_file_once(files: Iterable[Path]) -> list[Path]:
    """``files`` without the later paths to a file already listed (a symbolic link to it, a glob's match of a
    folder and of the files in it, a link back up the tree that a glob follows until the system stops it)."""
    seen: set[str] = set()
    kept = []
    real_folders: dict[Path, str] = {}  # one realpath per folder: one per file took 0.46 s on 20k files
    for path in files:
        if path.parent not in real_folders:
            real_folders[path.parent] = os.path.realpath(path.parent)
        real = os.path.realpath(path) if path.is_symlink() else os.path.join(real_folders[path.parent], path.name)
        if real not in seen:
            seen.add(real)
            kept.append(path)
    return kept


def _escape_existing_folders(pattern: Path) -> str | None:
    """``pattern`` with the glob characters escaped in its leading folders that exist as named
    (``data[2024]/*.txt`` -> ``data[[]2024]/*.txt``), or None when no such folder has any."""
    for depth in range(len(pattern.parts) - 1, 0, -1):
        head = Path(*pattern.parts[:depth])
        if head.is_dir() and _GLOB_CHARS.search(str(head)):
            return str(Path(glob.escape(str(head)), *pattern.parts[depth:]))
    return None


def resolve_sources(path_spec: str, *, flag: str = "--corpus") -> list[Path]:
    """Files named by a path, a directory (searched recursively) or a glob (``**`` allowed), sorted, each
    file once however many paths (symbolic links) lead to it.

    A directory gives its files of known formats (:func:`has_known_format`); so does a glob, unless it
    matches no such file (then every file it matches is read as text).

    ``flag`` is the command-line option the path came from, named in the hint of a missing path.

    Raises:
        CorpusError: nothing exists at the path, the glob matches nothing, or a directory holds no
            corpus file.
    """
    if not path_spec.strip():  # Path("") is the current directory: never what an empty path meant
        raise CorpusError(f"{flag} names no file (an empty path)", f"give a file, folder or glob: {flag} de=PATH")
    path = Path(path_spec).expanduser()
    if path.is_dir():
        files = _each_file_once(_expand_directory(path))
        if not files:
            known = ", ".join(f"{s}[{'|'.join(COMPRESSIONS)}]" for s in FORMAT_SUFFIXES)
            raise CorpusError(f"empty corpus: no corpus files in directory {path}", f"known file types: {known}")
        return files
    if path.is_file():
        refuse_unread_formats([path])
        return [path]
    if path.exists():  # a pipe (`-c <(zcat x.gz)`, /dev/stdin) or a device: corpora are read more than once
        compressed = "/".join(COMPRESSIONS)
        raise CorpusError(f"{path} is a pipe or device, not a file: a corpus is read from files",
                          f"write the text to a file first (a {compressed} file is decompressed as it is read)")
    if _GLOB_CHARS.search(path_spec):
        files = []
        for match in sorted(glob.glob(str(path), recursive=True)):
            hit = Path(match)
            files.extend(_expand_directory(hit) if hit.is_dir() else [hit] if hit.is_file() else [])
        files = _each_file_once(files)  # `data/**` matches a folder and the files inside it
        refuse_unread_compressions(files)
        refuse_unread_formats(files)
        if not files:
            escaped = _escape_existing_folders(path)
            raise CorpusError(f"no such file: the pattern {path_spec!r} matches no file",
                              None if escaped is None else "a folder of the pattern has glob characters in its name, "
                              f"which match other names; escaped ([[] for [): {escaped}")
        # As in a folder, a README.md or a .csv matched beside the corpus files is not text to measure;
        # a pattern that matches only other files (logs/*.log) names them on purpose: they are read as text.
        corpus_files = [f for f in files if has_known_format(f)]
        return corpus_files or files
    raise CorpusError(f"no such file or directory: {path_spec}", f"check the path given to {flag}")


def _glob_folder(pattern: Path) -> Path:
    """The folder a glob searches in: its leading parts up to the first with a glob character
    (``data/uz`` for ``data/uz/**/*.txt``; ``Path()`` for ``*.txt``)."""
    parts = list(itertools.takewhile(lambda part: not _GLOB_CHARS.search(part), pattern.parts))
    return Path(*parts)


def parse_corpus_spec(spec: str) -> tuple[str | None, str]:
    """Split ``"LANG=PATH"`` into ``(lang, path)``; a plain ``"PATH"`` gives ``(None, path)``.

    An existing path containing ``=`` is taken as a path.
    """
    lang, sep, rest = spec.partition("=")
    # The tag may be a language (de, zh-CN) or a domain label (code, legal, python).
    if sep and _LABEL.fullmatch(lang) and not Path(spec).exists():
        return lang, rest
    return None, spec


def open_corpus(
    spec: str | os.PathLike,
    *,
    lang: str | None = None,
    name: str | None = None,
    doc_per: str = "line",
    field: str = "text",
    column: str = "text",
    errors: str = "strict",
) -> Corpus:
    """Open a corpus from ``"PATH"`` or ``"LANG=PATH"`` (a file, a directory or a glob), or a path object.

    The language is, in order: ``lang``, the ``LANG=`` prefix, the file or folder name when it is a
    language code (``de.txt``, ``pt-BR.jsonl.gz``, ``zh-CN/``, ``eng_Latn.txt``; a glob's folder: ``uz/*.txt``),
    else ``"und"``; a tag in its canonical form (``eng_Latn`` is ``en``).

    Raises:
        CorpusError: the path does not exist or holds no corpus file.
        InputError: ``doc_per`` or ``errors`` is not a known value.
    """
    # a Path object is a path: only a string may carry a LANG= tag
    spec_lang, path_spec = (None, os.fspath(spec)) if isinstance(spec, os.PathLike) else parse_corpus_spec(spec)
    sources = resolve_sources(path_spec)
    label_path = Path(path_spec.rstrip("/\\"))
    glob_of_names = bool(_GLOB_CHARS.search(label_path.name)) and not label_path.exists()
    if glob_of_names or label_path.is_dir():
        stem = label_path.name  # a glob or a folder (a file named notes[1].txt is a file: its stem)
    else:
        stem = split_suffixes(label_path)[0]
    if lang is not None:
        lang = canonical_language(lang)  # adapt --lang jpn_Jpan is ja, as -c jpn_Jpan=PATH is
    else:
        # the files of `uz/*.txt` all lie in uz/, whose name tells their language as it does for `-c uz/`
        named_by = _glob_folder(label_path).name if glob_of_names else stem
        lang = canonical_language(spec_lang) if spec_lang else guess_language(named_by) or UNDETERMINED
    return Corpus(
        name=name or stem or str(label_path),
        lang=lang,
        sources=tuple(sources),
        doc_per=doc_per,
        field=field,
        column=column,
        errors=errors,
    )


__all__ = [
    "BATCH_BYTES",
    "COMPRESSIONS",
    "FORMATS",
    "Corpus",
    "ReadStats",
    "batch_documents",
    "count_line_ends",
    "describe_empty_records",
    "file_sha256",
    "iter_line_blocks",
    "open_binary",
    "open_corpus",
    "refuse_binary",
    "refuse_unread_compressions",
    "resolve_sources",
    "split_suffixes",
]
