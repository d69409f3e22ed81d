"""Parity quality: does parity-aware BPE spread tokens more evenly across languages, and at what cost?

Issue 3's goal: with vocabularies of the same size trained on the same text, ``parity`` lowers the Gini of
the languages' token premiums on held-out parallel lines by 30% or more, and loses at most 3% of global
bytes/token against classic ``bpe``.

Data (../shared/data):

* languages: every ``parallel/<lang>.txt`` (31 languages, line-aligned: UDHR + LibreOffice UI strings).
  Every ``--holdout-every``-th aligned line (lines empty in some language are dropped from the split) is
  held out; the other aligned lines are training text *and* the parity dev set.
* training text per language: its training parallel lines plus ``mono/<lang>.txt`` when present (each
  capped at 1 MB by the data set), minus every ``--mono-holdout-every``-th mono line, which is held out;
  ``--domain`` adds the domain files (legal, biomedical, code; as ``en``, ``legal_ko`` as ``ko``), whole.
  About 37 MB without ``--domain``, 65 MB with it.

Trainers (``--variants``; all with the same vocabulary size, pre-tokenizer and min_frequency):

* ``bpe``: classic byte-level BPE on all the training text pooled.
* ``parity``: ``ParityTrainer`` with its defaults (the hybrid: half the merges global, then the
  moving-window rule, window 100, alpha 2).
* ``parity-pure``: pure parity-aware BPE (``global_share=0, variant="base"``), the paper's base rule.
* ``parity-hybrid-base``: half the merges global, then the base rule (not run by default).

Figures, per trainer:

* Gini of premiums: each language's tokens on the held-out parallel lines over English's (the token
  premium); the Gini of those 31 premiums (``tokensmith.metrics.corpus_metrics.gini``). 0 = every
  language pays the same for the same content.
* bytes/token on all held-out text (held-out parallel lines of every language + held-out mono lines):
  Σ UTF-8 bytes / Σ tokens, the global compression; also on the held-out parallel lines alone.
* relative change against ``bpe`` and whether the goals hold (Gini -30% or better, bytes/token -3% or
  better); training wall time and CPU time (user+sys of this process and its counting workers), and the
  count/merge stages.

Held-out text is encoded with the trained tokenizers' tiktoken export (same ids as their tokenizer.json).
Runtime on 2 shared cores at 32k: about 1-2 minutes for the default three trainers (measured 67 s wall,
57 s CPU, 1.1 GB peak RSS; each training 15-25 s, its pre-token counting included), about 3 minutes
with ``--domain`` and all four trainers.

    .venv/bin/python benchmarks/parity_quality.py                     # 32k, 31 languages, ~37 MB
    .venv/bin/python benchmarks/parity_quality.py --vocab-size 8000 --variants bpe,parity
    .venv/bin/python benchmarks/parity_quality.py --domain            # ~65 MB with the domain files
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
GINI_GOAL = -0.30  # relative change of the Gini of premiums: at least this much lower
BYTES_GOAL = -0.03  # relative change of global bytes/token: no worse than this
REFERENCE_LANG = "en"


def log(message: str) -> None:
    print(message, flush=True)


@dataclass
class Split:
    """Training text per language, the parity dev set, and the held-out text."""

    train: dict[str, list[str]]
    dev: dict[str, list[str]]
    held_parallel: dict[str, list[str]]
    held_mono: list[str]


def build_split(langs: list[str] | None, holdout_every: int, mono_holdout_every: int, domain: bool) -> Split:
    """Read ../shared/data and split it (see the module docstring); deterministic."""
    files = sorted((DATA / "parallel").glob("*.txt"))
    parallel = {path.stem: path.read_text(encoding="utf-8").split("\n") for path in files}
    if langs:
        unknown = sorted(set(langs) - set(parallel))
        if unknown:
            raise SystemExit(f"no parallel text for {unknown}; choose from {sorted(parallel)}")
        parallel = {lang: parallel[lang] for lang in langs}
    n_lines = min(len(lines) for lines in parallel.values())
    aligned = [i for i in range(n_lines) if all(lines[i].strip() for lines in parallel.values())]
    held_index = {i for k, i in enumerate(aligned) if k % holdout_every == holdout_every - 1}
    dev = {lang: [lines[i] for i in aligned if i not in held_index] for lang, lines in parallel.items()}
    held_parallel = {lang: [lines[i] for i in aligned if i in held_index] for lang, lines in parallel.items()}
    train = {lang: list(lines) for lang, lines in dev.items()}
    held_mono: list[str] = []
    for lang in train:
        path = DATA / "mono" / f"{lang}.txt"
        if path.is_file():
            lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            held_mono += lines[mono_holdout_every - 1::mono_holdout_every]
            train[lang] += [line for k, line in enumerate(lines) if k % mono_holdout_every != mono_holdout_every - 1]
    if domain:
        for path in sorted((DATA / "domain").glob("*.txt")):
            lang = "ko" if path.stem == "legal_ko" else "en"
            if lang in train:
                train[lang] += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return Split(train, dev, held_parallel, held_mono)


def _bpe(split: Split, settings: dict):
    from tokensmith.train import BpeTrainer

    return BpeTrainer(**settings).train(line for lines in split.train.values() for line in lines)


def _parity(**options) -> Callable:
    def train(split: Split, settings: dict):
        from tokensmith.train import ParityTrainer

        return ParityTrainer(**settings, **options).train(split.train, dev_documents=split.dev)

    return train


#: Trainers by name (``--variants``), in the order they are reported.
VARIANTS: dict[str, Callable] = {
    "bpe": _bpe,
    "parity": _parity(),
    "parity-pure": _parity(global_share=0.0, variant="base"),
    "parity-hybrid-base": _parity(variant="base"),
}


def cpu_seconds() -> float:
    """User+sys CPU of this process and its reaped children (the counting workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(trained, split: Split) -> dict:
    """Premiums and their Gini on the held-out parallel lines, bytes/token on the held-out text."""
    from tokensmith.metrics.corpus_metrics import gini
    from tokensmith.train.export import tiktoken_encoding

    encoding = tiktoken_encoding(trained)

    def tokens(lines: list[str]) -> int:
        return sum(map(len, encoding.encode_ordinary_batch(lines, num_threads=1)))

    def size(lines: list[str]) -> int:
        return sum(len(line.encode("utf-8")) for line in lines)

    per_lang = {lang: tokens(lines) for lang, lines in split.held_parallel.items()}
    reference = per_lang.get(REFERENCE_LANG) or min(per_lang.values())
    premiums = {lang: count / reference for lang, count in per_lang.items()}
    parallel_bytes = sum(size(lines) for lines in split.held_parallel.values())
    mono_tokens, mono_bytes = tokens(split.held_mono), size(split.held_mono)
    return {
        "premiums": premiums,
        "gini": gini(list(premiums.values())),
        "bytes_per_token": (parallel_bytes + mono_bytes) / (sum(per_lang.values()) + mono_tokens),
        "parallel_bytes_per_token": parallel_bytes / sum(per_lang.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vocab-size", type=int, default=32000)
    parser.add_argument("--pretokenizer", default="o200k")
    parser.add_argument("--min-frequency", type=int, default=2)
    parser.add_argument("--variants", default="bpe,parity,parity-pure",
                        help=f"comma-separated, from {','.join(VARIANTS)}; bpe is the baseline (always run)")
    parser.add_argument("--langs", default="", help="comma-separated subset of the parallel languages (default all)")
    parser.add_argument("--holdout-every", type=int, default=4, help="hold out every N-th aligned parallel line")
    parser.add_argument("--mono-holdout-every", type=int, default=20, help="hold out every N-th mono line")
    parser.add_argument("--domain", action="store_true", help="add the domain files to the training text")
    parser.add_argument("--premiums", action="store_true", help="also print every language's premium")
    args = parser.parse_args()
    names = ["bpe"] + [name.strip() for name in args.variants.split(",") if name.strip() and name.strip() != "bpe"]
    unknown = [name for name in names if name not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; choose from {','.join(VARIANTS)}")
    if not DATA.is_dir():
        raise SystemExit(f"{DATA} is absent: the benchmark needs the team's shared corpora")
    if args.holdout_every < 2 or args.mono_holdout_every < 2:
        raise SystemExit("--holdout-every and --mono-holdout-every must be 2 or more")

    split = build_split([x for x in args.langs.split(",") if x] or None, args.holdout_every,
                        args.mono_holdout_every, args.domain)
    train_mb = sum(len(line.encode("utf-8")) + 1 for lines in split.train.values() for line in lines) / 1e6
    held_lines = len(next(iter(split.held_parallel.values())))
    log(f"{len(split.train)} languages, training text {train_mb:.1f} MB, dev {len(next(iter(split.dev.values())))} "
        f"aligned lines, held out {held_lines} aligned lines + {len(split.held_mono):,} mono lines; "
        f"vocab {args.vocab_size}, pre-tokenizer {args.pretokenizer}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}")

    settings = {"vocab_size": args.vocab_size, "pretokenizer": args.pretokenizer,
                "min_frequency": args.min_frequency}
    from tokensmith.train import merge_core
    from tokensmith.train.parity import _compile_parity_kernels

    compile_s = merge_core.compile_kernels() + _compile_parity_kernels()
    log(f"numba kernels compiled or loaded from cache in {compile_s:.1f} s (untimed)")
    results = {}
    for name in names:
        wall, cpu = time.perf_counter(), cpu_seconds()
        trained = VARIANTS[name](split, settings)
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        result = measure(trained, split)
        stats = trained.stats
        result.update(wall=wall, cpu=cpu, count_s=stats.count_seconds, merge_s=stats.merge_seconds,
                      vocab=trained.vocab_size, merges_by_language=getattr(stats, "merges_by_language", None))
        results[name] = result
        log(f"  {name}: vocab {trained.vocab_size}, {wall:.1f} s wall, {cpu:.1f} s CPU (count "
            f"{stats.count_seconds:.1f} s, merges {stats.merge_seconds:.1f} s), Gini {result['gini']:.4f}, "
            f"bytes/token {result['bytes_per_token']:.4f}")
    print_table(results, args)


def print_table(results: dict, args) -> None:
    base = results["bpe"]
    print(f"\n{'trainer':<20}{'Gini':>8}{'vs bpe':>9}{'B/tok all':>11}{'vs bpe':>9}{'B/tok par':>11}"
          f"{'max prem':>10}{'wall s':>8}{'CPU s':>8}{'goals':>7}")
    for name, r in results.items():
        gini_change = r["gini"] / base["gini"] - 1
        bytes_change = r["bytes_per_token"] / base["bytes_per_token"] - 1
        met = "-" if name == "bpe" else ("yes" if gini_change <= GINI_GOAL and bytes_change >= BYTES_GOAL else "no")
        print(f"{name:<20}{r['gini']:>8.4f}{gini_change:>+9.1%}{r['bytes_per_token']:>11.4f}{bytes_change:>+9.1%}"
              f"{r['parallel_bytes_per_token']:>11.4f}{max(r['premiums'].values()):>10.3f}{r['wall']:>8.1f}"
              f"{r['cpu']:>8.1f}{met:>7}")
    print(f"goals (issue 3): Gini of premiums {GINI_GOAL:+.0%} or lower and global bytes/token (all held-out text) "
          f"no worse than {BYTES_GOAL:+.0%}, against bpe; premiums relative to {REFERENCE_LANG}; "
          f"vocab {args.vocab_size}, pre-tokenizer {args.pretokenizer}")
    if args.premiums:
        langs = list(base["premiums"])
        print("\npremiums (held-out tokens / en's)\n" + f"{'lang':<8}" + "".join(f"{n:>20}" for n in results))
        for lang in langs:
            print(f"{lang:<8}" + "".join(f"{r['premiums'][lang]:>20.3f}" for r in results.values()))


if __name__ == "__main__":
    main()
