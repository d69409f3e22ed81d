"""tiktoken ranks files (``.tiktoken``, optionally gzipped) plus their pre-tokenization regex.

A ranks file has one ``<base64 token bytes> <rank>`` per line; the rank is both the token id and its
merge priority. The regex is not in the file: pass ``pattern=`` (a preset name from
:mod:`tokensmith.tokenizers.presets` or a regex), or name the file after its preset
(``cl100k_base.tiktoken``). Encoding goes through ``tiktoken``; bulk encoding of much text through
fastokens once built and checked (:mod:`tokensmith.tokenizers.bulk_ranks`).

Merges are not stored in a ranks file; :func:`merges_from_ranks` derives them (see there).
"""

from __future__ import annotations

import binascii
import gzip
import unicodedata
import zlib
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import cached_property
from pathlib import Path

import numpy as np

from tokensmith.errors import InputError, TokenizerFormatError
from tokensmith.tokenizers.base import (
    TokenizerInfo,
    check_token_ids,
    file_display_name,
    id_list,
    lists_of_ragged,
    sha256_of_files,
    text_list,
)
from tokensmith.tokenizers.bulk_ranks import MIN_BULK_BYTES, BackgroundBulkEncoder
from tokensmith.tokenizers.loaded import LoadedTokenizer, check_backend
from tokensmith.tokenizers.roles import assign_roles

#: Documents at least this long are encoded on 2 threads (tiktoken releases the GIL while encoding; measured:
#: 2 x 3 MB 575 ms threaded vs 888 ms looped, 31 x 200 kB no gain);
#: shorter ones go through a plain loop, which beats any batching overhead for short texts.
LONG_TEXT_CHARS = 1_000_000
_THREADS = 2
#: Largest gap between a preset's last rank and its first special id (o200k: 2).
_PRESET_SPECIAL_GAP = 16
#: Texts at least this long are encoded by tiktoken's ``encode_to_numpy``, which reports a failure of its regex
#: engine as a ValueError where ``encode_ordinary`` panics: fancy-regex gives up on a run of about a million
#: whitespace characters mixing spaces and tabs (or no-break spaces) under the o200k, Qwen and Tekken patterns.
LONG_FOR_REGEX_CHARS = 500_000
#: ``info.backend`` once fastokens has encoded in bulk (tiktoken still encodes single texts).
BULK_BACKEND_NAME = "tiktoken+fastokens"
#: A private control token that joins a batch of documents into one text for :meth:`encode_flat`.
#: tiktoken encodes the text between control tokens as separate strings (the regex never crosses one),
#: so one call gives exactly the ids of encoding each document alone, and releases the GIL once per
#: batch instead of once per document (per-document calls stall behind any Python thread: measured 8x
#: slower next to one busy thread).
_DOCUMENT_BREAK = "<|tokensmith:document-break|>"


