"""The ``extend`` trainer: learn more merges on new text and append them to an existing BPE tokenizer.

Every existing id, token and merge is kept (new tokens get ids after the largest existing id, new merges
rank after the existing ones), so a model trained with the old tokenizer still reads its old ids.

How: the base tokenizer.json's own normalizer and pre-tokenizer (run by HF ``tokenizers``) cut the new
text; each distinct pre-token is encoded with the base model, which leaves no pair that an existing
merge could join; the shared merge loop then continues from those segmentations. Token contents are
the vocabulary strings (for byte-level tokenizers, GPT-2's byte characters), so a merge is string
concatenation exactly as HF's BPE model reads its merges.

Not merged: the unknown token and ``<0xXX>`` byte-fallback tokens (their strings do not concatenate into
text). Limit: the base must be an HF ``BPE`` model without ``continuing_subword_prefix`` or
``end_of_word_suffix``.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tokensmith.errors import CorpusError, InputError, TokenizerFormatError
from tokensmith.train.bpe import _MERGES_PER_REPORT, ProgressCallback, TrainingStats, _check_int

#: Length given to tokens that must never merge (unknown, byte fallback); above any allowed length.
_UNMERGEABLE = 1 << 20
_BYTE_FALLBACK = re.compile(r"<0x[0-9A-Fa-f]{2}>")


@dataclass(frozen=True)
class ExtendedBPE:
    """The base tokenizer.json with appended vocabulary and merges.

    Args:
        tokenizer: the full tokenizer.json as a dict (base settings untouched).
        base_vocab_size: ids in the base (largest id + 1).
        new_tokens: strings of the appended tokens, in id order from ``base_vocab_size``.
        new_merges: appended merges as string pairs, in rank order.
    """

    tokenizer: dict
    base_vocab_size: int
    new_tokens: tuple[str, ...]
    new_merges: tuple[tuple[str, str], ...]
    stats: TrainingStats | None = field(default=None, compare=False)

    @property
    def vocab_size(self) -> int:
        return self.base_vocab_size + len(self.new_tokens)

    def to_tokenizer_json(self) -> str:
        return json.dumps(self.tokenizer, ensure_ascii=False, indent=2) + "\n"

    def save(self, directory: str | Path, *, force: bool = False) -> dict[str, Path]:
        """Write ``tokenizer.json`` into ``directory`` (atomically; refuses an existing file)."""
        from tokensmith.io import write_text_atomic
        from tokensmith.train.export import TOKENIZER_JSON

        target = Path(directory) / TOKENIZER_JSON
        write_text_atomic(target, self.to_tokenizer_json(), force=force)
        return {TOKENIZER_JSON: target}


@dataclass(frozen=True)
class ExtendTrainer:
    """Append merges learned on new text to an existing HF BPE tokenizer.json, keeping every id.

    Args:
        base: path of the base tokenizer.json (an HF ``BPE`` model).
        vocab_size: size of the extended vocabulary (base ids included); must exceed the base.
        min_frequency: a pair seen fewer times is never merged.
        max_token_length: longest new token in characters of its vocabulary string (``None``: unlimited).
    """

    base: str = ""
    vocab_size: int = 0
    min_frequency: int = 2
    max_token_length: int | None = None

    def __post_init__(self) -> None:
        _check_int("vocab_size", self.vocab_size, minimum=1)
        _check_int("min_frequency", self.min_frequency, minimum=0)
        if self.max_token_length is not None:
            _check_int("max_token_length", self.max_token_length, minimum=2)
        spec = self.base_spec()
        base_size = _base_size(spec)
        if self.vocab_size <= base_size:
            raise InputError(
                f"vocab_size {self.vocab_size} does not exceed the base tokenizer's {base_size} ids",
                f"pass a vocab_size above {base_size} (the base ids are all kept)",
            )

    def base_spec(self) -> dict:
        """The base tokenizer.json, checked to be an extendable BPE."""
        path = Path(self.base)
        if not path.is_file():
            raise InputError(f"base tokenizer {str(path)!r} is not a file", "pass the path of a tokenizer.json")
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise TokenizerFormatError(f"{path} is not a tokenizer.json: {exc}",
                                       "extend needs an HF tokenizer.json with a BPE model") from None
        model = spec.get("model") if isinstance(spec, dict) else None
        if not isinstance(model, dict) or model.get("type") != "BPE":
            kind = model.get("type") if isinstance(model, dict) else "none"
            raise TokenizerFormatError(
                f"extend needs a BPE tokenizer, but {path} holds a {kind} model",
                "train a new vocabulary with --algorithm bpe instead, or pass a BPE tokenizer.json",
            )
        if model.get("continuing_subword_prefix") or model.get("end_of_word_suffix"):
            raise TokenizerFormatError(
                f"{path} uses continuing_subword_prefix/end_of_word_suffix, which extend does not support",
                "extend byte-level or SentencePiece-style BPE tokenizers",
            )
        return spec

    def train(self, documents: Iterable[str], *, progress: ProgressCallback | None = None) -> ExtendedBPE:
        """Learn merges on ``documents`` and append them to the base."""
        from tokenizers import Tokenizer

        from tokensmith.train import merge_core

        spec = self.base_spec()
        tokenizer = Tokenizer.from_str(json.dumps(spec))
        started = time.perf_counter()
        counts, n_documents, corpus_bytes, has_text = _count_pieces(tokenizer, documents)
        if not counts or not has_text:
            raise CorpusError(
                "the corpus is empty or holds only whitespace, so there is nothing to learn merges from",
                "check the corpus path and format (one document per line for .txt files)",
            )
        count_seconds = time.perf_counter() - started
        contents, units, dedup, strings = _initial_tokens(spec)
        pieces = sorted(counts)
        encoded = [[token.id for token in tokenizer.model.tokenize(piece)] for piece in pieces]
        offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
        np.cumsum([len(ids) for ids in encoded], out=offsets[1:])
        symbols = np.fromiter((i for ids in encoded for i in ids), dtype=np.int32, count=int(offsets[-1]))
        word_counts = np.array([counts[piece] for piece in pieces], dtype=np.int64)
        compile_seconds = merge_core.compile_kernels()
        started = time.perf_counter()
        max_units = self.max_token_length if self.max_token_length is not None else _UNMERGEABLE - 1
        state = merge_core.build_state(symbols, offsets, word_counts, contents, units, dedup=dedup,
                                       max_units=max_units)
        while True:
            run = merge_core.run_merges(state, vocab_size=self.vocab_size, min_frequency=self.min_frequency,
                                        max_merges=_MERGES_PER_REPORT)
            if progress is not None:
                progress("merge", state.n_merges, self.vocab_size - len(contents))
            if run.stop_reason != "running":
                break
        merge_seconds = time.perf_counter() - started
        base_size = len(contents)
        new_tokens = tuple(state.token(i).decode("utf-8") for i in range(base_size, state.n_tokens))
        strings = strings + list(new_tokens)
        learned = state.learned_merges().tolist()
        last = {(left, right): rank for rank, (left, right, _) in enumerate(learned)}
        new_merges = tuple((strings[left], strings[right]) for rank, (left, right, _) in enumerate(learned)
                           if last[(left, right)] == rank)
        out = json.loads(json.dumps(spec))
        model = out["model"]
        model["vocab"].update({text: base_size + i for i, text in enumerate(new_tokens)})
        model["merges"] = [_as_pair(merge) for merge in model["merges"]] + [list(pair) for pair in new_merges]
        stats = TrainingStats(
            documents=n_documents, corpus_bytes=corpus_bytes, pretokens=int(word_counts.sum()),
            distinct_pretokens=len(pieces), merges=len(learned), stop_reason=state.stop_reason,
            count_seconds=count_seconds, compile_seconds=compile_seconds, merge_seconds=merge_seconds,
        )
        return ExtendedBPE(out, base_size, new_tokens, new_merges, stats)


def _base_size(spec: dict) -> int:
    ids = list(spec["model"]["vocab"].values()) + [token["id"] for token in spec.get("added_tokens") or []]
    return max(ids) + 1 if ids else 0


def _initial_tokens(spec: dict) -> tuple[list[bytes], list[int], list[bool], list[str]]:
    """Content (UTF-8 of the vocabulary string), length in characters and dedup flag of every base id."""
    model = spec["model"]
    size = _base_size(spec)
    strings = [""] * size
    contents = [b""] * size
    units = [_UNMERGEABLE] * size  # holes and added tokens never merge
    dedup = [False] * size
    byte_fallback = bool(model.get("byte_fallback"))
    unk = model.get("unk_token")
    for text, token_id in model["vocab"].items():
        strings[token_id] = text
        contents[token_id] = text.encode("utf-8")
        if text == unk or (byte_fallback and _BYTE_FALLBACK.fullmatch(text)):
            continue
        units[token_id] = len(text)
        dedup[token_id] = True
    for token in spec.get("added_tokens") or []:
        if not strings[token["id"]]:
            strings[token["id"]] = token["content"]
            contents[token["id"]] = token["content"].encode("utf-8")
    return contents, units, dedup, strings


def _count_pieces(tokenizer, documents: Iterable[str]) -> tuple[Counter, int, int, bool]:
    """Distinct pre-tokens (as the base's pre-tokenizer outputs them) with counts, documents, UTF-8 bytes,
    and whether any document holds a non-whitespace character."""
    normalizer, pre_tokenizer = tokenizer.normalizer, tokenizer.pre_tokenizer
    counter: Counter = Counter()
    n_documents = corpus_bytes = 0
    has_text = False
    for document in documents:
        if not isinstance(document, str):
            raise InputError(f"a document is a {type(document).__name__}, not text", "pass an iterable of str")
        n_documents += 1
        corpus_bytes += len(document.encode("utf-8"))
        has_text = has_text or not document.isspace() and document != ""
        text = normalizer.normalize_str(document) if normalizer is not None else document
        if pre_tokenizer is None:
            counter[text] += 1
        else:
            counter.update(piece for piece, _ in pre_tokenizer.pre_tokenize_str(text))
    counter.pop("", None)
    return counter, n_documents, corpus_bytes, has_text


def _as_pair(merge: str | list[str]) -> list[str]:
    return list(merge) if isinstance(merge, list) else merge.split(" ", 1)
