"""A small, strict reader of gettext ``.po`` catalogues.

Only what a parallel corpus needs is kept: each translated message's context, source text (msgid,
msgid_plural) and translations. Comments are dropped, except the ``#, fuzzy`` flag: fuzzy entries are
unreviewed machine guesses, so they are skipped like the header entry (empty msgid) and obsolete
``#~`` entries. Quoted strings follow C syntax; ``\\NNN`` and ``\\xHH`` escapes stand for bytes, as in
GNU ``msgfmt``, so the escaped bytes are decoded together with the surrounding text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tokensmith.errors import CorpusError

_SIMPLE_ESCAPES = {
    "n": b"\n", "t": b"\t", "r": b"\r", "a": b"\a", "b": b"\b", "f": b"\f", "v": b"\v",
    "\\": b"\\", '"': b'"', "'": b"'", "?": b"?",
}
_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]+)|(.))", re.DOTALL)
_KEYWORD_LINE = re.compile(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*)\Z", re.DOTALL)
_CHARSET = re.compile(rb"charset=([A-Za-z0-9_.:-]+)")


@dataclass(frozen=True)
class PoEntry:
    """One message of a catalogue.

    Attributes:
        msgid: the source text (singular form for plural messages).
        msgstrs: the translations; one for a plain message, one per plural form otherwise.
        msgctxt: the disambiguating context, or None when the entry has none.
        msgid_plural: the source plural form, or None for a plain message.
        line: 1-based line of the entry's first keyword, for error messages.
    """

    msgid: str
    msgstrs: tuple[str, ...]
    msgctxt: str | None = None
    msgid_plural: str | None = None
    line: int = 0

    @property
    def msgstr(self) -> str:
        """The translation (``msgstr[0]`` for a plural message)."""
        return self.msgstrs[0] if self.msgstrs else ""

    @property
    def translated(self) -> bool:
        """True when every form has a non-empty translation."""
        return bool(self.msgstrs) and all(self.msgstrs)


def unescape_c_string(body: str, *, source: str = "<string>", line: int = 0) -> str:
    """Text of the inside of a C string literal (the part between the quotes).

    Raises:
        CorpusError: on a dangling backslash or escaped bytes that are not valid UTF-8.
    """
    if "\\" not in body:
        return body
    out = bytearray()
    position = 0
    for match in _ESCAPE.finditer(body):
        out += body[position:match.start()].encode("utf-8")
        octal, hexa, char = match.groups()
        if octal is not None:
            out.append(int(octal, 8) & 0xFF)
        elif hexa is not None:
            out.append(int(hexa, 16) & 0xFF)
        elif char in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[char]
        else:
            raise CorpusError(f"{source}:{line}: unknown escape \\{char} in a quoted string")
        position = match.end()
    tail = body[position:]
    if tail.endswith("\\") and (len(tail) - len(tail.rstrip("\\"))) % 2:
        raise CorpusError(f"{source}:{line}: quoted string ends with a lone backslash")
    out += tail.encode("utf-8")
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CorpusError(f"{source}:{line}: escaped bytes are not valid UTF-8 ({err.reason})") from None


def _quoted(text: str, *, source: str, line: int) -> str:
    """Unescaped content of one ``"..."`` token that makes up the rest of a line."""
    text = text.strip()
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        raise CorpusError(f"{source}:{line}: expected a quoted string, got {text[:40]!r}")
    body = text[1:-1]
    # An unescaped quote inside the body means two strings on one line or a missing backslash.
    if re.search(r'(?<!\\)(?:\\\\)*"', body):
        raise CorpusError(f"{source}:{line}: unescaped quote inside {text[:40]!r}")
    return unescape_c_string(body, source=source, line=line)


class _EntryBuilder:
    """Collects the keyword blocks of one entry while the parser walks the lines."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}
        self.plural_forms: dict[int, list[str]] = {}
        self.fuzzy = False
        self.first_line = 0
        self.current: list[str] | None = None

    @property
    def has_msgstr(self) -> bool:
        return "msgstr" in self.fields or bool(self.plural_forms)

    def start(self, keyword: str, index: str | None, value: str, *, source: str, line: int) -> None:
        if not self.first_line:
            self.first_line = line
        if index is not None:
            number = int(index)
            if number in self.plural_forms:
                raise CorpusError(f"{source}:{line}: msgstr[{number}] appears twice in one entry")
            self.current = self.plural_forms[number] = [value]
            return
        if keyword in self.fields:
            raise CorpusError(f"{source}:{line}: {keyword} appears twice in one entry")
        self.current = self.fields[keyword] = [value]

    def build(self, *, source: str) -> PoEntry | None:
        """The finished entry, or None for a block that only held comments."""
        if not self.fields and not self.plural_forms:
            return None
        where = f"{source}:{self.first_line}"
        if "msgid" not in self.fields:
            raise CorpusError(f"{where}: entry has no msgid")
        if not self.has_msgstr:
            raise CorpusError(f"{where}: entry has no msgstr")
        plural = "msgid_plural" in self.fields
        if plural and ("msgstr" in self.fields or not self.plural_forms):
            raise CorpusError(f"{where}: a plural entry (msgid_plural) needs msgstr[0], msgstr[1]... only")
        if not plural and self.plural_forms:
            raise CorpusError(f"{where}: msgstr[n] without msgid_plural")
        if plural and sorted(self.plural_forms) != list(range(len(self.plural_forms))):
            raise CorpusError(f"{where}: plural forms must be numbered 0..n-1, got {sorted(self.plural_forms)}")
        joined = {key: "".join(parts) for key, parts in self.fields.items()}
        msgstrs = (
            tuple("".join(self.plural_forms[i]) for i in range(len(self.plural_forms)))
            if plural
            else (joined["msgstr"],)
        )
        return PoEntry(
            msgid=joined["msgid"],
            msgstrs=msgstrs,
            msgctxt=joined.get("msgctxt"),
            msgid_plural=joined.get("msgid_plural"),
            line=self.first_line,
        )