def read_tiktoken_ranks(path: str | Path) -> dict[bytes, int]:
    """Parse a ``.tiktoken`` / ``.tiktoken.gz`` file into ``token bytes -> rank``.

    Raises:
        TokenizerFormatError: on a line that is not ``<base64> <int>``, a repeated token or rank,
            or a file without the 256 single bytes a byte-level BPE needs.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"tiktoken file {path} does not exist", "check the path")
    expected = "expected a tiktoken ranks file: one '<base64 token> <rank>' per line"
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":  # gzip magic, whatever the suffix
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        raise TokenizerFormatError(f"{path} could not be decompressed: {err}", expected) from None
    ranks: dict[bytes, int] = {}
    seen_ranks: set[int] = set()
    for line_number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        try:
            if len(fields) != 2:
                raise ValueError("not two fields")
            token = binascii.a2b_base64(fields[0], strict_mode=True)
            rank = int(fields[1])
        except (ValueError, binascii.Error):
            shown = line[:60].decode("utf-8", errors="replace")
            raise TokenizerFormatError(f"{path}, line {line_number}: cannot parse {shown!r}", expected) from None
        if token in ranks or rank in seen_ranks:
            what = (f"token {token!r} already has rank {ranks[token]}" if token in ranks
                    else f"rank {rank} is already another token's")
            raise TokenizerFormatError(
                f"{path}, line {line_number}: {what} (each token and each rank must appear once)",
                "the ranks file is corrupt"
            )
        ranks[token] = rank
        seen_ranks.add(rank)
    if not ranks:
        raise TokenizerFormatError(f"{path} holds no ranks", expected)
    missing = [b for b in range(256) if bytes([b]) not in ranks]
    if missing:
        raise TokenizerFormatError(
            f"{path} lacks {len(missing)} of the 256 single-byte tokens (first: {missing[0]:#04x})",
            "a byte-level BPE ranks file must contain every single byte",
        )
    return ranks


def merges_from_ranks(ranks: Mapping[bytes, int]) -> list[tuple[bytes, bytes]]:
    """BPE merges implied by a ranks table, in rank order.

    Method: a token of rank r was created by merging two tokens of lower rank. Replaying byte-level BPE
    on the token's own bytes with only ranks below r (always merge the adjacent pair whose concatenation
    has the lowest rank) ends in exactly two parts for a token BPE can build; those two parts are its
    merge. Tokens that end in more than two parts (unreachable by BPE) have no merge and are skipped.
    """
    merges: list[tuple[bytes, bytes]] = []
    for token, rank in sorted(ranks.items(), key=lambda item: item[1]):
        if len(token) < 2:
            continue
        parts = _bpe_below(ranks, token, rank)
        if len(parts) == 2:
            merges.append((parts[0], parts[1]))
    return merges


def _bpe_below(ranks: Mapping[bytes, int], token: bytes, max_rank: int) -> list[bytes]:
    parts = [token[i : i + 1] for i in range(len(token))]
    while len(parts) > 2:
        best_index, best_rank = -1, max_rank
        for i in range(len(parts) - 1):
            pair_rank = ranks.get(parts[i] + parts[i + 1])
            if pair_rank is not None and pair_rank < best_rank:
                best_index, best_rank = i, pair_rank
        if best_index < 0:
            break
        parts[best_index : best_index + 2] = [parts[best_index] + parts[best_index + 1]]
    return parts


class TiktokenTokenizer(LoadedTokenizer):
    """A byte-level BPE over a ranks table, encoded by ``tiktoken``.

    Args:
        ranks: ``token bytes -> rank``; ordinary token ids are ``rank + id_offset``.
        pattern: the pre-tokenization regex.
        special_tokens: ``text -> id`` of control tokens.
        id_offset: added to every rank to give the id (Tekken puts its control tokens first).
        normalization: a ``unicodedata`` form applied to text before encoding (Qwen: NFC), or None.
    """

    def __init__(
        self,
        ranks: Mapping[bytes, int],
        pattern: str,
        special_tokens: Mapping[str, int],
        *,
        name: str,
        fmt: str = "tiktoken",
        sources: Sequence[str | Path] = (),
        id_offset: int = 0,
        normalization: str | None = None,
        declared_roles: Mapping[str, int] | None = None,
        extra: Mapping | None = None,
        backend: str = "auto",
    ) -> None:
        import tiktoken

        self._bulk_backend_allowed = check_backend(backend) == "auto"
        self._bulk: BackgroundBulkEncoder | None = None
        self._ranks = ranks
        self._id_offset = id_offset
        self._normalization = normalization
        ids = {rank + id_offset for rank in ranks.values()}
        check_token_ids([*ids, *special_tokens.values()], str(sources[0]) if sources else name)
        clashes = sorted(ids & set(special_tokens.values()))
        if clashes:
            raise TokenizerFormatError(
                f"{name}: special token ids collide with ordinary ids (first: {clashes[0]})",
                "give special tokens ids outside the ranks",
            )
        self.vocab_size = max([*ids, *special_tokens.values()]) + 1
        # The document break gets the first id past the vocabulary; it never leaves encode_flat.
        self._document_break_id = self.vocab_size if _DOCUMENT_BREAK not in special_tokens else None
        controls = dict(special_tokens)
        if self._document_break_id is not None:
            controls[_DOCUMENT_BREAK] = self._document_break_id
        try:
            self._encoding = tiktoken.Encoding(
                name,
                pat_str=pattern,
                mergeable_ranks={token: rank + id_offset for token, rank in ranks.items()} if id_offset else ranks,
                special_tokens=controls,
            )
        except ValueError as err:  # a regex the Rust engine rejects
            raise InputError(f"{name}: cannot compile the pre-tokenization pattern: {err}", "check pattern=") from None
        self._bytes_by_id: list[bytes] = [b""] * self.vocab_size  # holes in the id space stay empty
        for token, rank in ranks.items():
            self._bytes_by_id[rank + id_offset] = token
        self.special_tokens, self.role_ids = assign_roles(
            ((token_id, text) for text, token_id in special_tokens.items()), declared_roles
        )
        paths = [str(Path(p)) for p in sources]
        self.info = TokenizerInfo(
            name=name,
            format=fmt,
            model="bpe",
            byte_level=True,
            lossless=normalization is None,
            sources=tuple(paths),
            sha256=sha256_of_files(paths) if paths else "",
            backend="tiktoken",
            extra={"pattern": pattern, "normalization": normalization, **(extra or {})},
        )

    @property
    def exact_spans(self) -> bool:
        return self._normalization is None  # the ranks' bytes are the text's bytes, piece by piece

    def _normalize(self, text: str) -> str:
        form = self._normalization
        if form is None or unicodedata.is_normalized(form, text):
            return text
        return unicodedata.normalize(form, text)

    def encode(self, text: str) -> list[int]:
        return self._encode_ordinary(self._normalize(text_list([text])[0]))

    def _encode_ordinary(self, text: str) -> list[int]:
        """tiktoken's ``encode_ordinary``; a text tiktoken's regex engine cannot split (see
        :data:`LONG_FOR_REGEX_CHARS`) is split by the same regex in the ``regex`` module and each piece
        encoded by tiktoken (the engines split alike but for code points their Unicode versions class apart)."""
        if len(text) < LONG_FOR_REGEX_CHARS:
            return self._encoding.encode_ordinary(text)
        try:
            return self._encoding.encode_to_numpy(text, allowed_special=set(), disallowed_special=()).tolist()
        except UnicodeEncodeError:  # lone surrogates: encode_ordinary knows tiktoken's repair
            return self._encoding.encode_ordinary(text)
        except ValueError:
            import regex

            pieces = regex.compile(self.info.extra["pattern"]).finditer(text)
            encode_piece = self._encoding._encode_single_piece  # noqa: SLF001 - tiktoken's BPE of one piece
            return [token for piece in pieces for token in encode_piece(piece.group().encode("utf-8"))]

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        # A plain loop beats encode_ordinary_batch ~5x on many short texts (thread-pool overhead per
        # item); long documents go to threads since tiktoken releases the GIL inside encode.
        texts = text_list(texts)  # read once below, more than once (a generator came back empty)
        encode = self._encode_ordinary
        if self._normalization is not None:
            texts = [self._normalize(text) for text in texts]
        ragged = self._bulk_ragged(texts)
        if ragged is not None:
            return lists_of_ragged(*ragged)
        long_chars = sum(len(text) for text in texts if len(text) >= LONG_TEXT_CHARS)
        if long_chars < 2 * LONG_TEXT_CHARS:
            return [encode(text) for text in texts]
        with ThreadPoolExecutor(_THREADS) as pool:
            return list(pool.map(encode, texts))

    def encode_ragged(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        texts = text_list(texts)
        if self._normalization is not None:
            texts = [self._normalize(text) for text in texts]
        ragged = self._bulk_ragged(texts)
        return ragged if ragged is not None else super().encode_ragged(texts)

    def _bulk_ragged(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray] | None:
        """fastokens' ids and offsets if its encoder is built (never waits), else None."""
        return self._bulk.ragged(texts) if self._bulk is not None and texts else None

    def expect_text(self, total_bytes: int) -> None:
        """Start building the fastokens bulk encoder (:mod:`~tokensmith.tokenizers.bulk_ranks`) when
        ``total_bytes`` of text make it worth its start-up cost and ``backend="auto"``."""
        if self._bulk is None and self._bulk_backend_allowed and total_bytes >= MIN_BULK_BYTES and _has_fastokens():
            self._bulk = BackgroundBulkEncoder(self._ranks, self.info.extra["pattern"], self._id_offset,
                                               self._encoding.encode_ordinary)

    def encode_flat(self, texts: Sequence[str]) -> np.ndarray:
        """All ``texts``' ids in one array: from fastokens once its bulk encoder is ready (see
        :meth:`expect_text`), else from one tiktoken call over the texts joined by a private control token
        (identical ids to encoding each text alone; see ``_DOCUMENT_BREAK``)."""
        texts = text_list(texts)  # read more than once below (len, join, count)
        if self._normalization is not None:
            texts = [self._normalize(text) for text in texts]
        ids = self._bulk.encode_flat(texts) if self._bulk is not None and texts else None
        if ids is not None:
            if self.info.backend != BULK_BACKEND_NAME:
                self.info = replace(self.info, backend=BULK_BACKEND_NAME)
            return ids
        joined = _DOCUMENT_BREAK.join(texts)
        if self._document_break_id is None or joined.count(_DOCUMENT_BREAK) != len(texts) - 1:
            return super().encode_flat(texts)  # a document spells the break itself: encode one by one
        # encode_to_numpy hands back tiktoken's own buffer: no Python int per token, no GIL per token
        try:
            ids = self._encoding.encode_to_numpy(joined, allowed_special={_DOCUMENT_BREAK}, disallowed_special=())
        except UnicodeEncodeError:  # lone surrogates: encode_ordinary knows tiktoken's repair, this call does not
            return super().encode_flat(texts)
        except ValueError:  # its regex engine gave up on some text (see LONG_FOR_REGEX_CHARS): one at a time
            return super().encode_flat(texts)
        return ids[ids != self._document_break_id].astype(np.int64)

    def decode(self, ids: Iterable[int]) -> str:
        ids = id_list(ids, self.vocab_size)
        try:
            data = self._encoding.decode_bytes(ids)
        except KeyError:  # an id in a hole of the id space (o200k's 199998, 200000...): no bytes, as token_bytes
            data = b"".join(map(self.token_bytes, ids))
        return data.decode("utf-8", errors="replace")

    def _raw_token_bytes(self, token_id: int) -> bytes:
        return self._bytes_by_id[token_id]

    @cached_property
    def all_token_bytes(self) -> list[bytes]:
        every = list(self._bytes_by_id)  # the table already holds them, bar the special tokens
        for special in self.special_tokens:
            every[special.id] = special.text.encode("utf-8")
        return every

    @cached_property
    def _merges(self) -> list[tuple[bytes, bytes]]:
        return merges_from_ranks(self._ranks)

    @property
    def merges(self) -> list[tuple[bytes, bytes]]:
        """Merges derived from the ranks (:func:`merges_from_ranks`); computed on first use."""
        return self._merges

    @property
    def encoding(self):
        """The underlying ``tiktoken.Encoding`` (ids are the tokenizer's ids)."""
        return self._encoding


