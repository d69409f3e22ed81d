"""Maps between a vocabulary's surface strings and the bytes they stand for.

GPT-2 style byte-level vocabularies write each byte as a printable code point (space -> ``Ġ``);
SentencePiece writes spaces as ``▁`` and unknown bytes as ``<0xNN>``; WordPiece marks word-inner
pieces with ``##``. Resolving them gives canonical byte forms that compare across tokenizers.
"""

from __future__ import annotations

import re
from functools import lru_cache

SENTENCEPIECE_SPACE = "\u2581"  # ▁
BYTE_FALLBACK = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")
#: Bytes that occur in well-formed UTF-8 (C0, C1 and F5-FF never do).
UTF8_BYTES = tuple(b for b in range(256) if b not in (0xC0, 0xC1) and b < 0xF5)


@lru_cache(maxsize=1)
def byte_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character table.

    Printable Latin-1 bytes map to themselves; the other 68 bytes map to U+0100 onwards in byte order.
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {b: chr(b) for b in printable}
    shifted = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + shifted)
            shifted += 1
    return table


@lru_cache(maxsize=1)
def unicode_to_byte() -> dict[str, int]:
    return {char: byte for byte, char in byte_to_unicode().items()}


@lru_cache(maxsize=1)
def _byte_level_translation() -> dict[int, int]:
    """``str.translate`` table: alphabet character -> its byte; other code points below 256 -> one that
    Latin-1 cannot encode, so every character outside the alphabet makes the encode step fail."""
    table = dict.fromkeys(range(256), 0x10FFFF)
    table.update({ord(char): byte for byte, char in byte_to_unicode().items()})
    return table


def byte_level_to_bytes(token: str) -> bytes:
    """``'Ġhello'`` -> ``b' hello'``. Raises KeyError on a character outside the byte alphabet."""
    try:  # translate + Latin-1 runs in C: a vocabulary of 200k tokens in milliseconds
        return token.translate(_byte_level_translation()).encode("latin-1")
    except UnicodeEncodeError as err:
        raise KeyError(token[err.start]) from None


def bytes_to_byte_level(data: bytes) -> str:
    table = byte_to_unicode()
    return "".join(table[b] for b in data)


def byte_fallback_value(token: str) -> int | None:
    """``'<0x0A>'`` -> 10; None for anything else."""
    match = BYTE_FALLBACK.match(token)
    return int(match.group(1), 16) if match else None


def sentencepiece_to_bytes(piece: str, space: str = SENTENCEPIECE_SPACE) -> bytes:
    """``'▁hello'`` -> ``b' hello'``; ``'<0xE4>'`` -> ``b'\\xe4'``. ``space``: the character that stands for
    a space (an HF Metaspace's ``replacement``)."""
    value = byte_fallback_value(piece)
    if value is not None:
        return bytes([value])
    return piece.replace(space, " ").encode("utf-8")


def wordpiece_to_bytes(piece: str, prefix: str = "##") -> bytes:
    """``'##ing'`` -> ``b'ing'``; word-initial pieces keep their text."""
    return (piece[len(prefix):] if piece.startswith(prefix) and len(piece) > len(prefix) else piece).encode("utf-8")