def iter_po_entries(text: str, *, source: str = "<string>") -> Iterator[PoEntry]:
    """Entries of a catalogue's text, in file order.

    The header (empty msgid without context), fuzzy entries and obsolete ``#~`` entries are skipped;
    untranslated entries are kept (check :attr:`PoEntry.translated`).

    Args:
        text: the catalogue, already decoded.
        source: name used in error messages (usually the file path).

    Raises:
        CorpusError: on a malformed line or entry, naming the source and line.
    """
    builder = _EntryBuilder()

    def finish() -> Iterator[PoEntry]:
        entry = builder.build(source=source)
        if entry is None or builder.fuzzy:
            return
        if entry.msgid == "" and entry.msgctxt is None:  # the header carries metadata, not a message
            return
        yield entry

    # Split on "\n" only: str.splitlines() would also break inside strings holding U+2028, \v, \f...
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip(" \t\r\ufeff")
        if not line:
            # A blank line ends a complete entry, or drops comments that belonged to no entry;
            # gettext tolerates blank lines between the keywords of one entry.
            if builder.has_msgstr or builder.current is None:
                yield from finish()
                builder = _EntryBuilder()
            continue
        if line.startswith("#"):
            if builder.has_msgstr or (line.startswith("#~") and builder.current is None):
                # A finished entry ends here; flags seen so far belonged to an obsolete entry.
                yield from finish()
                builder = _EntryBuilder()
            if line.startswith("#,"):
                flags = {flag.strip() for flag in line[2:].split(",")}
                builder.fuzzy = builder.fuzzy or "fuzzy" in flags
            continue  # translator, extracted, reference, previous (#|) and obsolete (#~) lines
        if line.startswith('"'):
            if builder.current is None:
                raise CorpusError(f"{source}:{number}: quoted string outside any msgid/msgstr")
            builder.current.append(_quoted(line, source=source, line=number))
            continue
        match = _KEYWORD_LINE.match(line)
        if match is None:
            raise CorpusError(f"{source}:{number}: cannot parse line {line[:60]!r}")
        keyword, index, rest = match.groups()
        if builder.has_msgstr and keyword in ("msgctxt", "msgid"):
            yield from finish()
            builder = _EntryBuilder()
        elif builder.has_msgstr and not keyword.startswith("msgstr"):
            raise CorpusError(f"{source}:{number}: {keyword} after msgstr in one entry")
        keyword = "msgstr" if index is not None else keyword
        builder.start(keyword, index, _quoted(rest, source=source, line=number), source=source, line=number)
    yield from finish()


def decode_po_bytes(data: bytes, *, source: str = "<bytes>") -> str:
    """Text of a catalogue, decoded with the charset its header declares (UTF-8 when it declares none)."""
    match = _CHARSET.search(data[:4096])
    charset = match.group(1).decode("ascii") if match else "utf-8"
    if charset.upper() == "CHARSET":  # the unfilled placeholder of a fresh template
        charset = "utf-8"
    try:
        return data.decode(charset)
    except LookupError:
        raise CorpusError(f"{source}: unknown charset {charset!r} in the header") from None
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise CorpusError(
            f"{source}:{line}: bytes are not valid {charset} (byte offset {err.start})",
            "re-save the catalogue in the charset its header declares",
        ) from None


def read_po(path: str | os.PathLike) -> list[PoEntry]:
    """Entries of the ``.po`` file at ``path`` (see :func:`iter_po_entries` for what is skipped).

    Raises:
        CorpusError: when the file is missing or malformed.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CorpusError(f"cannot read catalogue {path}: {err.strerror}") from None
    return list(iter_po_entries(decode_po_bytes(data, source=str(path)), source=str(path)))
