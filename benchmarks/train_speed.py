"""Training speed: tokensmith ``bpe`` vs HF tokenizers' BpeTrainer on the same text and vocabulary size.

Builds a corpus of about ``--mb`` MB from ../shared/data (monolingual text of many languages plus domain
text and code, interleaved file by file), then trains byte-level BPE with the same pre-tokenization regex
(GPT-4's cl100k by default) and vocabulary size in two child processes, one per trainer, and prints
wall time, CPU time (user+sys) and peak RSS of each, with tokensmith/HF ratios.

    .venv/bin/python benchmarks/train_speed.py --mb 30 --vocab-size 32000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def build_corpus(target: Path, megabytes: float) -> int:
    """Concatenate mono/* and domain/* files, alternating, until ``megabytes``; returns bytes written."""
    mono = sorted((DATA / "mono").glob("*.txt"))
    domain = sorted((DATA / "domain").glob("*.txt"))
    order = []
    for i in range(max(len(mono), len(domain))):
        order += mono[i:i + 1] + ([domain[i]] if i < len(domain) and i % 4 == 0 else [])
    order += [path for path in domain if path not in order]
    budget = int(megabytes * 1_000_000)
    written = 0
    with open(target, "wb") as out:
        for path in order:
            if written >= budget:
                break
            data = path.read_bytes()[: budget - written]
            data = data[: data.rfind(b"\n") + 1] or data  # whole lines only
            out.write(data)
            written += len(data)
    return written


def run_child(kind: str, corpus: Path, vocab_size: int, pretokenizer: str) -> dict:
    """Train in a fresh process; wall, CPU and peak RSS come from the OS (os.wait4)."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, __file__, "--child", kind, str(corpus), str(vocab_size), pretokenizer],
                               stdout=subprocess.PIPE)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{kind} failed (status {status})")
    result = json.loads(output)
    result.update(wall=wall, cpu=usage.ru_utime + usage.ru_stime, peak_rss_mb=usage.ru_maxrss / 1024)
    return result


def child(kind: str, corpus: str, vocab_size: int, pretokenizer: str) -> None:
    if kind == "tokensmith":
        from tokensmith.train import BpeTrainer
        from tokensmith.train.api import read_lines

        trained = BpeTrainer(vocab_size=vocab_size, pretokenizer=pretokenizer).train(read_lines([corpus]))
        stats = trained.stats
        detail = {"count_s": stats.count_seconds, "compile_s": stats.compile_seconds, "merge_s": stats.merge_seconds}
        print(json.dumps({"vocab": trained.vocab_size, **detail}))
    else:
        from tokenizers import Tokenizer, models, pre_tokenizers, trainers

        from tokensmith.train.pretokenize import Pretokenizer

        spec = json.loads(Tokenizer(models.BPE()).to_str())
        spec["pre_tokenizer"] = Pretokenizer.create(pretokenizer).hf_pre_tokenizer()
        tokenizer = Tokenizer.from_str(json.dumps(spec))
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=["<|endoftext|>"],
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
        tokenizer.train([corpus], trainer)
        print(json.dumps({"vocab": tokenizer.get_vocab_size()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=30.0, help="corpus size in MB (default 30)")
    parser.add_argument("--vocab-size", type=int, default=32000)
    parser.add_argument("--pretokenizer", default="cl100k")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, corpus, vocab, pretokenizer = args.child
        child(kind, corpus, int(vocab), pretokenizer)
        return
    if not DATA.is_dir():
        raise SystemExit(f"{DATA} is absent: the benchmark needs the team's shared corpora")
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        size = build_corpus(corpus, args.mb)
        print(f"corpus {size / 1e6:.1f} MB, vocab {args.vocab_size}, pre-tokenizer {args.pretokenizer}, "
              f"{os.cpu_count()} CPUs")
        results = {kind: run_child(kind, corpus, args.vocab_size, args.pretokenizer) for kind in ("hf", "tokensmith")}
    print(f"{'trainer':<12}{'wall s':>9}{'CPU s':>9}{'peak RSS MB':>13}  vocab")
    for kind, result in results.items():
        print(f"{kind:<12}{result['wall']:>9.2f}{result['cpu']:>9.2f}{result['peak_rss_mb']:>13.0f}  {result['vocab']}")
    ts, hf = results["tokensmith"], results["hf"]
    print(f"tokensmith stages: count {ts['count_s']:.2f} s, numba compile/load {ts['compile_s']:.2f} s, "
          f"merges {ts['merge_s']:.2f} s")
    print(f"ratio tokensmith/HF: wall {ts['wall'] / hf['wall']:.2f}x, CPU {ts['cpu'] / hf['cpu']:.2f}x, "
          f"peak RSS {ts['peak_rss_mb'] / hf['peak_rss_mb']:.2f}x")


if __name__ == "__main__":
    main()
