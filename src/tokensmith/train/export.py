"""Writing a trained BPE: HF tokenizer.json and tiktoken ranks.

* ``tokenizer.json`` loads unchanged in ``tokenizers.Tokenizer.from_file`` and
  ``transformers.PreTrainedTokenizerFast(tokenizer_file=...)``: a ``BPE`` model over GPT-2's byte-level
  alphabet (``Ġ`` = space), the pre-tokenizer that cuts text as training did (``Split(regex)`` then
  ``ByteLevel(use_regex=False)``, or ``ByteLevel`` alone for the GPT-2 regex) and a ``ByteLevel``
  decoder, so ``decode(encode(text)) == text`` for any text. Special tokens are ``added_tokens``.
* ``tokenizer.tiktoken``: one ``base64(token bytes) rank`` line per token, rank = id (tiktoken's
  format), with ``tiktoken.json`` beside it holding the ``pat_str`` and special tokens that
  ``tiktoken.Encoding`` needs; written only when tiktoken encodes as the tokenizer.json does
  (:func:`tiktoken_encodes_alike`).

The output is a pure function of the trained tokenizer: same input, byte-identical files.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokensmith.io import atomic_folder
from tokensmith.tokenizers import tiktoken_file
from tokensmith.tokenizers.bytemaps import byte_level_to_bytes, bytes_to_byte_level, unicode_to_byte

if TYPE_CHECKING:
    import tiktoken

    from tokensmith.train.bpe import TrainedBPE

TOKENIZER_JSON = "tokenizer.json"
TIKTOKEN_RANKS = "tokenizer.tiktoken"
TIKTOKEN_CONFIG = tiktoken_file.TIKTOKEN_CONFIG  # the loader reads it back from beside the ranks
TOKENIZER_CONFIG = "tokenizer_config.json"
#: Every file a saved tokenizer folder may hold (the tiktoken pair only where tiktoken encodes alike).
TOKENIZER_FILES = (TOKENIZER_JSON, TOKENIZER_CONFIG, TIKTOKEN_RANKS, TIKTOKEN_CONFIG)

#: The decoder of every byte-level tokenizer.json written here (Ġ-style characters back to bytes).
BYTE_LEVEL_DECODER = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}


def special_added_tokens(specials: Iterable[tuple[int, str]]) -> list[dict]:
    """tokenizer.json ``added_tokens`` entries of special tokens ``(id, text)``, in the order given."""
    return [{"id": token_id, "content": text, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True} for token_id, text in specials]


def tokenizer_json(trained: TrainedBPE) -> str:
    """The HF tokenizer.json of ``trained`` as text (vocab in id order, merges in priority order)."""
    strings = _vocab_strings(trained)
    return json.dumps(
        {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": special_added_tokens((token_id, text) for text, token_id in trained.special_tokens),
            "normalizer": None,
            "pre_tokenizer": trained.pretokenizer.hf_pre_tokenizer(),
            "post_processor": None,
            "decoder": BYTE_LEVEL_DECODER,
            "model": {
                "type": "BPE",
                "dropout": None,
                "unk_token": None,
                "continuing_subword_prefix": None,
                "end_of_word_suffix": None,
                "fuse_unk": False,
                "byte_fallback": False,
                "ignore_merges": False,
                "vocab": {string: token_id for token_id, string in enumerate(strings)},
                "merges": [[strings[left], strings[right]] for left, right in _merge_pairs(trained)],
            },
        },
        ensure_ascii=False,
        indent=2,
    ) + "\n"


def tiktoken_ranks(trained: TrainedBPE) -> bytes:
    """The ``.tiktoken`` file: ``base64(bytes) rank`` per line, by rank."""
    return ranks_file(mergeable_ranks(trained))


def ranks_file(ranks: dict[bytes, int]) -> bytes:
    """``base64(bytes) rank`` per line, in the order of ``ranks`` (tiktoken's ranks file format)."""
    lines = [base64.b64encode(token) + b" " + str(rank).encode() for token, rank in ranks.items()]
    return b"".join(line + b"\n" for line in lines)


def tiktoken_config(pat_str: str | None, special_tokens: dict[str, int]) -> str:
    """The ``tiktoken.json`` beside a ranks file: what ``tiktoken.Encoding`` needs besides the ranks."""
    config = {"pat_str": pat_str, "special_tokens": special_tokens, "ranks_file": TIKTOKEN_RANKS}
    return json.dumps(config, ensure_ascii=False, indent=2) + "\n"


def tokenizer_config(special_tokens: Iterable[tuple[int, str]], settings: Mapping[str, Any] | None = None) -> str:
    """``tokenizer_config.json`` for transformers' ``AutoTokenizer``: the fast class, which takes
    tokenizer.json as it is; no clean-up of spaces on decode (it would turn " ." into "."); the special
    tokens, with the roles ``settings`` declares (a base's folder: ``{"pad_token": text}``) or else their
    text tells (``<|endoftext|>`` eos, ``<pad>`` pad; without them ``eos_token`` and ``pad_token`` were None),
    the others as additional special tokens; and the base's carried settings (chat template, context length)."""
    from tokensmith.tokenizers.hf_json import CARRIED_CONFIG_KEYS, CONFIG_ROLE_KEYS
    from tokensmith.tokenizers.roles import assign_roles

    settings = settings or {}
    specials = sorted(special_tokens)
    text_of = dict(specials)
    id_of = {text: token_id for token_id, text in specials}
    declared = {role: id_of[settings[key]] for key, role in CONFIG_ROLE_KEYS.items() if settings.get(key) in id_of}
    _, role_ids = assign_roles(specials, declared)
    role_keys = {key: role for key, role in CONFIG_ROLE_KEYS.items() if role in role_ids}
    with_role = {role_ids[role] for role in role_keys.values()}
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "clean_up_tokenization_spaces": False,
        "added_tokens_decoder": {str(token_id): {"content": text, "lstrip": False, "normalized": False,
                                                 "rstrip": False, "single_word": False, "special": True}
                                 for token_id, text in specials},
        **{key: text_of[role_ids[role]] for key, role in role_keys.items()},
        # the name transformers 4 and 5 both read; without it the others are missing from all_special_tokens
        "additional_special_tokens": [text for token_id, text in specials if token_id not in with_role],
        **{key: settings[key] for key in CARRIED_CONFIG_KEYS if key in settings},
    }
    return json.dumps(config, ensure_ascii=False, indent=2) + "\n"


