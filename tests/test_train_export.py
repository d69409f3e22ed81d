"""Export of a trained BPE: tokenizer.json for HF tokenizers / transformers, tiktoken ranks; exact round trips."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from tokensmith.errors import OutputExistsError
from tokensmith.train import BpeTrainer
from tokensmith.train.export import TIKTOKEN_CONFIG, TIKTOKEN_RANKS, TOKENIZER_JSON

tokenizers = pytest.importorskip("tokenizers")
tiktoken = pytest.importorskip("tiktoken")

TRAIN_FILES = ["mono/en.txt", "mono/de.txt", "domain/code_python.txt"]


def parallel_files(shared_data: Path) -> list[Path]:
    files = sorted((shared_data / "parallel").glob("*.txt"))
    assert len(files) >= 30, "expected the 31 line-aligned languages of shared/data/parallel"
    return files


@pytest.fixture(scope="module")
def train_lines(shared_data: Path) -> list[str]:
    lines: list[str] = []
    for name in TRAIN_FILES:
        lines += (shared_data / name).read_text(encoding="utf-8").splitlines()
    return lines


@pytest.fixture(scope="module", params=["cl100k", "gpt2", "o200k+digits", "custom"])
def saved(request, train_lines, tmp_path_factory) -> tuple[BpeTrainer, Path]:
    options = {
        "cl100k": {"pretokenizer": "cl100k"},
        "gpt2": {"pretokenizer": "gpt2", "special_tokens": ("<|endoftext|>", "<pad>")},
        "o200k+digits": {"pretokenizer": "o200k", "split_digits": True},
        "custom": {"regex": r"\p{L}+|\p{N}", "special_tokens": ()},
    }[request.param]
    config = BpeTrainer(vocab_size=3000, **options)
    out = tmp_path_factory.mktemp(request.param)
    config.train(train_lines).save(out)
    return config, out


def load_tiktoken(directory: Path) -> tiktoken.Encoding:
    """Build a tiktoken Encoding from the two exported files only."""
    from tiktoken.load import load_tiktoken_bpe

    config = json.loads((directory / TIKTOKEN_CONFIG).read_text(encoding="utf-8"))
    return tiktoken.Encoding(name="trained", pat_str=config["pat_str"],
                             mergeable_ranks=load_tiktoken_bpe(str(directory / config["ranks_file"])),
                             special_tokens=config["special_tokens"])


@pytest.mark.slow
def test_round_trip_and_pretokenization_on_every_parallel_language(saved, shared_data):
    config, directory = saved
    hf = tokenizers.Tokenizer.from_file(str(directory / TOKENIZER_JSON))
    ours = config.pretokenizer_object()
    tik = load_tiktoken(directory) if not ours.isolate_digits else None
    for path in parallel_files(shared_data):
        text = path.read_text(encoding="utf-8")
        # HF's pre-tokenizer (from the exported JSON) cuts exactly as training did.
        for line in text.splitlines()[::7]:
            hf_pieces = [line[start:end] for _, (start, end) in hf.pre_tokenizer.pre_tokenize_str(line)]
            assert hf_pieces == ours.split(line), f"{path.name}: pre-tokenization differs on {line[:60]!r}"
        ids = hf.encode(text).ids
        assert hf.decode(ids) == text, f"{path.name}: HF round trip is not exact"
        if tik is not None:
            assert tik.encode_ordinary(text) == ids, f"{path.name}: tiktoken and HF ids differ"
            assert tik.decode(ids) == text


def test_special_tokens_are_added_tokens(saved):
    config, directory = saved
    hf = tokenizers.Tokenizer.from_file(str(directory / TOKENIZER_JSON))
    for token_id, text in enumerate(config.special_tokens):
        assert hf.token_to_id(text) == token_id
        assert hf.encode(f"a{text}b").ids[1] == token_id
    if config.special_tokens and not config.pretokenizer_object().isolate_digits:
        tik = load_tiktoken(directory)
        text = config.special_tokens[0]
        assert tik.encode(text, allowed_special="all") == [0]


def test_identical_inputs_give_byte_identical_files(train_lines, tmp_path):
    lines = train_lines[:20000]
    first = BpeTrainer(vocab_size=2000, engine="serial").train(lines)
    second = BpeTrainer(vocab_size=2000, engine="local", workers=2).train(lines)
    first.save(tmp_path / "a")
    second.save(tmp_path / "b")
    for name in (TOKENIZER_JSON, TIKTOKEN_RANKS, TIKTOKEN_CONFIG):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_existing_output_is_refused_and_nothing_written(tmp_path):
    trained = BpeTrainer(vocab_size=300, min_frequency=1, engine="serial").train(["hello world"] * 5)
    (tmp_path / TIKTOKEN_RANKS).write_text("keep me")
    with pytest.raises(OutputExistsError):
        trained.save(tmp_path)
    assert not (tmp_path / TOKENIZER_JSON).exists()
    assert (tmp_path / TIKTOKEN_RANKS).read_text() == "keep me"
    trained.save(tmp_path, force=True)
    assert tokenizers.Tokenizer.from_file(str(tmp_path / TOKENIZER_JSON)).decode(
        tokenizers.Tokenizer.from_file(str(tmp_path / TOKENIZER_JSON)).encode("hello world").ids) == "hello world"


@pytest.mark.skipif(importlib.util.find_spec("transformers") is None,
                    reason="transformers is not installed (it needs torch, which this environment does not "
                           "install); the tokenizer.json is checked with `tokenizers` directly")
def test_loads_in_transformers_fast_tokenizer(saved, shared_data):
    from transformers import PreTrainedTokenizerFast

    _, directory = saved
    fast = PreTrainedTokenizerFast(tokenizer_file=str(directory / TOKENIZER_JSON))
    for path in parallel_files(shared_data)[:5]:
        text = path.read_text(encoding="utf-8")[:5000]
        assert fast.decode(fast.encode(text, add_special_tokens=False)) == text


def test_a_special_token_that_is_also_a_byte_leaves_out_the_tiktoken_files(tmp_path):
    """`--special a`: HF gives every "a" of the text the special token's id, which is the byte token's; the
    tiktoken files written with it were refused by every loader (ids collide) and tiktoken's encode() raised
    on each "a" (a disallowed special token)."""
    from tokensmith.tokenizers import load_tokenizer

    lines = ["banana bandana cabana", "ᎣᏏᏲ ᏩᏙ ᏣᎳᎩ a"] * 30
    trained = BpeTrainer(vocab_size=300, special_tokens=("a", "<|x|>"), engine="serial").train(lines)
    files = trained.save(tmp_path / "tok")
    assert set(files) == {"tokenizer.json", "tokenizer_config.json"}
    tokenizer = load_tokenizer(str(files["tokenizer.json"]))
    assert tokenizer.decode(tokenizer.encode("banana ᏣᎳᎩ")) == "banana ᏣᎳᎩ"
    plain = BpeTrainer(vocab_size=300, special_tokens=("<|x|>",), engine="serial").train(lines)
    assert set(plain.save(tmp_path / "plain")) == {"tokenizer.json", "tokenizer_config.json", "tokenizer.tiktoken",
                                                   "tiktoken.json"}


def test_auto_tokenizer_gets_the_roles_of_the_special_tokens_and_decodes_unchanged(tmp_path):
    """Without a tokenizer_config.json, AutoTokenizer loaded the folder with eos_token and pad_token None
    (padding and generation need them); decode must not clean up spaces (" ." would become ".")."""
    import transformers

    from tokensmith.tokenizers import load_tokenizer
    from tokensmith.train import ExtendTrainer

    lines = ["Merhaba dünya . Nasılsın ?", "ᎣᏏᏲ ᏩᏙ ᏣᎳᎩ , ok ."] * 30
    trained = BpeTrainer(vocab_size=300, special_tokens=("<|endoftext|>", "<pad>", "<|im_start|>"),
                         engine="serial").train(lines)
    extended = ExtendTrainer(base="gpt2", vocab_size=50_300).train(lines)
    text = "Merhaba dünya .  Nasılsın ?  ᏣᎳᎩ , ok .<|endoftext|>"
    for result, roles in ((trained, {"eos_token": "<|endoftext|>", "pad_token": "<pad>"}),
                          (extended, {"eos_token": "<|endoftext|>"})):
        folder = tmp_path / type(result).__name__
        result.save(folder)
        auto = transformers.AutoTokenizer.from_pretrained(str(folder))
        for key in ("bos_token", "eos_token", "unk_token", "pad_token"):
            assert getattr(auto, key) == roles.get(key), key
        ids = auto.encode(text, add_special_tokens=False)
        assert ids == load_tokenizer(str(folder / "tokenizer.json")).encode(text)
        assert auto.decode(ids) == text
        if result is trained:
            assert "<|im_start|>" in auto.all_special_tokens and auto.pad_token_id == 1


def test_extend_keeps_what_the_bases_folder_declares(tmp_path):
    """An extended tokenizer keeps its base's declared roles (DeepSeek's pad is its eos, which no text tells),
    chat template (in tokenizer_config.json or chat_template.jinja) and context length."""
    import transformers

    from tokensmith.tokenizers.references import REFERENCES
    from tokensmith.train import ExtendTrainer

    lines = ["Merhaba dünya, nasılsın?", "ᎣᏏᏲ ᏩᏙ ᏣᎳᎩ"] * 30
    base = tmp_path / "base"
    BpeTrainer(vocab_size=300, special_tokens=("<s>", "</s>", "<|turn|>"), engine="serial").train(lines).save(base)
    config = json.loads((base / "tokenizer_config.json").read_text(encoding="utf-8"))
    config.update(pad_token="</s>", model_max_length=4096)  # a role no text tells: pad is eos here
    (base / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    (base / "chat_template.jinja").write_text(
        "{% for m in messages %}<|turn|>{{ m['content'] }}</s>{% endfor %}", encoding="utf-8")
    out = tmp_path / "extended"
    ExtendTrainer(base=str(base), vocab_size=320).train(["Türkçe metin burada"] * 50).save(out)
    auto = transformers.AutoTokenizer.from_pretrained(str(out))
    assert (auto.bos_token, auto.eos_token, auto.pad_token, auto.model_max_length) == ("<s>", "</s>", "</s>", 4096)
    chat = auto.apply_chat_template([{"role": "user", "content": "selam"}], tokenize=False)
    assert chat == "<|turn|>selam</s>"
    if REFERENCES.get("deepseek-v4").locate() is not None:
        ExtendTrainer(base="deepseek-v4", vocab_size=129_300).train(lines).save(tmp_path / "ds")
        deepseek = transformers.AutoTokenizer.from_pretrained(str(tmp_path / "ds"))
        assert deepseek.pad_token == deepseek.eos_token == "<｜end▁of▁sentence｜>"
        assert deepseek.model_max_length == 1_048_576
