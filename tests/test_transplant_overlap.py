"""Shared tokens on canonical bytes and special tokens by role, on real reference tokenizers."""

from __future__ import annotations

import numpy as np
import pytest

from tokensmith.tokenizers import load_tokenizer
from tokensmith.transplant.overlap import BYTES, SPECIAL_ROLE, SPECIAL_TEXT, build_mapping


@pytest.fixture(scope="module")
def smollm2():
    return load_tokenizer("smollm2")


@pytest.fixture(scope="module")
def mistral_sp():
    return load_tokenizer("mistral-v3-sp")


def test_identity_mapping_on_a_byte_level_vocabulary(smollm2):
    mapping = build_mapping(smollm2, smollm2)
    assert mapping.is_identity
    assert len(mapping.target_ids) == 0


def test_identity_mapping_keeps_duplicate_byte_forms_apart(mistral_sp):
    # SentencePiece spells a space both as "▁" and as the byte-fallback "<0x20>": each keeps its own row.
    duplicates = [i for i in range(mistral_sp.vocab_size) if mistral_sp.token_bytes(i) == b" "]
    assert len(duplicates) == 2
    assert build_mapping(mistral_sp, mistral_sp).is_identity


def test_every_copied_row_has_the_same_bytes(smollm2, mistral_sp):
    mapping = build_mapping(smollm2, mistral_sp)
    for new_id in np.flatnonzero(mapping.match_kind == BYTES):
        assert mistral_sp.token_bytes(int(new_id)) == smollm2.token_bytes(int(mapping.source_ids[new_id]))


def test_metaspace_and_byte_level_forms_meet(smollm2, mistral_sp):
    # "▁the" (SentencePiece) and "Ġthe" (GPT-2 byte level) are both b" the"; "<0x0A>" and "Ċ" are b"\n".
    mapping = build_mapping(smollm2, mistral_sp)
    for text in (" the", " cat"):
        (new_id,) = [i for i in mistral_sp.encode(text) if mistral_sp.token_bytes(i) == text.encode()]
        (old_id,) = smollm2.encode(text)
        assert mapping.source_ids[new_id] == old_id
    newline_fallback = next(i for i in mistral_sp.byte_fallback_ids if mistral_sp.token_bytes(i) == b"\n")
    assert mapping.source_ids[newline_fallback] == smollm2.encode("\n")[0]
    # Naive string comparison would find almost nothing between the two vocabularies; bytes find thousands.
    assert mapping.counts()["bytes"] > 10_000


def test_special_tokens_match_by_role_when_texts_differ(smollm2, mistral_sp):
    mapping = build_mapping(smollm2, mistral_sp)
    for role in ("bos", "eos", "unk"):
        new_id, old_id = mapping.roles[role]
        assert new_id == mistral_sp.special_id(role) and old_id == smollm2.special_id(role)
        assert mapping.source_ids[new_id] == old_id
        assert mapping.match_kind[new_id] == SPECIAL_ROLE
    # Chat markers of the new vocabulary with no counterpart are left to the init method, never guessed.
    inst = next(s.id for s in mistral_sp.special_tokens if s.text == "[INST]")
    assert mapping.source_ids[inst] == -1


def test_special_tokens_match_by_text_first(tmp_path, smollm2):
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    from tokensmith.tokenizers.hf_json import from_backend_tokenizer

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    backend.add_tokens(["a", "b"])
    backend.add_special_tokens([AddedToken(t, special=True) for t in ("<|im_end|>", "<|endoftext|>", "<|im_start|>")])
    new = from_backend_tokenizer(backend, name="tiny", fmt="hf-json")
    mapping = build_mapping(smollm2, new)
    for text in ("<|im_end|>", "<|endoftext|>", "<|im_start|>"):
        new_id = new.encode(text)[0]
        assert mapping.match_kind[new_id] == SPECIAL_TEXT
        assert smollm2.special_by_id[int(mapping.source_ids[new_id])].text == text


def test_old_ids_beyond_the_embedding_rows_are_never_sources(smollm2):
    mapping = build_mapping(smollm2, smollm2, old_rows=1000)
    copied = mapping.source_ids[mapping.source_ids >= 0]
    assert copied.max() < 1000
    assert len(mapping.target_ids) > 40_000
