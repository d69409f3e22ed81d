"""Training speed: tokensmith's trainers vs HF tokenizers, rustbpe and SentencePiece on the same text.

Builds a corpus of about ``--mb`` MB from ../shared/data: the monolingual text of 81 languages interleaved
with the domain files (legal, biomedical, code), then, because those hold only ~96 MB, LibreOffice Help
and UI strings (parallel/lo_help, parallel/lo_ui) until the size is reached; whole lines only. Each
trainer then learns a ``--vocab-size`` vocabulary in its own child process; wall time, CPU time
(user+sys) and peak RSS come from the OS (os.wait4), and the table gives ratios to HF and to tokensmith
``bpe``. Trainers (``--trainers``, comma-separated, run in this order):

* ``hf``: HF tokenizers' ``BpeTrainer`` on the corpus file, pre-tokenizer ``Split(regex) + ByteLevel``,
  ``min_frequency=2``, special token ``<|endoftext|>``, the 256 byte symbols as initial alphabet.
* ``tokensmith``: tokensmith ``bpe`` (``BpeTrainer``), same settings (merge-for-merge HF's result), the
  corpus read line by line (``tokensmith.train.api.read_lines``).
* ``rustbpe``: rustbpe 0.1.0 (karpathy's nanochat trainer; a benchmark-only peer, installed by
  ``make bench``), ``train_from_iterator`` over the same lines with the same regex. It differs: no
  ``min_frequency``, no special tokens (vocab = 256 bytes + merges, so one merge more than the others),
  its own default regex (GPT-4's with ``\\p{N}{1,3}+``; we pass tokensmith's preset instead), fancy-regex.
* ``sentencepiece``: SentencePiece 0.2 BPE (``model_type=bpe``, ``byte_fallback=True``), reading the
  corpus file itself. It has no regex pre-tokenization (whitespace/script/number splits only) and learns
  characters, not bytes (byte pieces are only a fallback), so its vocabulary is not comparable; its
  settings are printed with the table: all lines (it handles 130 MB in under a minute and 1 GB here),
  no normalization (``identity``, as the byte-level trainers), ``num_threads=2``. ``--spm-sentences N``
  trains it on a random sample of N lines instead (``input_sentence_size``, ``shuffle_input_sentence``);
  ``train_extremely_large_corpus`` is deprecated and ignored by 0.2.3, so it is not set.
* ``superword``: tokensmith ``superword`` (SuperBPE: ``bpe`` to t = 0.9 V, then merges across spaces).
* ``parity``: tokensmith ``parity`` (parity-aware BPE) with its defaults - the hybrid: half the merges
  global, then the moving-window rule (window 100, alpha 2) - on the same bytes, split by language: each
  corpus piece is trained as its file's language (domain files as ``en``, legal_ko as ``ko``; 81 languages).
  The dev set is the 32 aligned UDHR segments of parallel/udhr (the only aligned text covering them
  all); the few without a UDHR file use a close one as dev proxy (``DEV_PROXY``).

tokensmith's numba kernels are compiled (or loaded from numba's on-disk cache) once before the timed runs,
as after any first use; the table's stage line gives what loading them still costs inside each run.

    .venv/bin/python benchmarks/train_speed.py --mb 130 --vocab-size 32000
    .venv/bin/python benchmarks/train_speed.py --mb 10 --trainers tokensmith,hf,rustbpe
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TRAINERS = ("hf", "tokensmith", "rustbpe", "sentencepiece", "superword", "parity")
LABELS = {"tokensmith": "tokensmith bpe", "superword": "tokensmith superword", "parity": "tokensmith parity",
          "hf": "HF tokenizers", "rustbpe": "rustbpe 0.1.0", "sentencepiece": "SentencePiece BPE"}
#: Languages without a UDHR file in parallel/udhr, and the UDHR text that stands in as their dev set.
DEV_PROXY = {"en-GB": "en", "ca-valencia": "ca", "szl": "pl", "as": "bn", "or": "bn", "gug": "es", "am": "ti"}
SPM_SETTINGS = {
    "model_type": "bpe", "byte_fallback": True, "character_coverage": 0.9995, "num_threads": 2,
    "max_sentence_length": 16384, "shuffle_input_sentence": True, "normalization_rule_name": "identity",
}


def corpus_files() -> list[tuple[Path, str]]:
    """The corpus files in the order they are used, each with the language it is trained as by ``parity``."""
    mono = sorted((DATA / "mono").glob("*.txt"))
    domain = sorted((DATA / "domain").glob("*.txt"))
    order = []
    for i in range(max(len(mono), len(domain))):
        order += mono[i:i + 1] + ([domain[i]] if i < len(domain) and i % 4 == 0 else [])
    order += [path for path in domain if path not in order]
    order += sorted((DATA / "parallel" / "lo_help").glob("*.txt")) + sorted((DATA / "parallel" / "lo_ui").glob("*.txt"))

    def language(path: Path) -> str:
        if path.parent.name == "domain":
            return "ko" if path.stem == "legal_ko" else "en"
        return path.stem

    return [(path, language(path)) for path in order]


def build_corpus(target: Path, megabytes: float) -> tuple[int, list[tuple[str, int, int]]]:
    """Write about ``megabytes`` of whole lines to ``target``; returns bytes written and the pieces
    (language, offset, length) each file contributed."""
    budget = int(megabytes * 1_000_000)
    written = 0
    pieces = []
    with open(target, "wb") as out:
        for path, lang in corpus_files():
            if written >= budget:
                break
            whole = path.read_bytes()
            data = whole[: budget - written]
            if len(data) < len(whole):  # whole lines only
                data = data[: data.rfind(b"\n") + 1]
                if not data:
                    break
            if not data.endswith(b"\n"):
                data += b"\n"
            out.write(data)
            pieces.append((lang, written, len(data)))
            written += len(data)
    return written, pieces


def run_child(kind: str, config: dict) -> dict:
    """Train in a fresh process; wall, CPU and peak RSS come from the OS (os.wait4)."""
    with tempfile.TemporaryFile() as errors:  # a child's log (SentencePiece's is long) is shown only if it fails
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, __file__, "--child", kind, json.dumps(config)],
                                   stdout=subprocess.PIPE, stderr=errors)
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        if status != 0:
            errors.seek(0)
            sys.stderr.write(errors.read().decode("utf-8", errors="replace"))
            raise SystemExit(f"{kind} failed (status {status})")
    result = json.loads(output)
    result.update(wall=wall, cpu=usage.ru_utime + usage.ru_stime, peak_rss_mb=usage.ru_maxrss / 1024,
                  load=os.getloadavg()[0])
    return result


def _stages(stats) -> dict:
    return {"count_s": stats.count_seconds, "compile_s": stats.compile_seconds, "merge_s": stats.merge_seconds,
            "merges": stats.merges}


def _pieces_by_language(corpus: str, pieces: list) -> dict:
    """The corpus lines per language, streamed piece by piece (read_lines' line semantics)."""
    by_lang: dict[str, list[tuple[int, int]]] = {}
    for lang, offset, length in pieces:
        by_lang.setdefault(lang, []).append((offset, length))

    def lines(ranges):
        with open(corpus, "rb") as handle:
            for offset, length in ranges:
                handle.seek(offset)
                text = handle.read(length).decode("utf-8", errors="replace")
                for line in io.StringIO(text, newline=""):
                    line = line.rstrip("\r\n")
                    if line:
                        yield line

    return {lang: lines(ranges) for lang, ranges in sorted(by_lang.items())}


def _udhr_dev(langs) -> dict[str, list[str]]:
    dev = {}
    for lang in langs:
        path = DATA / "parallel" / "udhr" / f"{DEV_PROXY.get(lang, lang)}.txt"
        dev[lang] = path.read_text(encoding="utf-8").splitlines()
    return dev


def child(kind: str, config: dict) -> None:
    corpus, vocab_size, pretokenizer = config["corpus"], config["vocab_size"], config["pretokenizer"]
    if kind in ("tokensmith", "superword"):
        from tokensmith.train import BpeTrainer, SuperwordTrainer
        from tokensmith.train.api import read_lines

        trainer_class = BpeTrainer if kind == "tokensmith" else SuperwordTrainer
        trained = trainer_class(vocab_size=vocab_size, pretokenizer=pretokenizer).train(read_lines([corpus]))
        print(json.dumps({"vocab": trained.vocab_size, **_stages(trained.stats)}))
    elif kind == "warmup":  # fills numba's on-disk cache, as any first use does; not timed
        from tokensmith.train import merge_core
        from tokensmith.train.parity import _compile_parity_kernels
        from tokensmith.train.pretokenize import SUPERBPE_STAGE2_REGEX, Pretokenizer

        started = time.perf_counter()
        for chosen in (Pretokenizer.create(pretokenizer), Pretokenizer.create(regex_pattern=SUPERBPE_STAGE2_REGEX)):
            _ = chosen.compiled  # the compiled pre-tokenizers (all in one cached kernel) built and run once
        pretokenizer_s = time.perf_counter() - started
        print(json.dumps({"compile_s": merge_core.compile_kernels() + _compile_parity_kernels() + pretokenizer_s}))
    elif kind == "parity":
        from tokensmith.train import ParityTrainer

        documents = _pieces_by_language(corpus, config["pieces"])
        trained = ParityTrainer(vocab_size=vocab_size, pretokenizer=pretokenizer).train(
            documents, dev_documents=_udhr_dev(documents))
        print(json.dumps({"vocab": trained.vocab_size, "languages": len(documents), **_stages(trained.stats)}))
    elif kind == "hf":
        from tokenizers import Tokenizer, models, pre_tokenizers, trainers

        from tokensmith.train.pretokenize import Pretokenizer

        spec = json.loads(Tokenizer(models.BPE()).to_str())
        spec["pre_tokenizer"] = Pretokenizer.create(pretokenizer).hf_pre_tokenizer()
        tokenizer = Tokenizer.from_str(json.dumps(spec))
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=["<|endoftext|>"],
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
        tokenizer.train([corpus], trainer)
        print(json.dumps({"vocab": tokenizer.get_vocab_size()}))
    elif kind == "rustbpe":
        import rustbpe

        from tokensmith.train.api import read_lines
        from tokensmith.train.pretokenize import Pretokenizer

        tokenizer = rustbpe.Tokenizer()
        tokenizer.train_from_iterator(read_lines([corpus]), vocab_size,
                                      pattern=Pretokenizer.create(pretokenizer).pattern)
        print(json.dumps({"vocab": tokenizer.vocab_size}))
    elif kind == "sentencepiece":
        import sentencepiece

        with tempfile.TemporaryDirectory() as tmp:
            sentencepiece.SentencePieceTrainer.train(
                input=corpus, model_prefix=str(Path(tmp) / "spm"), vocab_size=vocab_size, minloglevel=2,
                input_sentence_size=config["spm_sentences"], **SPM_SETTINGS)
            model = sentencepiece.SentencePieceProcessor(model_file=str(Path(tmp) / "spm.model"))
            print(json.dumps({"vocab": model.get_piece_size()}))
    else:
        raise SystemExit(f"unknown trainer {kind}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=130.0, help="corpus size in MB (default 130)")
    parser.add_argument("--vocab-size", type=int, default=32000)
    parser.add_argument("--pretokenizer", default="cl100k")
    parser.add_argument("--trainers", default=",".join(TRAINERS),
                        help=f"comma-separated, run in this order (default: {','.join(TRAINERS)})")
    parser.add_argument("--spm-sentences", type=int, default=0,
                        help="SentencePiece's input_sentence_size: train on this many random lines (0: all)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], json.loads(args.child[1]))
        return
    kinds = [kind.strip() for kind in args.trainers.split(",") if kind.strip()]
    unknown = [kind for kind in kinds if kind not in TRAINERS]
    if unknown:
        raise SystemExit(f"unknown trainers {unknown}; choose from {','.join(TRAINERS)}")
    if "rustbpe" in kinds:
        try:
            import rustbpe  # noqa: F401
        except ImportError:
            print("rustbpe is not installed (pip install rustbpe==0.1.0, or make bench): skipped")
            kinds.remove("rustbpe")
    if not DATA.is_dir():
        raise SystemExit(f"{DATA} is absent: the benchmark needs the team's shared corpora")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        size, pieces = build_corpus(corpus, args.mb)
        with open(corpus, "rb") as handle:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b""))
        print(f"corpus {size / 1e6:.1f} MB, {lines:,} lines, {len({lang for lang, _, _ in pieces})} languages, "
              f"vocab {args.vocab_size}, pre-tokenizer {args.pretokenizer}, {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.2f}", flush=True)
        config = {"corpus": str(corpus), "vocab_size": args.vocab_size, "pretokenizer": args.pretokenizer,
                  "spm_sentences": args.spm_sentences, "pieces": pieces}
        if {"tokensmith", "superword", "parity"} & set(kinds):
            warm = run_child("warmup", config)
            print(f"  numba kernels compiled or loaded from cache in {warm['compile_s']:.1f} s (untimed warm-up)")
        for kind in kinds:
            results[kind] = run_child(kind, config)
            result = results[kind]
            print(f"  {LABELS[kind]}: {result['wall']:.1f} s wall, {result['cpu']:.1f} s CPU, "
                  f"{result['peak_rss_mb']:.0f} MB, load {result['load']:.2f}", flush=True)
    print_table(results, args, lines)


def print_table(results: dict, args, lines: int) -> None:
    hf, bpe = results.get("hf"), results.get("tokensmith")
    print(f"\n{'trainer':<22}{'wall s':>8}{'CPU s':>8}{'peak RSS MB':>13}{'vocab':>7}"
          f"{'wall/HF':>9}{'CPU/HF':>8}{'RSS/HF':>8}{'wall/bpe':>10}{'CPU/bpe':>9}{'RSS/bpe':>9}{'load':>6}")
    for kind, result in results.items():
        def ratio(base, key, result=result):
            return f"{result[key] / base[key]:.2f}x" if base else "-"

        print(f"{LABELS[kind]:<22}{result['wall']:>8.1f}{result['cpu']:>8.1f}{result['peak_rss_mb']:>13.0f}"
              f"{result['vocab']:>7}{ratio(hf, 'wall'):>9}{ratio(hf, 'cpu'):>8}{ratio(hf, 'peak_rss_mb'):>8}"
              f"{ratio(bpe, 'wall'):>10}{ratio(bpe, 'cpu'):>9}{ratio(bpe, 'peak_rss_mb'):>9}{result['load']:>6.2f}")
    print("load = 1-minute load average when the trainer finished; on shared cores wall time follows it, "
          "CPU time (user+sys) much less")
    for kind in ("tokensmith", "superword", "parity"):
        if kind in results:
            r = results[kind]
            extra = f", {r['languages']} languages" if "languages" in r else ""
            print(f"{LABELS[kind]} stages: count {r['count_s']:.1f} s, numba compile/load {r['compile_s']:.1f} s, "
                  f"merges {r['merge_s']:.1f} s ({r['merges']:,} merges{extra})")
    if "sentencepiece" in results:
        sample = f"a random {args.spm_sentences:,} of {lines:,} lines" if args.spm_sentences else "all lines"
        print(f"SentencePiece settings: vocab_size={args.vocab_size}, input_sentence_size={args.spm_sentences} "
              f"({sample}), " + ", ".join(f"{k}={v}" for k, v in SPM_SETTINGS.items()))
    if hf and bpe:
        print(f"ratio tokensmith bpe/HF: wall {bpe['wall'] / hf['wall']:.2f}x, CPU {bpe['cpu'] / hf['cpu']:.2f}x, "
              f"peak RSS {bpe['peak_rss_mb'] / hf['peak_rss_mb']:.2f}x")


if __name__ == "__main__":
    main()