def resolve_pattern(pattern: str | None, path: Path | None = None):
    """A :class:`~tokensmith.tokenizers.presets.Preset` from a preset name, a raw regex or the file name."""
    from tokensmith.tokenizers.presets import PRESETS, STEM_PRESETS, Preset

    if pattern is None:
        stem = path.name.split(".")[0] if path is not None else ""
        if stem in STEM_PRESETS:
            return PRESETS.get(STEM_PRESETS[stem])
        raise TokenizerFormatError(
            f"{path}: a tiktoken ranks file holds no pre-tokenization regex and its name names no preset",
            f"give its regex: --pattern REGEX on the command line, pattern= in Python (a regex, or a preset: "
            f"{', '.join(PRESETS.names())})",
        )
    if pattern in PRESETS:
        return PRESETS.get(pattern)
    import regex

    try:
        compiled = regex.compile(pattern)
    except regex.error as err:
        raise InputError(
            f"pattern {pattern!r} is neither a preset nor a valid regex ({err})",
            f"presets: {', '.join(PRESETS.names())}",
        ) from None
    _check_covers_text(pattern, compiled, PRESETS.names())
    return Preset("custom", pattern)


#: Letters of several scripts with combining marks, digits, punctuation, symbols, emoji, tabs, newlines
#: and runs of spaces: a pre-tokenization regex must match all of it (see ``_check_covers_text``). The
#: last line holds what a regex of \p{L}, \p{M}, \p{N}, \p{P}, \p{S} and spaces misses, all of which real
#: text has: format characters (ZWJ in emoji and Indic text, soft hyphen, BOM), private use, unassigned and
#: control code points, other spaces (no-break, ideographic) and the line and paragraph separators.
_COVERAGE_PROBE = (
    "Hello, World! don't 123 4567 ...\n\tnaïve café Привет мир 你好 こんにちは مرحبا नमस्ते "
    "😀👍🏽 x=y+1; \r\n   end  "
    "👩\u200d👧 क्\u200dष co\u00adop \ufeffx \ue000\U000f0000 \u0378 a\x00b\x0b \u00a0\u3000\u2028\u2029 z"
)


