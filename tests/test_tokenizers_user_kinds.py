"""Tokenizer kinds users bring beyond the named references: HF tokenizer.json options and SentencePiece
trainer options, built in the test (hand-made vocabularies or the formats' own trainers on text written
here), checked against the reference library.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tokensmith.tokenizers import load_tokenizer

tokenizers = pytest.importorskip("tokenizers")


def _save(backend, path: Path) -> Path:
    backend.save(str(path))
    return path


def test_bpe_dropout_is_switched_off_so_measures_repeat(tmp_path):
    from tokenizers import models

    vocab = {"a": 0, "b": 1, "ab": 2, "abab": 3}
    # dropout 1.0 drops every merge: the file's own library encodes "abab" letter by letter
    backend = tokenizers.Tokenizer(models.BPE(vocab, [("a", "b"), ("ab", "ab")], dropout=1.0))
    assert backend.encode("abab").ids == [0, 1, 0, 1]
    tokenizer = load_tokenizer(_save(backend, tmp_path / "dropout.json"))
    assert tokenizer.encode("abab") == [3]  # the segmentation the model runs with
    assert tokenizer.encode_batch(["abab", "ab"]) == [[3], [2]]
    assert tokenizer.info.extra["dropout_ignored"] == 1.0


WORDS_TEXT = ["the cat sat on the mat", "a photographer photographs cats", "Über größere Straßen"] * 20


@pytest.mark.parametrize(
    ("pre_tokenizer", "markers"),
    [
        ("Whitespace", {"continuing_subword_prefix": "##"}),
        ("Whitespace", {"end_of_word_suffix": "</w>"}),
        ("ByteLevel", {"end_of_word_suffix": "</w>"}),  # CLIP's layout
    ],
)
def test_bpe_word_markers_are_not_token_bytes(tmp_path, pre_tokenizer, markers):
    from tokenizers import models, pre_tokenizers, trainers

    backend = tokenizers.Tokenizer(models.BPE(**markers))
    if pre_tokenizer == "ByteLevel":
        backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        alphabet = pre_tokenizers.ByteLevel.alphabet()
    else:
        backend.pre_tokenizer = pre_tokenizers.Whitespace()
        alphabet = []
    trainer = trainers.BpeTrainer(vocab_size=120, initial_alphabet=alphabet, show_progress=False, **markers)
    backend.train_from_iterator(WORDS_TEXT, trainer)
    tokenizer = load_tokenizer(_save(backend, tmp_path / "marked.json"))
    text = "the photographer sat"
    ids = tokenizer.encode(text)
    assert ids == backend.encode(text).ids
    expected = text if pre_tokenizer == "ByteLevel" else text.replace(" ", "")
    assert b"".join(tokenizer.token_bytes(i) for i in ids) == expected.encode()
    marker = next(iter(markers.values()))
    assert not any(marker.encode() in data for data in tokenizer.all_token_bytes if data != marker.encode())


def _train_sentencepiece(tmp_path: Path, name: str, **options) -> Path:
    import io

    sentencepiece = pytest.importorskip("sentencepiece")
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(WORDS_TEXT), model_writer=model, vocab_size=options.pop("vocab_size", 60),
        hard_vocab_limit=False, minloglevel=2, **options,
    )  # fmt: skip
    path = tmp_path / f"{name}.model"
    path.write_bytes(model.getvalue())
    return path


@pytest.mark.parametrize(("as_suffix", "dummy_prefix", "round_trips"),
                         [(False, True, True), (True, False, True), (True, True, False)])
def test_sentencepiece_lossless_flag_with_whitespace_as_suffix(tmp_path, as_suffix, dummy_prefix, round_trips):
    path = _train_sentencepiece(
        tmp_path, "suffix", model_type="bpe", vocab_size=300, byte_fallback=True, normalization_rule_name="identity",
        remove_extra_whitespaces=False, treat_whitespace_as_suffix=as_suffix, add_dummy_prefix=dummy_prefix,
    )  # fmt: skip
    tokenizer = load_tokenizer(path)
    text = "the cat sat"
    assert (tokenizer.decode(tokenizer.encode(text)) == text) is round_trips  # suffix + prefix: "the cat sat "
    assert tokenizer.info.extra["lossless_without_u2581"] is round_trips


def test_sentencepiece_user_defined_pieces_are_text(tmp_path):
    import sentencepiece

    path = _train_sentencepiece(tmp_path, "uds", model_type="unigram", user_defined_symbols=[",", "\u2581the"])
    processor = sentencepiece.SentencePieceProcessor(model_file=str(path))
    tokenizer = load_tokenizer(path)
    comma, the = processor.piece_to_id(","), processor.piece_to_id("\u2581the")
    assert processor.is_control(comma) is False and not processor.is_unknown(comma)
    text = "the cat, the mat"
    ids = tokenizer.encode(text)
    assert ids == processor.encode(text) and comma in ids and the in ids
    assert {comma, the}.isdisjoint(tokenizer.special_by_id)  # produced by ordinary text: not special
    assert tokenizer.token_bytes(the) == b" the"  # the piece's U+2581 is a space, as decode gives it
    assert b"".join(tokenizer.token_bytes(i) for i in ids) == b" " + text.encode()


def test_byte_level_bpe_trained_without_the_byte_alphabet(tmp_path):
    from tokenizers import decoders, models, pre_tokenizers, trainers

    backend = tokenizers.Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    backend.train_from_iterator(WORDS_TEXT[:1], trainers.BpeTrainer(vocab_size=40, show_progress=False))
    tokenizer = load_tokenizer(_save(backend, tmp_path / "no-alphabet.json"))  # fastokens refused it: traceback
    text = "the 日本 cat"
    assert tokenizer.encode(text) == backend.encode(text).ids
    assert tokenizer.decode(tokenizer.encode(text)) == "the  cat"  # the BPE drops what it has no byte for
    assert not tokenizer.info.lossless and tokenizer.info.backend == "tokenizers"
    missing = tokenizer.info.extra["missing_bytes"]
    assert "0xE6" in missing and "0x74" not in missing  # 日's first byte; "t" is in the vocabulary


def _byte_level_bpe(**pre_tokenizer_options):
    from tokenizers import decoders, models, pre_tokenizers, trainers

    backend = tokenizers.Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(**pre_tokenizer_options)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)  # fmt: skip
    backend.train_from_iterator(WORDS_TEXT, trainer)
    return backend


def _prefix_space(backend):
    backend.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=True)


def _lstrip_token(backend):
    backend.add_tokens([tokenizers.AddedToken("<tab>", lstrip=True)])


def _latin1_added_token(backend):
    backend.add_tokens([tokenizers.AddedToken("Würde", normalized=False)])


def _whitespace_split(backend):
    from tokenizers import pre_tokenizers

    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )


def _unicode_scripts(backend):
    from tokenizers import pre_tokenizers

    backend.pre_tokenizer = pre_tokenizers.Sequence(  # drops the whitespace a text starts with
        [pre_tokenizers.UnicodeScripts(), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
    )


def _char_delimiter_split(backend):
    from tokenizers import pre_tokenizers

    backend.pre_tokenizer = pre_tokenizers.Sequence(  # drops the delimiter
        [pre_tokenizers.CharDelimiterSplit("-"), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
    )


@pytest.mark.parametrize(
    ("change", "text"),
    [
        (_prefix_space, "cat"),
        (_lstrip_token, "a <tab>"),
        (_latin1_added_token, "Würde"),
        (_whitespace_split, "the  cat"),
        (_unicode_scripts, "  the cat"),
        (_char_delimiter_split, "well-known"),
    ],
)
def test_lossless_only_where_decode_gives_the_text_back(tmp_path, change, text):
    backend = _byte_level_bpe(add_prefix_space=False)
    assert load_tokenizer(_save(backend, tmp_path / "plain.json")).info.lossless
    change(backend)
    tokenizer = load_tokenizer(_save(backend, tmp_path / "changed.json"))
    assert tokenizer.decode(tokenizer.encode(text)) != text
    assert not tokenizer.info.lossless and not tokenizer.exact_spans


def test_model_without_type_is_read_as_the_library_reads_it(tmp_path):
    import json

    from tokenizers import decoders, models, pre_tokenizers

    vocab = {"[UNK]": 0, "cat": 1, "##s": 2, "sat": 3}
    backend = tokenizers.Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.decoder = decoders.WordPiece()
    config = json.loads(backend.to_str())
    del config["model"]["type"]  # older files: tokenizers tells the model by its fields
    path = tmp_path / "untyped.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    assert tokenizers.Tokenizer.from_file(str(path)).encode("cats sat").ids == [1, 2, 3]
    tokenizer = load_tokenizer(path)
    assert tokenizer.info.model == "wordpiece"
    assert tokenizer.encode("cats sat") == [1, 2, 3] and tokenizer.token_bytes(2) == b"s"


@pytest.mark.parametrize(
    ("files", "found", "fast_class"),
    [
        ({"vocab.txt": "[UNK]\ncat\n"}, "(vocab.txt)", "BertTokenizerFast"),
        (
            {"vocab.json": '{"a": 0}', "merges.txt": "#version: 0.2\n"},
            "(vocab.json and merges.txt)",
            "GPT2TokenizerFast",
        ),
        ({"spiece.model": "x"}, "(spiece.model)", "T5TokenizerFast"),
        ({"spiece.model": "x", "tokenizer_config.json": '{"tokenizer_class": "AlbertTokenizer"}'}, "(spiece.model)",
         "AlbertTokenizerFast"),
        ({"sentencepiece.bpe.model": "x"}, "(sentencepiece.bpe.model)", "XLMRobertaTokenizerFast"),
    ],
)
def test_slow_tokenizer_folder_says_how_to_write_tokenizer_json(tmp_path, files, found, fast_class):
    from tokensmith.errors import TokenizerFormatError

    for name, content in files.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(TokenizerFormatError) as error:
        load_tokenizer(tmp_path)
    assert found in str(error.value) and "no tokenizer.json" in str(error.value)
    assert f"{fast_class}.from_pretrained" in error.value.hint and str(tmp_path) in error.value.hint


def test_byte_fallback_without_byte_tokens_is_not_byte_level(tmp_path):
    from tokenizers import models

    # transformers' Llama converter sets byte_fallback on SentencePiece models trained without byte pieces
    vocab = {"<unk>": 0, "▁": 1, "h": 2, "i": 3, "▁h": 4, "▁hi": 5}
    backend = tokenizers.Tokenizer(models.BPE(vocab, [("▁", "h"), ("▁h", "i")], unk_token="<unk>", byte_fallback=True))
    backend.normalizer = tokenizers.normalizers.Replace(" ", "▁")
    tokenizer = load_tokenizer(_save(backend, tmp_path / "no-byte-pieces.json"))
    assert tokenizer.encode(" hi é") == backend.encode(" hi é").ids == [5, 1, 0]  # é has no bytes to fall back on
    assert not tokenizer.info.byte_level and tokenizer.byte_fallback_ids == frozenset()


def test_sentencepiece_style_bpe_with_a_replace_decoder_and_no_byte_fallback(tmp_path):
    from tokenizers import decoders, models, normalizers

    vocab = {"<unk>": 0, "▁": 1, "h": 2, "i": 3, "▁h": 4, "▁hi": 5}
    backend = tokenizers.Tokenizer(models.BPE(vocab, [("▁", "h"), ("▁h", "i")], unk_token="<unk>"))
    backend.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    backend.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    tokenizer = load_tokenizer(_save(backend, tmp_path / "replace-decoder.json"))
    ids = tokenizer.encode("hi hi")
    assert ids == [5, 5] and tokenizer.decode(ids) == "hi hi"
    assert [tokenizer.token_bytes(i) for i in ids] == [b" hi", b" hi"]  # the decoder's "▁" -> " ", not U+2581


def test_tokens_only_in_the_configs_are_added_as_transformers_adds_them(tmp_path):
    import json

    backend = _byte_level_bpe(add_prefix_space=False)
    backend.save(str(tmp_path / "tokenizer.json"))
    size = backend.get_vocab_size()
    entry = {"lstrip": False, "rstrip": False, "normalized": False, "single_word": False}
    added = {  # ids as a config may give them: transformers appends each at the next free id anyway
        str(size + 5): {"content": "<|im_start|>", "special": True, **entry},
        str(size + 9): {"content": "Würde", "special": False, **entry},
    }
    config = {"added_tokens_decoder": added, "pad_token": "<pad>", "eos_token": "<|im_end|>",
              "additional_special_tokens": ["<tool>"]}  # fmt: skip
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
    tokenizer = load_tokenizer(tmp_path)
    # transformers' order: added_tokens_decoder by id, then roles (bos, eos, unk, sep, pad...), then the rest
    expected = {"<|im_start|>": size, "Würde": size + 1, "<|im_end|>": size + 2, "<pad>": size + 3, "<tool>": size + 4}
    assert tokenizer.vocab_size == size + 5
    assert {text: tokenizer.backend_tokenizer.token_to_id(text) for text in expected} == expected
    assert tokenizer.special_id("eos") == size + 2 and tokenizer.special_id("pad") == size + 3
    assert tokenizer.special_by_id[size].role == "chat" and size + 1 not in tokenizer.special_by_id
    text = "the <|im_start|>Würde cat<|im_end|><pad>"
    ids = tokenizer.encode(text)
    assert b"".join(tokenizer.token_bytes(i) for i in ids) == text.encode()
    if importlib.util.find_spec("transformers") is not None:
        from transformers import AutoTokenizer

        reference = AutoTokenizer.from_pretrained(str(tmp_path))
        assert len(reference) == tokenizer.vocab_size
        assert ids == reference.encode(text, add_special_tokens=False)


def test_metaspace_with_its_own_replacement_character(tmp_path):
    from tokenizers import decoders, models, pre_tokenizers

    backend = tokenizers.Tokenizer(models.Unigram([("<unk>", 0.0), ("_hello", -1.0), ("_", -2.0), ("h", -3.0)], 0))
    backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="_")
    backend.decoder = decoders.Metaspace(replacement="_")
    tokenizer = load_tokenizer(_save(backend, tmp_path / "underscore.json"))
    ids = tokenizer.encode("hello h")
    assert ids == backend.encode("hello h").ids and tokenizer.decode(ids) == "hello h"
    assert [tokenizer.token_bytes(i) for i in ids] == [b" hello", b" ", b"h"]  # "_" stands for a space here
