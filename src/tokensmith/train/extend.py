"""The ``extend`` trainer: learn more merges on new text and append them to an existing BPE tokenizer.

Every existing id, token and merge is kept (new tokens get ids after the largest existing id, new merges
rank after the existing ones), so a model trained with the old tokenizer still reads its old ids.

The base is any BPE tokenizer :func:`tokensmith.tokenizers.load_tokenizer` loads: an HF tokenizer.json
(taken as it is), a transformers folder, a GGUF ``gpt2`` vocabulary, or tiktoken ranks (a ``.tiktoken`` file,
Tekken, ``o200k``...). A ranks table becomes a byte-level tokenizer.json first: its ids, the merges derived
from the ranks (``Tokenizer.merges``), its regex as the pre-tokenizer (written as the bpe exporter writes
it) and ``ignore_merges`` (tiktoken takes a pre-token that is a whole token as it is). That conversion is
checked to encode like the base before training; a base whose pre-tokenization has no exact
tokenizer.json form (SentencePiece ``.model``, GGUF ``llama``) is refused.

How: the base tokenizer.json's own normalizer and pre-tokenizer (run by HF ``tokenizers``) cut the new
text; each distinct pre-token is encoded with the base model, which leaves no pair that an existing
merge could join; the shared merge loop then continues from those segmentations. Token contents are
the vocabulary strings (for byte-level tokenizers, GPT-2's byte characters), so a merge is string
concatenation exactly as HF's BPE model reads its merges.

Not merged: the unknown token and ``<0xXX>`` byte-fallback tokens (their strings do not concatenate into
text). So that a base with either (SentencePiece-style) can still learn a script it lacks, the characters it
would spell with them become new tokens first (those seen ``min_frequency`` times, most frequent first).

A byte-level result is also saved as tiktoken ranks (``tokenizer.tiktoken`` + ``tiktoken.json``) when its
pre-tokenizer has a tiktoken regex, its ids rank the merges in order and tiktoken encodes as the tokenizer.json
does (:func:`~tokensmith.train.export.tiktoken_encodes_alike`). Limit: the base must
be a BPE model without ``continuing_subword_prefix`` or ``end_of_word_suffix``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tokensmith.errors import CorpusError, InputError, TokenizerFormatError
from tokensmith.train.bpe import (
    MAX_VOCAB_SIZE,
    ProgressCallback,
    TrainingStats,
    _check_int,
    check_run_options,
    check_setting_types,
    merge_to_end,
    reopen_checkpoint,
)

if TYPE_CHECKING:
    from tokensmith.tokenizers import Tokenizer

#: Length given to tokens that must never merge (unknown, byte fallback); above any allowed length.
_UNMERGEABLE = 1 << 20
_BYTE_FALLBACK = re.compile(r"<0x[0-9A-Fa-f]{2}>")
#: Training text also used to check that a converted base encodes like the base (first documents).
_SAMPLE_BYTES = 1 << 20
#: Checked along with that sample: spaces, digits, contractions, case, punctuation, several scripts.
_PROBE_TEXT = ("Hello, World! It's 2024-06-01; we'll pay $1,234.56 (or 3 x 7).\n\n\tDéjà vu — naïve café   "
               "ЖИЗНЬ и смерть; 東京は日本の首都です。 مرحبا بالعالم 안녕하세요 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🙂👍🏽  \r\n  end ")


@dataclass(frozen=True)
class ExtendedBPE:
    """The base tokenizer.json with appended vocabulary and merges.

    Args:
        tokenizer: the full tokenizer.json as a dict (base settings untouched).
        base_vocab_size: ids in the base (largest id + 1).
        new_tokens: strings of the appended tokens, in id order from ``base_vocab_size``.
        new_merges: appended merges as string pairs, in rank order.
        tiktoken_pattern: the regex of a ``tiktoken.Encoding`` that encodes as ``tokenizer`` does, or None
            when it has no tiktoken form (then only tokenizer.json is saved).
        folder_settings: what the base's transformers folder declares beyond its tokenizer.json (roles, chat
            template, context length: :func:`~tokensmith.tokenizers.hf_json.tokenizer_folder_settings`),
            written into the tokenizer_config.json saved beside the extended tokenizer.json.
    """

    tokenizer: dict
    base_vocab_size: int
    new_tokens: tuple[str, ...]
    new_merges: tuple[tuple[str, str], ...]
    stats: TrainingStats | None = field(default=None, compare=False)
    tiktoken_pattern: str | None = None
    folder_settings: dict = field(default_factory=dict, compare=False)

    @property
    def vocab_size(self) -> int:
        return self.base_vocab_size + len(self.new_tokens)

    def to_tokenizer_json(self) -> str:
        return json.dumps(self.tokenizer, ensure_ascii=False, indent=2) + "\n"

    def mergeable_ranks(self) -> dict[bytes, int] | None:
        """Token bytes -> rank (= id) of every ordinary token, or None without a tiktoken form."""
        if self.tiktoken_pattern is None:
            return None
        from tokensmith.tokenizers.bytemaps import byte_level_to_bytes

        special_ids = set(self.special_tokens().values())  # text never reaches them (HF cuts them out first)
        by_id = sorted((token_id, text) for text, token_id in self.tokenizer["model"]["vocab"].items()
                       if token_id not in special_ids)
        return {byte_level_to_bytes(text): token_id for token_id, text in by_id}

    def special_tokens(self) -> dict[str, int]:
        """Text -> id of the special added tokens."""
        return {t["content"]: t["id"] for t in self.tokenizer.get("added_tokens") or [] if t.get("special")}

    def tiktoken_encoding(self, name: str = "tokensmith"):
        """A ``tiktoken.Encoding`` with the ids of the tokenizer.json (None without a tiktoken form)."""
        import tiktoken

        ranks = self.mergeable_ranks()
        if ranks is None:
            return None
        return tiktoken.Encoding(name=name, pat_str=self.tiktoken_pattern, mergeable_ranks=ranks,
                                 special_tokens=self.special_tokens())

    def save(self, directory: str | Path, *, force: bool = False) -> dict[str, Path]:
        """Write the folder ``directory`` of ``tokenizer.json`` (and, with a tiktoken form, ``tokenizer.tiktoken``
        + ``tiktoken.json``) as a whole, as :meth:`TrainedBPE.save <tokensmith.train.bpe.TrainedBPE.save>` does."""
        from tokensmith.train.export import (
            TIKTOKEN_CONFIG,
            TIKTOKEN_RANKS,
            TOKENIZER_CONFIG,
            TOKENIZER_JSON,
            ranks_file,
            tiktoken_config,
            tokenizer_config,
            write_files,
        )

        contents: dict[str, str | bytes] = {
            TOKENIZER_JSON: self.to_tokenizer_json(),
            TOKENIZER_CONFIG: tokenizer_config(((token_id, text) for text, token_id in self.special_tokens().items()),
                                               self.folder_settings),
        }
        ranks = self.mergeable_ranks()
        if ranks is not None:
            contents[TIKTOKEN_RANKS] = ranks_file(ranks)
            contents[TIKTOKEN_CONFIG] = tiktoken_config(self.tiktoken_pattern, self.special_tokens())
        return write_files(directory, contents, force=force)


@dataclass(frozen=True)
class ExtendTrainer:
    """Append merges learned on new text to an existing BPE tokenizer, keeping every id.

    Args:
        base: the base tokenizer: a reference name (``o200k``, ``gpt2``...) or a path of any BPE format
            :func:`tokensmith.tokenizers.load_tokenizer` reads (tokenizer.json, transformers folder,
            ``.tiktoken``, Tekken json, GGUF).
        vocab_size: size of the extended vocabulary (base ids included); must exceed the base (0, the
            default, is no size: it must be given).
        min_frequency: a pair seen fewer times is never merged.
        max_token_length: longest new token in characters of its vocabulary string (``None``: unlimited).
    """

    base: str = ""
    vocab_size: int = 0
    min_frequency: int = 2
    max_token_length: int | None = None

    def __post_init__(self) -> None:
        check_setting_types(self)
        _check_int("vocab_size", self.vocab_size, minimum=0, maximum=MAX_VOCAB_SIZE)
        _check_int("min_frequency", self.min_frequency, minimum=0)
        if self.max_token_length is not None:
            _check_int("max_token_length", self.max_token_length, minimum=2)
        spec, loaded = self._open_base()
        base_size = _base_size(spec) if spec is not None else loaded.vocab_size
        if self.vocab_size <= base_size:
            given = f"vocab_size {self.vocab_size} does not exceed" if self.vocab_size else "no vocab_size given for"
            raise InputError(
                f"{given} the base tokenizer's {base_size} ids",
                f"pass a vocab_size (--vocab-size) above {base_size} (the base ids are all kept)",
            )

    def base_spec(self) -> dict:
        """The base as a tokenizer.json dict, checked to be an extendable BPE."""
        spec, loaded = self._open_base()
        return spec if spec is not None else _converted_spec(loaded)

    def _open_base(self) -> tuple[dict | None, Tokenizer | None]:
        """``(tokenizer.json dict, None)`` for a tokenizer.json file (taken as it is), else ``(None, the
        loaded tokenizer)``, checked to be a BPE whose tokenizer.json form is exact.

        Raises:
            InputError: no such file or reference.
            TokenizerFormatError: not a BPE tokenizer, or one extend cannot write exactly.
        """
        from tokensmith.tokenizers import detect_format, load_tokenizer

        path = Path(self.base)
        if not self.base:
            raise InputError("extend needs the tokenizer to extend", "pass --base NAME_OR_PATH (base=...)")
        if path.is_file() and detect_format(path).name == "hf-json":
            return _read_tokenizer_json(path), None
        loaded = load_tokenizer(self.base)
        if loaded.info.model != "bpe":
            raise TokenizerFormatError(
                f"extend needs a BPE tokenizer, but {self.base} is not a BPE tokenizer "
                f"(it is a {loaded.info.model} model)",
                "train a new vocabulary with --algorithm bpe instead, or pass a BPE tokenizer",
            )
        backend = getattr(loaded, "backend_tokenizer", None)
        exact = "pattern" in loaded.info.extra or (
            backend is not None and loaded.info.extra.get("ggml_model") in (None, "gpt2"))
        if not exact:
            raise TokenizerFormatError(
                f"the pre-tokenization of {self.base} ({loaded.info.format}) cannot be written as a "
                "tokenizer.json exactly, so extend would write a tokenizer that encodes differently",
                "convert the base to an HF tokenizer.json first (e.g. with transformers) and extend that",
            )
        if backend is not None:
            return _checked_bpe(json.loads(backend.to_str()), self.base), None
        return None, loaded

    def _folder_settings(self) -> dict:
        """What the base's folder (of its tokenizer.json, or a reference's package) declares beyond it."""
        from tokensmith.tokenizers.hf_json import tokenizer_folder_settings
        from tokensmith.tokenizers.references import REFERENCES, reference_name

        path = Path(self.base).expanduser()
        if not path.exists():
            name = reference_name(self.base)
            located = REFERENCES.get(name).locate() if name is not None else None
            if located is None:
                return {}
            path = located
        return tokenizer_folder_settings(path if path.is_dir() else path.parent)

    def train(self, documents: Iterable[str], *, progress: ProgressCallback | None = None,
              checkpoint: str | Path | None = None, checkpoint_seconds: float = 60.0,
              corpus_fingerprint: str | None = None, corpus_reading: dict | None = None) -> ExtendedBPE:
        """Learn merges on ``documents`` and append them to the base.

        ``checkpoint`` and the other arguments: as in :meth:`BpeTrainer.train`; :meth:`resume` continues
        from the checkpoint (after an interruption, or to a larger ``vocab_size``).
        """
        from tokenizers import Tokenizer

        from tokensmith.train import merge_core
        from tokensmith.train.counting import check_documents

        check_documents(documents)
        check_run_options(progress, checkpoint_seconds)
        spec, loaded = self._open_base()
        if spec is None:
            spec = _converted_spec(loaded)
        tokenizer = Tokenizer.from_str(json.dumps(spec))
        started = time.perf_counter()
        sample: list[str] = []
        added = [token["content"] for token in spec.get("added_tokens") or []]
        counts, n_documents, corpus_bytes, has_text = _count_pieces(tokenizer, documents, sample, added)
        if not counts or not has_text:
            raise CorpusError(
                "the corpus is empty or holds only whitespace (or the text of the base's added tokens, which HF "
                "cuts out before the merges), so there is nothing to learn merges from",
                "check the corpus path and format (one document per line for .txt files)",
            )
        if loaded is not None:
            _check_conversion(loaded, tokenizer, [_PROBE_TEXT, *sample])
        count_seconds = time.perf_counter() - started
        new_characters = _new_characters(spec, counts, self.vocab_size - _base_size(spec), self.min_frequency)
        grown = _with_characters(spec, new_characters)
        tokenizer = Tokenizer.from_str(json.dumps(grown))
        contents, units, dedup, _ = _initial_tokens(grown)
        pieces = sorted(counts)
        encoded = [[token.id for token in tokenizer.model.tokenize(piece)] for piece in pieces]
        offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
        np.cumsum([len(ids) for ids in encoded], out=offsets[1:])
        symbols = np.fromiter((i for ids in encoded for i in ids), dtype=np.int32, count=int(offsets[-1]))
        word_counts = np.array([counts[piece] for piece in pieces], dtype=np.int64)
        compile_seconds = merge_core.compile_kernels()
        max_units = self.max_token_length if self.max_token_length is not None else _UNMERGEABLE - 1
        state = merge_core.build_state(symbols, offsets, word_counts, contents, units, dedup=dedup,
                                       max_units=max_units)
        corpus = {"documents": n_documents, "corpus_bytes": corpus_bytes, "pretokens": int(word_counts.sum()),
                  "distinct_pretokens": len(pieces), "count_seconds": count_seconds,
                  "compile_seconds": compile_seconds, "fingerprint": corpus_fingerprint, "reading": corpus_reading,
                  "new_characters": list(new_characters)}
        return self._extend(spec, state, corpus, time.perf_counter(), progress, checkpoint, checkpoint_seconds,
                            save_first=True)

    def resume(self, checkpoint: str | Path, *, progress: ProgressCallback | None = None,
               checkpoint_seconds: float = 60.0, corpus_fingerprint: str | None = None,
               corpus_reading: dict | None = None) -> ExtendedBPE:
        """Continue from a checkpoint written by :meth:`train` (same base and settings; ``vocab_size`` may grow).
        The result equals an uninterrupted run's, byte for byte.

        Raises:
            InputError: as :meth:`BpeTrainer.resume`; a base whose tokenizer.json form differs from the
                interrupted run's is other settings.
        """
        check_run_options(progress, checkpoint_seconds)
        spec = self.base_spec()
        settings = self.checkpoint_settings(spec)
        metadata, state, compile_seconds, started = reopen_checkpoint(
            checkpoint, settings, vocab_size=self.vocab_size,
            corpus_fingerprint=corpus_fingerprint, corpus_reading=corpus_reading)
        return self._extend(spec, state, {**metadata["corpus"], "compile_seconds": compile_seconds}, started,
                            progress, checkpoint, checkpoint_seconds, save_first=False, settings=settings)

    def checkpoint_settings(self, base_spec: dict | None = None) -> dict:
        """The settings a checkpoint must share with a run that resumes it: the base by its tokenizer.json
        form (the same file under another path, or a reference by its file, resumes it; an edited one does not).

        ``base_spec``: :meth:`base_spec`, when the caller has it (building it converts some bases anew).
        """
        spec = base_spec if base_spec is not None else self.base_spec()
        digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode("utf-8")).hexdigest()
        return {"trainer": type(self).__name__, "base_sha256": digest, "min_frequency": self.min_frequency,
                "max_token_length": self.max_token_length}

    def _extend(self, spec: dict, state, corpus: dict, started: float, progress: ProgressCallback | None,
                checkpoint: str | Path | None, checkpoint_seconds: float, *, save_first: bool,
                settings: dict | None = None) -> ExtendedBPE:
        """Run the merges on ``state`` to the end and append what they learn to the base ``spec``; ``settings``:
        :meth:`checkpoint_settings`, if the caller has them (they hash the whole base, so only a run with a
        checkpoint computes them)."""
        base_size = _base_size(spec)
        if checkpoint is not None and settings is None:
            settings = self.checkpoint_settings(spec)
        new_characters = tuple(corpus["new_characters"])
        spec = _with_characters(spec, new_characters)
        _, _, _, strings = _initial_tokens(spec)
        n_initial = len(strings)
        merge_to_end(state, vocab_size=self.vocab_size, min_frequency=self.min_frequency, started=started,
                     checkpoint=checkpoint, checkpoint_seconds=checkpoint_seconds, save_first=save_first,
                     checkpoint_metadata=lambda: {"settings": settings, "corpus": corpus},
                     progress=progress, progress_total=self.vocab_size - n_initial)
        merged_tokens = tuple(state.token(i).decode("utf-8") for i in range(n_initial, state.n_tokens))
        new_tokens = new_characters + merged_tokens
        strings = strings + list(merged_tokens)
        learned = state.learned_merges().tolist()
        last = {(left, right): rank for rank, (left, right, _) in enumerate(learned)}
        new_merges = tuple((strings[left], strings[right]) for rank, (left, right, _) in enumerate(learned)
                           if last[(left, right)] == rank)
        out = json.loads(json.dumps(spec))
        model = out["model"]
        _pin_added_tokens(out, set(new_tokens))
        model["vocab"].update({text: n_initial + i for i, text in enumerate(merged_tokens)})
        model["merges"] = [_as_pair(merge) for merge in model["merges"]] + [list(pair) for pair in new_merges]
        stats = TrainingStats(
            documents=corpus["documents"], corpus_bytes=corpus["corpus_bytes"], pretokens=corpus["pretokens"],
            distinct_pretokens=corpus["distinct_pretokens"], merges=len(learned), stop_reason=state.stop_reason,
            count_seconds=corpus["count_seconds"], compile_seconds=corpus["compile_seconds"],
            merge_seconds=time.perf_counter() - started,
        )
        extended = ExtendedBPE(out, base_size, new_tokens, new_merges, stats, folder_settings=self._folder_settings())
        pattern = _tiktoken_pattern(spec)  # from the tokenizer.json as written: a normalizer rules it out
        if pattern is not None and _ranks_follow_merges(out):
            from tokensmith.train.export import tiktoken_encodes_alike

            candidate = replace(extended, tiktoken_pattern=pattern)
            # e.g. a superword base: its ranks, in tiktoken, merge what its merges do not
            if tiktoken_encodes_alike(candidate.to_tokenizer_json(), pattern, candidate.mergeable_ranks(),
                                      candidate.special_tokens()):
                extended = candidate
        return extended


def _read_tokenizer_json(path: Path) -> dict:
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TokenizerFormatError(f"{path} is not a tokenizer.json: {exc}",
                                   "extend needs a BPE tokenizer (tokenizer.json, .tiktoken, GGUF...)") from None
    return _checked_bpe(spec, str(path))


def _checked_bpe(spec: dict, name: str) -> dict:
    """``spec`` when it is an HF BPE model extend supports."""
    model = spec.get("model") if isinstance(spec, dict) else None
    if not isinstance(model, dict) or model.get("type") != "BPE":
        kind = model.get("type") if isinstance(model, dict) else "none"
        raise TokenizerFormatError(
            f"extend needs a BPE tokenizer, but {name} is not a BPE tokenizer (it holds a {kind} model)",
            "train a new vocabulary with --algorithm bpe instead, or pass a BPE tokenizer",
        )
    if model.get("continuing_subword_prefix") or model.get("end_of_word_suffix"):
        raise TokenizerFormatError(
            f"{name} uses continuing_subword_prefix/end_of_word_suffix, which extend does not support",
            "extend byte-level or SentencePiece-style BPE tokenizers",
        )
    return spec


def _converted_spec(loaded: Tokenizer) -> dict:
    """The tokenizer.json of a tiktoken-style base (ranks + regex): every id, merge and special token kept."""
    from tokensmith.tokenizers.bytemaps import bytes_to_byte_level
    from tokensmith.train.export import BYTE_LEVEL_DECODER, special_added_tokens
    from tokensmith.train.pretokenize import Pretokenizer

    specials = {special.id: special.text for special in loaded.special_tokens}
    # Special tokens go into the model's vocabulary too: HF gives an added token that is not there the
    # next free id instead of its own (Tekken's come first, at ids 0-999).
    vocab: dict[str, int] = {text: token_id for token_id, text in specials.items()}
    for token_id, token in enumerate(loaded.all_token_bytes):
        if token_id not in specials and token:
            vocab.setdefault(bytes_to_byte_level(token), token_id)
    normalization = loaded.info.extra.get("normalization")
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": special_added_tokens(sorted(specials.items())),
        "normalizer": {"type": normalization} if normalization else None,
        "pre_tokenizer": Pretokenizer.for_pattern(loaded.info.extra["pattern"]).hf_pre_tokenizer(),
        "post_processor": None,
        "decoder": BYTE_LEVEL_DECODER,
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
            # tiktoken takes a pre-token that is a whole token as it is, whatever the merges would do
            "ignore_merges": True,
            "vocab": vocab,
            "merges": [[bytes_to_byte_level(left), bytes_to_byte_level(right)] for left, right in loaded.merges],
        },
    }


def _check_conversion(loaded: Tokenizer, converted, texts: list[str]) -> None:
    """Refuse a converted base that encodes any of ``texts`` differently from the base itself."""
    specials = [special.text for special in loaded.special_tokens]
    # a tokenizer.json always cuts out special-token text, tiktoken's encode_ordinary never does
    texts = [text for text in texts if not any(special in text for special in specials)]
    theirs = loaded.encode_batch(texts)
    ours = [encoding.ids for encoding in converted.encode_batch(texts, add_special_tokens=False)]
    for text, expected, got in zip(texts, theirs, ours, strict=True):
        if expected != got:
            raise TokenizerFormatError(
                f"{loaded.name} cannot be written as a tokenizer.json that encodes exactly as it does "
                f"(e.g. {text[:60]!r}), so extend refuses it",
                "extend an HF tokenizer.json of this vocabulary instead",
            )


def _tiktoken_pattern(spec: dict) -> str | None:
    """The tiktoken regex that cuts text as a byte-level ``spec`` does, or None when it has none."""
    from tokensmith.train.pretokenize import Pretokenizer

    model, pre = spec["model"], spec.get("pre_tokenizer") or {}
    if spec.get("normalizer") is not None or model.get("byte_fallback") or model.get("unk_token"):
        return None
    if (spec.get("decoder") or {}).get("type") != "ByteLevel":
        return None
    steps = pre.get("pretokenizers") if pre.get("type") == "Sequence" else [pre]
    if steps == [{**steps[0], "type": "ByteLevel", "add_prefix_space": False, "use_regex": True}]:
        return Pretokenizer.create("gpt2").tiktoken_pattern
    if (len(steps) == 2 and steps[0].get("type") == "Split" and steps[0].get("behavior") == "Isolated"
            and not steps[0].get("invert") and "Regex" in (steps[0].get("pattern") or {})
            and steps[1] == {**steps[1], "type": "ByteLevel", "add_prefix_space": False, "use_regex": False}):
        try:
            pretokenizer = Pretokenizer.for_pattern(steps[0]["pattern"]["Regex"])
        except InputError:  # a regex Python's engine cannot apply as the tokenizer.json does: no tiktoken form
            return None
        return pretokenizer.tiktoken_pattern if pretokenizer.has_tiktoken_form else None
    return None


def _ranks_follow_merges(spec: dict) -> bool:
    """Whether ids can serve as tiktoken ranks: every token is bytes, and the merges make ever larger ids
    (tiktoken applies the merge whose result has the lowest rank first)."""
    from tokensmith.tokenizers.bytemaps import byte_level_to_bytes

    special_ids = {token["id"] for token in spec.get("added_tokens") or [] if token.get("special")}
    vocab = spec["model"]["vocab"]
    try:
        for text, token_id in vocab.items():
            if token_id not in special_ids:
                byte_level_to_bytes(text)
    except KeyError:
        return False
    made = [vocab.get("".join(_as_pair(merge))) for merge in spec["model"]["merges"]]
    return None not in made and all(a < b for a, b in itertools.pairwise(made))


def _pin_added_tokens(spec: dict, new_tokens: set[str]) -> None:
    """Put the added tokens that the model's vocabulary lacks into it, at their own ids.

    HF reads an added token's id from the model's vocabulary, else gives it the next id after the model's
    size, whatever the file says: DeepSeek-V4's 1,280 added tokens (ids from 128,000, after its 128,000
    merged tokens) moved up by the number of new tokens, onto the new tokens' ids.
    """
    vocab = spec["model"]["vocab"]
    used = set(vocab.values())
    for token in spec.get("added_tokens") or []:
        content, token_id = token["content"], token["id"]
        if content not in vocab and token_id not in used and content not in new_tokens:
            vocab[content] = token_id
            used.add(token_id)


def _base_size(spec: dict) -> int:
    ids = list(spec["model"]["vocab"].values()) + [token["id"] for token in spec.get("added_tokens") or []]
    return max(ids) + 1 if ids else 0


def _new_characters(spec: dict, counts: Counter, budget: int, min_frequency: int) -> tuple[str, ...]:
    """The characters of the pre-tokens that a base with byte fallback or an unknown token lacks, seen at least
    ``min_frequency`` times, most frequent first (at most ``budget``): HF's BPE model looks each character up
    in the vocabulary before any merge, so a new one needs only its entry there. (A byte-level base lacks
    none: its pre-tokens are spelled in its byte alphabet.)"""
    model = spec["model"]
    if not (model.get("byte_fallback") or model.get("unk_token")):
        return ()
    known = model["vocab"].keys() | {token["content"] for token in spec.get("added_tokens") or []}
    by_character: Counter = Counter()
    for piece, count in counts.items():
        for char in set(piece) - known:
            by_character[char] += count * piece.count(char)
    frequent = sorted((char for char, count in by_character.items() if count >= max(min_frequency, 1)),
                      key=lambda char: (-by_character[char], char))
    return tuple(frequent[:budget])


def _with_characters(spec: dict, characters: tuple[str, ...]) -> dict:
    """``spec`` with ``characters`` added to its vocabulary after the base ids (a copy; ``spec`` when none)."""
    if not characters:
        return spec
    grown = json.loads(json.dumps(spec))
    base_size = _base_size(spec)
    grown["model"]["vocab"].update({char: base_size + i for i, char in enumerate(characters)})
    return grown


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
        if token.get("special"):  # text never reaches a special token, so no merge may build one either
            units[token["id"]] = _UNMERGEABLE
            dedup[token["id"]] = False
    return contents, units, dedup, strings


def _count_pieces(tokenizer, documents: Iterable[str], sample: list[str],
                  added_tokens: list[str] = ()) -> tuple[Counter, int, int, bool]:
    """Distinct pre-tokens (as the base's pre-tokenizer outputs them) with counts, documents, UTF-8 bytes,
    and whether any document holds a non-whitespace character besides added tokens. The first documents (up to
    :data:`_SAMPLE_BYTES`) are also appended to ``sample``.

    The text of ``added_tokens`` is cut out first and each stretch between is normalized on its own, as HF
    encodes: the BPE model never sees ``</s>`` in ``word</s>`` (merges learnt across it would never apply, and
    one building ``</s>`` itself would take the special token's string, and so its id, in the vocabulary)."""
    from tokensmith.train.counting import lone_surrogate_error

    sample_bytes = 0
    normalizer, pre_tokenizer = tokenizer.normalizer, tokenizer.pre_tokenizer
    # longest first: a regex takes the first alternative that matches, HF the longest added token
    ordered = sorted(set(filter(None, added_tokens)), key=lambda text: (-len(text), text))
    cut_added = re.compile("|".join(map(re.escape, ordered))).split if ordered else None
    counter: Counter = Counter()
    n_documents = corpus_bytes = 0
    has_text = False
    for document in documents:
        if not isinstance(document, str):
            raise InputError(f"a document is a {type(document).__name__}, not text", "pass an iterable of str")
        n_documents += 1
        try:
            size = len(document.encode("utf-8"))
        except UnicodeEncodeError as exc:
            raise lone_surrogate_error(exc) from None
        corpus_bytes += size
        if sample_bytes < _SAMPLE_BYTES:
            sample.append(document)
            sample_bytes += size
        for stretch in cut_added(document) if cut_added is not None else (document,):
            if not stretch:
                continue
            has_text = has_text or not stretch.isspace()
            text = normalizer.normalize_str(stretch) if normalizer is not None else stretch
            if pre_tokenizer is None:
                counter[text] += 1
            else:
                counter.update(piece for piece, _ in pre_tokenizer.pre_tokenize_str(text))
    counter.pop("", None)
    return counter, n_documents, corpus_bytes, has_text


def _as_pair(merge: str | list[str]) -> list[str]:
    return list(merge) if isinstance(merge, list) else merge.split(" ", 1)
