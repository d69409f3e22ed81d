"""A SentencePiece-style BPE tokenizer.json (byte fallback) built from a reference, and text in a script it
spells only with byte-fallback tokens: the base that extend must teach a new script."""

from __future__ import annotations

from pathlib import Path

import pytest

#: Cherokee words (hello, thanks, peace, Cherokee, language, people, small, big, wood, water, stone, bird, dog,
#: cat): a script the Mistral v3 SentencePiece vocabulary spells only with byte-fallback tokens.
CHEROKEE_WORDS = ["ᎣᏏᏲ", "ᏩᏙ", "ᏙᎯ", "ᏣᎳᎩ", "ᎦᏬᏂᎯᏍᏗ", "ᎠᏂᏴᏫᏯ", "ᎤᏍᏗ", "ᎤᏔᏅ", "ᎠᏓ", "ᎠᎹ", "ᏅᏯ", "ᏥᏍᏆ", "ᎩᏟ", "ᏪᏌ"]


def sentencepiece_style_json(path: Path) -> Path:
    """The Mistral v3 SentencePiece BPE as a tokenizer.json (byte fallback, "▁" for spaces), as transformers
    converts a Llama-style tokenizer, written to ``path``."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers

    from tokensmith.tokenizers.references import REFERENCES

    pytest.importorskip("sentencepiece")
    extractor = pytest.importorskip("transformers.convert_slow_tokenizer").SentencePieceExtractor
    model_file = REFERENCES.get("mistral-v3-sp").locate()
    if model_file is None:
        pytest.skip("mistral-common (the mistral-v3-sp reference) is not installed")
    converted = extractor(str(model_file)).extract(models.BPE)
    base = Tokenizer(models.BPE(vocab=converted["vocab"], merges=converted["merges"], unk_token="<unk>",
                                byte_fallback=True, fuse_unk=True))
    base.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    base.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                      decoders.Strip(" ", 1, 0)])
    base.add_special_tokens([AddedToken(text, special=True) for text in ("<unk>", "<s>", "</s>")])
    base.save(str(path))
    return path