def _check_covers_text(pattern: str, compiled, presets) -> None:
    """Refuse a regex whose matches leave text of the probe out: tiktoken encodes only the regex's
    matches, so such a pattern would silently drop that text (every metric would count less)."""
    position = 0
    for match in compiled.finditer(_COVERAGE_PROBE):
        if match.start() > position:
            break
        position = max(position, match.end())
    if position < len(_COVERAGE_PROBE):
        raise InputError(
            f"pattern {pattern!r} does not match all text: tiktoken drops what its regex leaves out, "
            f"here {_COVERAGE_PROBE[position:position + 12]!r}",
            f"pass a pre-tokenization regex that matches every character, or a preset: {', '.join(presets)}",
        )


def load_tiktoken(
    path: str | Path,
    *,
    pattern: str | None = None,
    special_tokens: Mapping[str, int] | None = None,
    normalization: str | None = None,
    name: str | None = None,
    backend: str = "auto",
) -> TiktokenTokenizer:
    """Load a ``.tiktoken`` / ``.tiktoken.gz`` ranks file.

    Args:
        path: the ranks file.
        pattern: preset name (``gpt2``, ``cl100k``, ``o200k``, ``qwen2.5``, ``qwen3.5``...) or a regex;
            default: the ``pat_str`` of a ``tiktoken.json`` beside the file that names it (as
            ``tokensmith train`` writes them, see :func:`sibling_config`), else the preset the file name
            names.
        special_tokens: ``text -> id``; default: that ``tiktoken.json``'s, else the preset's (none for a
            raw regex).
        normalization: unicodedata form applied before encoding; default: the preset's (NFC for Qwen).
        name: display name (default: the file stem).
        backend: ``auto`` lets fastokens encode in bulk when told much text is coming (``expect_text``);
            ``reference`` keeps tiktoken for everything.
    """
    check_backend(backend)
    path = Path(path)
    ranks = read_tiktoken_ranks(path)
    config = sibling_config(path) if pattern is None else None
    if config is not None:
        pattern = config["pat_str"]
        if special_tokens is None:
            special_tokens = config.get("special_tokens") or {}
    preset = resolve_pattern(pattern, path)
    specials = dict(preset.special_tokens if special_tokens is None else special_tokens)
    if special_tokens is None and specials:
        # A preset's specials follow its own ranks (cl100k: 100257 after rank 100255); on a file of another
        # size (a retrained or cut vocabulary) they would land inside it or far beyond it, so drop them.
        first_special, after_ranks = min(specials.values()), max(ranks.values()) + 1
        if not 0 <= first_special - after_ranks <= _PRESET_SPECIAL_GAP:
            specials = {}
    return TiktokenTokenizer(
        ranks,
        preset.pattern,
        specials,
        name=name or file_display_name(path),
        sources=[path],
        normalization=normalization if normalization is not None else preset.normalization,
        extra={"preset": preset.name},
        backend=backend,
    )


