"""A faster bulk encoder for tiktoken ranks tables: fastokens, built on a background thread.

fastokens reads a tiktoken ranks file (``Tokenizer.from_tiktoken``) and encodes the same ids as tiktoken
3-4x faster (measured on the 122 MB of ../shared/data: o200k 3.1 s against 11.3 s, cl100k 5.2 s against
15.6 s, each tiktoken's best way; identical ids on every document). Building it costs 0.6-2 s of CPU, more
than it saves on a few megabytes of text, so a tokenizer builds it only when told that much text is coming
(:data:`MIN_BULK_BYTES`), on a background thread (fastokens releases the GIL while it builds). Bulk
encoding waits for the build instead of encoding with tiktoken meanwhile: with that much text every core is
busy (other tokenizers, reading, word counting), and text tiktoken encodes costs 3-4x the CPU (measured on
122 MB with three references: 1.5-2 s less CPU in all). It is used only if it gives tiktoken's ids on a probe
of several scripts; otherwise, or if fastokens is missing, tiktoken encodes everything.
"""

from __future__ import annotations

import base64
import os
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from tokensmith.tokenizers.base import lists_of_ragged

#: Text (bytes) a tokenizer must expect to encode before a fastokens build is worth its start-up cost
#: (measured on 122 MB: o200k ~1.8 s of CPU to build, ~0.07 s saved per MB; cl100k 0.6 s, ~0.085 s/MB).
MIN_BULK_BYTES = 24_000_000

#: Texts a faster backend must encode exactly as the reference library does before it is used (here and
#: for tokenizer.json files in :mod:`~tokensmith.tokenizers.hf_json`).
BACKEND_PROBE_TEXTS = (
    "Hello, world! It's 2024-06-01: 12345 tokens\n\n\tindented  spaces   ",
    "Привет, мир! Ελληνικά. العربية עברית हिन्दी বাংলা தமிழ் ไทย",
    "日本語のテキスト、中文文本，한국어 텍스트. Tiếng Việt, Türkçe İı, ß ﬁ 😀👍🏽",
    "def f(x):\r\n    return x**2  # comment\u00a0\u200b",
)
#: The probe of a ranks table: control-token texts must stay ordinary text, and runs of line breaks.
PROBE_TEXTS = BACKEND_PROBE_TEXTS + ("<|endoftext|> is text here, as are <s> and [INST]", "   \n\n\n  x  ")


def ranks_file_text(ranks: Mapping[bytes, int]) -> bytes:
    """A ranks table in the ``.tiktoken`` format (``base64 rank`` per line)."""
    return b"".join(
        base64.b64encode(token) + b" " + str(rank).encode("ascii") + b"\n"
        for token, rank in sorted(ranks.items(), key=lambda item: item[1])
    )


class BackgroundBulkEncoder:
    """fastokens for a ranks table, built on a background thread, checked against ``reference`` on a probe.

    The thread is not a daemon: Python waits for it before finalizing. A daemon still building when a
    short run ended (30 MB measured before a build slowed by a busy machine) aborted the process after
    its results were written: "FATAL: exception not rethrown", exit code 134.

    Args:
        ranks: ``token bytes -> rank``.
        pattern: the pre-tokenization regex.
        id_offset: added to every rank to give the id (fastokens wants ranks from 0, so it is added after).
        reference: the tokenizer's own ``encode`` (tiktoken's ids, for the probe).
    """

    def __init__(self, ranks: Mapping[bytes, int], pattern: str, id_offset: int,
                 reference: Callable[[str], list[int]]) -> None:
        self._ranks, self._pattern, self._id_offset, self._reference = ranks, pattern, id_offset, reference
        self._encoder: Any = None
        self.failure: str | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._build, name="tokensmith-bulk-encoder")
        self._thread.start()

    def encode_flat(self, texts: Sequence[str]) -> np.ndarray | None:
        """All ``texts``' ids (int64) in one array (waits for the build), or None if the encoder cannot be
        used or for texts it cannot take (lone surrogates: tiktoken's own path repairs them)."""
        ragged = self._ragged_by(self.wait(), texts)
        return None if ragged is None else ragged[0]

    def ragged(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray] | None:
        """:meth:`~tokensmith.tokenizers.base.Tokenizer.encode_ragged` if the encoder is built and usable
        (never waits: many short texts, such as word types, are cheap enough for tiktoken), else None;
        None too for texts it cannot take."""
        return self._ragged_by(self._encoder if self._done.is_set() else None, texts)

    def _ragged_by(self, encoder: Any, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray] | None:
        if encoder is None:
            return None
        try:
            ids, offsets = fastokens_ragged(encoder, texts)
        except UnicodeEncodeError:
            return None
        if self._id_offset:
            ids += self._id_offset
        return ids, offsets

    def wait(self) -> Any:
        """Wait for the build; the encoder, or None if it cannot be used (see :attr:`failure`)."""
        self._done.wait()
        return self._encoder

    def _build(self) -> None:
        try:
            self._encoder = self._built_and_checked()
        except Exception as err:  # noqa: BLE001 - any failure leaves tiktoken encoding, which is exact
            self.failure = f"{type(err).__name__}: {err}"
        finally:
            self._done.set()

    def _built_and_checked(self) -> Any:
        import fastokens

        handle, path = tempfile.mkstemp(prefix="tokensmith-ranks-", suffix=".tiktoken")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(ranks_file_text(self._ranks))
            encoder = fastokens.Tokenizer.from_tiktoken(path, pattern=self._pattern)
        finally:
            os.unlink(path)
        encoder.no_padding()
        encoder.no_truncation()
        offset = self._id_offset
        got = [[i + offset for i in ids] for ids in fastokens_id_lists(encoder, list(PROBE_TEXTS))]
        if got != [self._reference(text) for text in PROBE_TEXTS]:
            self.failure = "fastokens gives other ids than tiktoken on the probe texts"
            return None
        return encoder


def fastokens_ragged(encoder: Any, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, offsets)`` (``int64``) from fastokens' flat batch call: one uint32 buffer + offsets."""
    if not texts:
        return np.zeros(0, dtype=np.int64), np.zeros(1, dtype=np.int64)
    ids_buffer, offsets_buffer = encoder.encode_batch_flat(list(texts), add_special_tokens=False)
    return (np.frombuffer(ids_buffer, dtype="<u4").astype(np.int64),
            np.frombuffer(offsets_buffer, dtype="<u8").astype(np.int64))


def fastokens_id_lists(encoder: Any, texts: Sequence[str]) -> list[list[int]]:
    """Per-text id lists from fastokens' flat batch call, no per-token objects until the lists."""
    return lists_of_ragged(*fastokens_ragged(encoder, texts))
