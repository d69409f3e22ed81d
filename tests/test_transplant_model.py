"""Transplants on real models: SmolLM2-135M (GGUF, tied) and a tiny untied Llama written to safetensors.

Needs the ``models`` extra (torch, transformers); the SmolLM2 tests load the model once per module.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from test_transplant_methods import train_bpe  # noqa: E402

from tokensmith.errors import InputError, OutputExistsError, TokensmithError  # noqa: E402
from tokensmith.tokenizers import load_tokenizer  # noqa: E402
from tokensmith.transplant.apply import save_model_dir, transplant  # noqa: E402
from tokensmith.transplant.bpb import bits_per_byte, take_bytes, windows  # noqa: E402
from tokensmith.transplant.models import load_model  # noqa: E402


@pytest.fixture(scope="module")
def smollm2():
    return load_model("smollm2-135m")


@pytest.fixture(scope="module")
def turkish(shared_data):
    """Turkish BPE (8,000 tokens, HF BpeTrainer) trained on tr.txt minus its last 400 lines, and those lines."""
    lines = (shared_data / "mono" / "tr.txt").read_text(encoding="utf-8").splitlines()
    return train_bpe(lines[:-400], 8000), "\n".join(lines[-400:])


def _logits(model, ids):
    with torch.inference_mode():
        return model.model(input_ids=torch.tensor([ids])).logits[0]


# -- SmolLM2 (GGUF, tied) ---------------------------------------------------------------------------
def test_reference_model_is_a_tied_llama(smollm2):
    assert smollm2.model_type == "llama" and smollm2.tied
    assert smollm2.embedding_rows == smollm2.tokenizer.vocab_size == 49152
    assert "quantization_config" not in smollm2.model.config.to_dict()


def test_identity_transplant_reproduces_logits_exactly(smollm2):
    tokenizer = smollm2.tokenizer
    result = transplant(smollm2, tokenizer, "random")
    assert result.mapping.is_identity and result.report.copied == 49152 and result.report.fallback == 0
    assert torch.equal(result.model.model.get_input_embeddings().weight, smollm2.model.get_input_embeddings().weight)
    ids = tokenizer.encode("The quick brown fox jumps over the lazy dog. Merhaba dünya! 12345")
    assert torch.equal(_logits(result.model, ids), _logits(smollm2, ids))


@pytest.mark.shared
def test_fvt_transplant_copies_shared_rows_and_stays_tied(smollm2, turkish):
    new_tokenizer, _ = turkish
    result = transplant(smollm2, new_tokenizer, "fvt")
    model = result.model.model
    embed, head = model.get_input_embeddings().weight, model.get_output_embeddings().weight
    assert embed.data_ptr() == head.data_ptr()
    # The chat template's markers were added to the new vocabulary and copied by text.
    assert result.report.added_chat_markers == ["<|im_start|>", "<|im_end|>"]
    assert embed.shape == (8002, 576) and model.config.vocab_size == 8002
    old = smollm2.model.get_input_embeddings().weight
    copied = result.mapping.copied_ids
    assert torch.equal(embed[copied], old[result.mapping.source_ids[copied]])  # byte-identical rows
    assert result.report.copied + result.report.approximated + result.report.fallback == 8002
    assert result.report.approximated > 6000
    # The original model is not modified.
    assert smollm2.model.get_input_embeddings().weight.shape[0] == 49152


@pytest.mark.shared
def test_saved_directory_loads_offline_with_transformers(smollm2, turkish, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    new_tokenizer, held_out = turkish
    result = transplant(smollm2, new_tokenizer, "fvt")
    out = save_model_dir(result.model, tmp_path / "smollm2-tr")
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= names
    assert not any(n.endswith(".bin") for n in names)
    config = json.loads((out / "config.json").read_text())
    assert config["vocab_size"] == 8002
    reloaded = AutoModelForCausalLM.from_pretrained(out, local_files_only=True)
    hf_tokenizer = AutoTokenizer.from_pretrained(out, local_files_only=True)
    text = held_out[:300]
    ids = result.tokenizer.encode(text)
    assert hf_tokenizer(text, add_special_tokens=False)["input_ids"] == ids
    with torch.inference_mode():
        assert torch.equal(reloaded(input_ids=torch.tensor([ids])).logits[0], _logits(result.model, ids))
    # The chat template is kept, and its markers are single control tokens of the new vocabulary.
    chat = hf_tokenizer.apply_chat_template([{"role": "user", "content": "Merhaba"}], tokenize=False)
    assert chat.startswith("<|im_start|>system")
    marker = hf_tokenizer.convert_tokens_to_ids("<|im_start|>")
    assert hf_tokenizer(chat, add_special_tokens=False)["input_ids"][0] == marker
    assert config["eos_token_id"] == hf_tokenizer.convert_tokens_to_ids("<|im_end|>")


def test_save_refuses_an_existing_directory_and_leaves_nothing_behind(smollm2, tmp_path):
    out = tmp_path / "taken"
    out.mkdir()
    result = transplant(smollm2, smollm2.tokenizer, "mean")
    with pytest.raises(OutputExistsError):
        save_model_dir(result.model, out)
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]


@pytest.mark.shared
def test_bpb_of_smollm2_on_english_is_plausible(smollm2, shared_data):
    text = (shared_data / "mono" / "en.txt").read_text(encoding="utf-8")
    documents = take_bytes([text[len(text) // 2 :]], 3000)
    result = bits_per_byte(smollm2, smollm2.tokenizer, documents)
    assert result.bytes == 3000 or 2996 <= result.bytes <= 3000
    assert math.isfinite(result.bits_per_byte) and 0.3 < result.bits_per_byte < 1.6
    assert 0.15 < result.tokens_per_byte < 0.4


def test_bpb_equals_one_forward_pass_when_the_document_fits(smollm2):
    tokenizer = smollm2.tokenizer
    text = "Bits per byte are comparable across tokenizers; per-token perplexity is not."
    result = bits_per_byte(smollm2, tokenizer, [text])
    ids = [tokenizer.special_id("bos"), *tokenizer.encode(text)]
    logprobs = torch.log_softmax(_logits(smollm2, ids).double(), dim=-1)
    nll = -sum(logprobs[i, ids[i + 1]].item() for i in range(len(ids) - 1))
    assert result.nll_nats == pytest.approx(nll, rel=1e-9)
    assert result.bits_per_byte == pytest.approx(nll / (math.log(2) * len(text.encode())), rel=1e-9)
    # Shorter windows score the same tokens with less context: same count, different sum.
    short = bits_per_byte(smollm2, tokenizer, [text], window=4, stride=2)
    assert short.tokens == result.tokens and short.nll_nats != result.nll_nats


def test_bpb_refuses_a_tokenizer_that_does_not_belong_to_the_model(smollm2):
    with pytest.raises(InputError, match="does not belong"):
        bits_per_byte(smollm2, load_tokenizer("gpt2"), ["hello"])


@pytest.mark.parametrize(("length", "window", "stride"), [(1, 4, 4), (2, 4, 4), (10, 4, 4), (10, 4, 1), (9, 5, 3)])
def test_windows_score_every_position_once_within_the_window(length, window, stride):
    spans = windows(length, window, stride)
    scored = [p for _, start, end in spans for p in range(start, end)]
    assert scored == list(range(1, length))
    for input_start, start, end in spans:
        assert end - 1 - input_start <= window and input_start <= start - 1


@pytest.mark.slow
@pytest.mark.shared
def test_fvt_beats_mean_and_random_on_held_out_turkish(smollm2, turkish):
    new_tokenizer, held_out = turkish
    documents = take_bytes([held_out], 4000)
    original = bits_per_byte(smollm2, smollm2.tokenizer, documents).bits_per_byte
    scores = {}
    for method in ("mean", "random", "fvt"):
        result = transplant(smollm2, new_tokenizer, method)
        scores[method] = bits_per_byte(result.model, result.tokenizer, documents).bits_per_byte
    assert scores["fvt"] < 0.85 * scores["mean"] and scores["fvt"] < 0.7 * scores["random"]
    assert scores["fvt"] / original < 1.3  # measured ~1.11 on 10 KB: most of the model's Turkish is kept


# -- a tiny untied Llama in a transformers directory -------------------------------------------------
@pytest.fixture(scope="module")
def tiny_untied_dir(tmp_path_factory):
    from transformers import LlamaConfig, LlamaForCausalLM

    smollm2_tokenizer = load_tokenizer("smollm2")
    folder = tmp_path_factory.mktemp("tiny-llama")
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=smollm2_tokenizer.vocab_size, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=64, tie_word_embeddings=False,
        bos_token_id=1, eos_token_id=2,
    )  # fmt: skip
    LlamaForCausalLM(config).save_pretrained(folder)
    backend = getattr(smollm2_tokenizer, "backend_tokenizer", None) or smollm2_tokenizer._backend
    (folder / "tokenizer.json").write_text(backend.to_str(), encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "chat_template": "{{ messages }}"})
    )
    return folder


def test_untied_model_keeps_separate_input_and_output_rows(tiny_untied_dir):
    loaded = load_model(tiny_untied_dir)
    assert not loaded.tied and loaded.format == "hf-dir"
    new_tokenizer = load_tokenizer("gpt2")  # byte-level, mostly the same bytes as SmolLM2's vocabulary
    result = transplant(loaded, new_tokenizer, "fvt")
    model = result.model.model
    embed, head = model.get_input_embeddings().weight, model.get_output_embeddings().weight
    assert embed.data_ptr() != head.data_ptr()
    copied = result.mapping.copied_ids
    old_embed = loaded.model.get_input_embeddings().weight
    old_head = loaded.model.get_output_embeddings().weight
    assert torch.equal(embed[copied], old_embed[result.mapping.source_ids[copied]])
    assert torch.equal(head[copied], old_head[result.mapping.source_ids[copied]])
    # FVT rows are the same weights applied to each matrix.
    target = int(result.mapping.target_ids[result.report.approximated // 2])
    pieces = loaded.tokenizer.encode(new_tokenizer.token_bytes(target).decode("utf-8", "replace"))
    if b"".join(loaded.tokenizer.token_bytes(i) for i in pieces) == new_tokenizer.token_bytes(target):
        torch.testing.assert_close(head[target], old_head[pieces].mean(dim=0))


def test_unsupported_architecture_and_pickle_weights_are_refused(tmp_path):
    bert = tmp_path / "bert"
    bert.mkdir()
    (bert / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(TokensmithError, match="architecture 'bert' is not supported"):
        load_model(bert)
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    (pickled / "config.json").write_text(json.dumps({"model_type": "llama"}))
    (pickled / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(InputError, match="only pickle weights"):
        load_model(pickled)
    with pytest.raises(InputError, match="neither a file, a directory nor a named reference"):
        load_model("no-such-model")


def test_commands_write_results(tiny_untied_dir, tmp_path):
    from tokensmith.results import read_results
    from tokensmith.transplant.commands import run_bpb, run_transplant

    corpus = tmp_path / "eval.txt"
    corpus.write_text("Hello world, this is a short held-out text.\nAnd a second line.\n", encoding="utf-8")
    run_bpb(str(tiny_untied_dir), None, corpus, out=tmp_path / "bpb.json", quiet=True)
    bpb = read_results(tmp_path / "bpb.json")["sections"]["bpb"]
    assert bpb["bytes"] == len(corpus.read_bytes()) and math.isfinite(bpb["bpb"])

    section = run_transplant(str(tiny_untied_dir), "gpt2", "fvt", tmp_path / "out", eval_path=corpus, quiet=True)
    (row,) = read_results(tmp_path / "out" / "results.json")["sections"]["transplant"]["rows"]
    assert row == section["rows"][0]
    assert set(row) >= {"method", "bpb", "bpb_original", "ratio", "tokens_per_byte", "copied", "approximated",
                        "fallback"}  # fmt: skip
    assert row["ratio"] == pytest.approx(row["bpb"] / row["bpb_original"])
    assert row["copied"] + row["approximated"] + row["fallback"] == 50257
    with pytest.raises(OutputExistsError):
        run_transplant(str(tiny_untied_dir), "gpt2", "fvt", tmp_path / "out", quiet=True)


def test_non_utf8_corpus_is_refused_before_the_model_loads(tmp_path):
    from tokensmith.errors import CorpusError
    from tokensmith.transplant.commands import run_bpb

    corpus = tmp_path / "latin1.txt"
    corpus.write_bytes("café\n".encode("latin-1"))
    with pytest.raises(CorpusError):
        run_bpb("no-such-model", None, corpus, quiet=True)


def test_loaded_numbers_are_float32(smollm2):
    assert smollm2.model.get_input_embeddings().weight.dtype == torch.float32
    assert np.isfinite(smollm2.model.get_input_embeddings().weight.detach().numpy()).all()


def test_compare_runs_every_method_and_skips_those_missing_a_resource(tiny_untied_dir, tmp_path):
    from tokensmith.transplant.commands import run_compare

    corpus = tmp_path / "eval.txt"
    corpus.write_text("A held-out line of English text.\n", encoding="utf-8")
    section = run_compare(str(tiny_untied_dir), "gpt2", corpus, methods=["mean", "fvt", "omp"], quiet=True)
    assert [row["method"] for row in section["rows"]] == ["mean", "fvt"]
    assert "donor" in section["skipped"]["omp"]


def test_omp_without_donor_fails_before_any_work(tmp_path):
    from tokensmith.transplant.commands import run_transplant

    with pytest.raises(TokensmithError, match="needs a donor"):
        run_transplant("no-such-model", "gpt2", "omp", tmp_path / "out", quiet=True)
    assert not (tmp_path / "out").exists()


def test_saving_twice_gives_identical_files(tiny_untied_dir, tmp_path):
    loaded = load_model(tiny_untied_dir)
    for name in ("a", "b"):
        save_model_dir(transplant(loaded, load_tokenizer("gpt2"), "random", seed=3).model, tmp_path / name)
    for file in ("model.safetensors", "tokenizer.json", "tokenizer_config.json", "config.json"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


def _german_jsonl(tmp_path) -> tuple[Path, str]:
    text = "Grüße aus Köln: Straßenbahn, Fähre und Brücke."
    corpus = tmp_path / "de.jsonl"
    corpus.write_text(json.dumps({"id": 1, "inhalt": text}) + "\n", encoding="utf-8")
    return corpus, text


@pytest.mark.parametrize("command", [["bpb"], ["transplant", "--method", "mean"]])
def test_the_scoring_commands_read_a_jsonl_corpus_by_its_field(tiny_untied_dir, tmp_path, command, capsys):
    # bpb, ensemble and transplant took no --field, --column or --errors: a JSONL corpus whose text is in
    # another field than "text" could not be scored at all.
    from tokensmith.cli import main
    from tokensmith.results import read_results

    corpus, text = _german_jsonl(tmp_path)
    model, out = str(tiny_untied_dir), tmp_path / "results.json"
    argv = {"bpb": [*command, "-m", model, "-c", str(corpus), "-o", str(out)],
            "transplant": [*command, "-m", model, "-t", "gpt2", "--eval", str(corpus), "--results", str(out),
                           "--out", str(tmp_path / "moved")]}[command[0]]
    assert main([*argv, "-q"]) == 2 and "no field 'text' (fields: id, inhalt)" in capsys.readouterr().err
    assert main([*argv, "--field", "inhalt", "-q"]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out == ""  # -q: no table (it was printed all the same)
    section = next(iter(read_results(out)["sections"].values()))
    assert section["corpus"]["bytes"] == len(text.encode("utf-8")) and section["corpus"]["field"] == "inhalt"


@pytest.mark.parametrize("command", [["bpb", "--byte-level"], ["ensemble", "-m", "no-such-model"]])
def test_the_byte_level_commands_read_a_jsonl_corpus_by_its_field(tmp_path, command, capsys):
    # (their scoring is slow even on a tiny model: the corpus is read before the model is looked up, so a
    # missing model, named in the error, shows the corpus was read)
    from tokensmith.cli import main

    corpus, _ = _german_jsonl(tmp_path)
    argv = [*command, "-m", "no-such-model", "-c", str(corpus), "-q"]
    assert main(argv) == 2 and "no field 'text' (fields: id, inhalt)" in capsys.readouterr().err
    assert main([*argv, "--field", "inhalt"]) == 2
    assert "model 'no-such-model' is neither a file, a directory nor a named reference" in capsys.readouterr().err


def test_bpb_warns_of_bytes_read_as_replacement_characters_and_records_them(tiny_untied_dir, tmp_path, capsys):
    # measure, train and mixture warned of bytes --errors replace read as U+FFFD; bpb, ensemble and transplant
    # scored such text without a word, and their results did not record it.
    from tokensmith.cli import main
    from tokensmith.results import read_results

    corpus, out = tmp_path / "latin1.txt", tmp_path / "results.json"
    corpus.write_bytes("Grüße aus Köln.\n".encode() + "Stra\xdfe und Br\xfccke.\n".encode("latin-1"))
    assert main(["bpb", "-m", str(tiny_untied_dir), "-c", str(corpus), "-o", str(out), "--errors", "replace",
                 "-q"]) == 0
    err = capsys.readouterr().err
    assert "2 invalid UTF-8 byte sequences read as U+FFFD (--errors replace" in err and "latin1.txt" in err
    section = next(iter(read_results(out)["sections"].values()))
    assert section["corpus"]["replaced_byte_sequences"] == 2


def test_quiet_model_commands_print_nothing_on_success(tiny_untied_dir, tmp_path, capsys):
    """--quiet promises nothing on stdout when a command works (the results are in the files written);
    bpb, bpb --byte-level, transplant (and --compare) and ensemble printed their tables anyway."""
    from tokensmith.cli import main

    corpus = tmp_path / "km.txt"  # Khmer and Sinhala, written for this test
    corpus.write_text("ភាសាខ្មែរ\nසිංහල භාෂාව\n", encoding="utf-8")
    model = str(tiny_untied_dir)
    runs = [
        ["bpb", "-m", model, "-c", str(corpus), "-o", str(tmp_path / "bpb.json")],
        ["bpb", "-m", model, "-c", str(corpus), "--byte-level", "-o", str(tmp_path / "bytes.json")],
        ["transplant", "-m", model, "-t", "gpt2", "--method", "mean", "-o", str(tmp_path / "moved"), "--eval",
         str(corpus)],
        ["ensemble", "-m", model, "-m", model, "-c", str(corpus), "-o", str(tmp_path / "ensemble.json")],
    ]
    for args in runs:
        assert main([*args, "-q"]) == 0, capsys.readouterr().err
        assert capsys.readouterr().out == "", args[0]
    from tokensmith.transplant.commands import run_compare  # the CLI's --compare runs every method: too slow here

    run_compare(model, "gpt2", corpus, ["mean", "omp"], tmp_path / "compare.json", quiet=True)  # omp: skipped
    assert capsys.readouterr().out == ""


def test_report_reads_the_transplant_section_the_command_writes(tiny_untied_dir, tmp_path):
    """The report read a generated shape (model and tokenizer names, an 'original' row, 'ratio_to_original'):
    on what `transplant` and `adapt` write it showed the model and tokenizer records as Python dicts, no
    ratio, no original bits per byte and no evaluation text."""
    from tokensmith.report.render import render_report
    from tokensmith.report.svg import format_number
    from tokensmith.results import read_results
    from tokensmith.transplant.commands import run_transplant

    corpus = tmp_path / "si.txt"  # Sinhala, written for this test
    corpus.write_text("සිංහල භාෂාව ශ්‍රී ලංකාවේ නිල භාෂාවකි.\n", encoding="utf-8")
    section = run_transplant(str(tiny_untied_dir), "gpt2", "mean", tmp_path / "moved", eval_path=corpus, quiet=True)
    (row,) = section["rows"]
    page = render_report([read_results(tmp_path / "moved" / "results.json")], sources=["results.json"])
    start = page.index('<section id="transplant">')
    shown = page[start : page.index("</section>", start)]
    assert "{&#x27;" not in shown
    assert f"<td>{section['model']['name']}</td><td>gpt2</td><td>mean</td>" in shown
    assert f">{format_number(row['ratio'])}</td>" in shown
    assert f"<td>original</td><td class=\"num\">{format_number(row['bpb_original'])}</td>" in shown
    assert "<td>si.txt</td>" in shown


def test_the_report_renders_what_bpb_writes_token_and_byte_level(tiny_untied_dir, tmp_path):
    # The page said "section 'bpb' is not understood by this tokensmith version" of a file this version wrote.
    from tokensmith.cli import main
    from tokensmith.report import render_report
    from tokensmith.results import read_results

    corpus = tmp_path / "yo.txt"  # Yoruba with tone marks, written for this test
    corpus.write_text("Ẹ kú àárọ̀, ṣé dáadáa ni?\n", encoding="utf-8")
    model = str(tiny_untied_dir)
    token_level, byte_level = tmp_path / "bpb.json", tmp_path / "bytes.json"
    assert main(["bpb", "-m", model, "-c", str(corpus), "-o", str(token_level), "-q"]) == 0
    assert main(["bpb", "-m", model, "-c", str(corpus), "--byte-level", "-o", str(byte_level), "-q"]) == 0
    documents = [read_results(token_level), read_results(byte_level)]
    html = render_report(documents, sources=[str(token_level), str(byte_level)])
    assert "not understood" not in html and 'id="bpb"' in html
    from tokensmith.report.svg import format_number

    scored, byte_scored = documents[0]["sections"]["bpb"], documents[1]["sections"]["bytelm"]
    for value in (scored["bpb"], scored["tokens_per_byte"], byte_scored["byte_level"]["bpb"],
                  byte_scored["canonical"]["bpb"]):
        assert f">{format_number(value)}<" in html, value
    assert "byte-level bits per byte" in html and "yo.txt" in html