def write_files(directory: str | Path, contents: dict[str, str | bytes], *, force: bool = False) -> dict[str, Path]:
    """Write the tokenizer folder ``directory`` holding each ``name -> text or bytes``, as a whole.

    The folder appears complete or not at all (:func:`tokensmith.io.atomic_folder`): an error or an
    interrupt leaves no partial folder, and ``force`` replaces an existing one (holding only
    :data:`TOKENIZER_FILES`) rather than mixing old and new files. A refusal leaves nothing behind.
    """
    with atomic_folder(directory, force=force, replaceable=TOKENIZER_FILES) as staging:
        for name, content in contents.items():
            (staging / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return {name: Path(directory) / name for name in contents}


def mergeable_ranks(trained: TrainedBPE) -> dict[bytes, int]:
    """Token bytes -> rank (= id) for every token that text can produce, in id order.

    Special tokens are left out unless text can also reach them (a special token that is a byte of
    the alphabet or the result of a merge, as HF allows).
    """
    reachable = set(range(len(trained.vocab))) - trained.special_ids
    reachable.update(new for _, _, new in trained.merge_ids)
    alphabet = unicode_to_byte()
    reachable.update(token_id for text, token_id in trained.special_tokens if len(text) == 1 and text in alphabet)
    ranks: dict[bytes, int] = {}
    for token_id in sorted(reachable):
        ranks.setdefault(_content(trained, token_id), token_id)
    return ranks


def tiktoken_encoding(trained: TrainedBPE, name: str = "tokensmith") -> tiktoken.Encoding:
    """A ``tiktoken.Encoding`` that encodes as the tokenizer.json does (ids are the same)."""
    import tiktoken

    return tiktoken.Encoding(
        name=name,
        pat_str=trained.pretokenizer.tiktoken_pattern,
        mergeable_ranks=mergeable_ranks(trained),
        special_tokens=dict(trained.special_tokens),
    )


def save_trained(trained: TrainedBPE, directory: str | Path, *, force: bool = False) -> dict[str, Path]:
    """Write the folder ``directory`` of tokenizer.json, tokenizer.tiktoken and tiktoken.json, as a whole
    (:func:`write_files`).

    The tiktoken files are left out when tiktoken would encode text differently from the tokenizer.json
    (:func:`tiktoken_encodes_alike`), e.g. for superword tokens that the merges do not rebuild from their
    own bytes, or when a special token is also an ordinary token (one byte-alphabet character); with split
    digits (no single regex) the ranks are written with a null ``pat_str`` when the merges rebuild every
    token (:func:`merges_rebuild_every_token`).
    """
    contents: dict[str, str | bytes] = {
        TOKENIZER_JSON: tokenizer_json(trained),
        TOKENIZER_CONFIG: tokenizer_config((token_id, text) for text, token_id in trained.special_tokens),
    }
    ranks = mergeable_ranks(trained)
    specials = dict(trained.special_tokens)
    pretokenizer = trained.pretokenizer
    if not set(specials.values()).isdisjoint(ranks.values()):
        # a special token spelled by one character of the byte alphabet (--special a) is also a rank: tiktoken
        # keeps the two apart (its loaders refuse the overlap, and its encode() refuses every "a" of the text)
        return write_files(directory, contents, force=force)
    if pretokenizer.isolate_digits:
        if not merges_rebuild_every_token(contents[TOKENIZER_JSON], ranks):
            return write_files(directory, contents, force=force)
        contents[TIKTOKEN_RANKS] = ranks_file(ranks)
        contents[TIKTOKEN_CONFIG] = tiktoken_config(None, specials)
    elif pretokenizer.has_tiktoken_form and tiktoken_encodes_alike(
            contents[TOKENIZER_JSON], pretokenizer.tiktoken_pattern, ranks, specials):
        contents[TIKTOKEN_RANKS] = ranks_file(ranks)
        contents[TIKTOKEN_CONFIG] = tiktoken_config(pretokenizer.tiktoken_pattern, specials)
    return write_files(directory, contents, force=force)


def tiktoken_encodes_alike(tokenizer_json_text: str, pat_str: str, ranks: dict[bytes, int],
                           special_tokens: dict[str, int]) -> bool:
    """Whether ``tiktoken.Encoding(pat_str, ranks, special_tokens)`` encodes as the tokenizer.json.

    tiktoken merges any two adjacent tokens whose bytes make a token, and takes a pre-token that is a
    token as it is; HF applies only the listed merges. They agree when the merges rebuild every token
    from its own bytes (always true of merges learnt on whole pre-tokens, not of superword tokens learnt
    on stage-1 pieces). Checked on every token, and on a many-script text for the regex engines.
    """
    import tiktoken
    from tokenizers import Tokenizer

    from tokensmith.train.pretokenize import REGEX_PROBE

    try:
        encoding = tiktoken.Encoding("check", pat_str=pat_str, mergeable_ranks=ranks, special_tokens=special_tokens)
    except ValueError:  # a regex tiktoken's engine does not compile
        return False
    if not merges_rebuild_every_token(tokenizer_json_text, ranks):
        return False
    reference = Tokenizer.from_str(tokenizer_json_text)
    return (encoding.encode(REGEX_PROBE, allowed_special="all")
            == reference.encode(REGEX_PROBE, add_special_tokens=False).ids)


def merges_rebuild_every_token(tokenizer_json_text: str, ranks: dict[bytes, int]) -> bool:
    """Whether the tokenizer.json's BPE model encodes the bytes of every ranked token as that one token
    (what tiktoken assumes of a pre-token that is a token: not so for superword tokens learnt on pieces)."""
    from tokenizers import Tokenizer

    tokenize = Tokenizer.from_str(tokenizer_json_text).model.tokenize
    return all(len(token) == 1 or [piece.id for piece in tokenize(bytes_to_byte_level(token))] == [rank]
               for token, rank in ranks.items())


def _content(trained: TrainedBPE, token_id: int) -> bytes:
    """The bytes text must contain to produce ``token_id`` (a special token in the byte alphabet
    stands for the bytes its characters map to)."""
    if token_id in trained.special_ids:
        return byte_level_to_bytes(trained.vocab[token_id].decode("utf-8"))
    return trained.vocab[token_id]


def _vocab_strings(trained: TrainedBPE) -> list[str]:
    """The tokenizer.json string of every id: the text of special tokens, GPT-2 byte characters else."""
    strings = [bytes_to_byte_level(token) for token in trained.vocab]
    for text, token_id in trained.special_tokens:
        strings[token_id] = text
    return strings


def _merge_pairs(trained: TrainedBPE) -> list[tuple[int, int]]:
    """Merge pairs in priority order; a pair learned twice keeps its last rank, as HF saves it."""
    last = {(left, right): rank for rank, (left, right, _) in enumerate(trained.merge_ids)}
    return [(left, right) for rank, (left, right, _) in enumerate(trained.merge_ids) if last[(left, right)] == rank]