#: The file beside a ranks file that holds what the ranks lack (written by ``tokensmith train``).
TIKTOKEN_CONFIG = "tiktoken.json"


def sibling_config(path: Path) -> dict | None:
    """The ``tiktoken.json`` beside ``path`` when it describes that ranks file and holds its regex, else None.

    Its ``ranks_file`` (if given) must be ``path``'s name, so a config next to other ranks files is not
    borrowed; a ``pat_str`` of null (a pre-tokenization no single regex expresses) gives None too.

    Raises:
        TokenizerFormatError: the file is there and names this ranks file, but is not a JSON object with a
            string ``pat_str`` and a ``special_tokens`` object of ids.
    """
    import json

    config_path = path.parent / TIKTOKEN_CONFIG
    if not config_path.is_file():
        return None
    hint = 'expected {"pat_str": REGEX, "special_tokens": {TEXT: ID}, "ranks_file": NAME}'
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TokenizerFormatError(f"{config_path} is not valid JSON ({err})", hint) from None
    if not isinstance(config, dict) or config.get("ranks_file", path.name) != path.name:
        return None
    specials = config.get("special_tokens") or {}
    if not isinstance(specials, dict) or not all(isinstance(i, int) for i in specials.values()):
        raise TokenizerFormatError(f"{config_path}: special_tokens is not an object of token ids", hint)
    if config.get("pat_str") is None:
        return None
    if not isinstance(config["pat_str"], str):
        raise TokenizerFormatError(f"{config_path}: pat_str is not a string", hint)
    return config


def _has_fastokens() -> bool:
    import importlib.util

    return importlib.util.find_spec("fastokens") is not None
