"""Mixture-inference LP solve time at 1k/3k/10k/30k merges x 10 categories (o200k, ../shared/data).

The setting of the README's table: o200k's merges replayed on 300 kB per category of
``mono/{en,de,fr,es,ru,zh-CN,ja,ko,ar}.txt`` and ``domain/code.txt`` (seed 0). For each merge count it
prints the wall and CPU seconds of replay+history and of the LP solve, per formulation (the default
``intervals``, and the per-step ``pairs`` one up to ``--pairs-up-to`` merges: it takes minutes beyond),
the objective, rounds, rows (interval rows or per-step rows), and the largest difference of the shares
and objective from the first formulation. The machine is shared: compare the CPU seconds.

    .venv/bin/python benchmarks/mixture_speed.py                       # 1k/3k/10k/30k, pairs up to 3k
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CATEGORIES = {"en": "mono/en.txt", "de": "mono/de.txt", "fr": "mono/fr.txt", "es": "mono/es.txt",
              "ru": "mono/ru.txt", "zh": "mono/zh-CN.txt", "ja": "mono/ja.txt", "ko": "mono/ko.txt",
              "ar": "mono/ar.txt", "code": "domain/code.txt"}


def prepare(tokenizer_name: str, sample_bytes: int, merges: int, seed: int = 0):
    """``(history, scale, sample_bytes, pair_totals, seconds)`` exactly as ``infer_mixture`` builds them."""
    from tokensmith.mixture import read_category_sample, tokenizer_splitter
    from tokensmith.mixture.history import build_history
    from tokensmith.mixture.infer import tokenizer_merges
    from tokensmith.mixture.replay import merge_table, replay_merges, word_table
    from tokensmith.tokenizers import load_tokenizer
    from tokensmith.train.counting import count_pretokens

    tokenizer = load_tokenizer(tokenizer_name)
    splitter = tokenizer_splitter(tokenizer)
    table = merge_table(tokenizer_merges(tokenizer)[:merges], splitter.units)
    started, cpu = time.perf_counter(), time.process_time()
    logs, sizes, totals = [], [], []
    for path in CATEGORIES.values():
        documents = read_category_sample(DATA / path, sample_bytes, seed)
        counts = count_pretokens(documents, splitter, engine="serial")
        log = replay_merges(word_table(counts.pretokens, counts.counts, table), table, merges)
        logs.append(log)
        sizes.append(max(sum(len(d.encode("utf-8")) for d in documents), 1))
        totals.append(max(log.pair_occurrences, 1))
    history = build_history(logs, table.merges[:merges])
    seconds = (time.perf_counter() - started, time.process_time() - cpu)
    totals_array = np.array(totals, dtype=np.float64)
    scale = totals_array.mean() / totals_array
    return history, scale, np.array(sizes, dtype=np.float64), totals_array, seconds


def main() -> None:
    from tokensmith.mixture import SolverSettings
    from tokensmith.mixture.solver import solve_mixture

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--merges", default="1000,3000,10000,30000")
    parser.add_argument("--formulations", default="intervals,pairs", help="comma-separated: intervals, pairs")
    parser.add_argument("--pairs-up-to", type=int, default=3000, help="skip the pairs formulation beyond")
    parser.add_argument("--tokenizer", default="o200k")
    parser.add_argument("--sample-bytes", type=int, default=300_000)
    args = parser.parse_args()
    print(f"{args.tokenizer}, {len(CATEGORIES)} categories x {args.sample_bytes:,} B; seconds are wall / CPU")
    print(f"{'merges':>7} {'replay':>13} {'formulation':>11} {'solve':>15} {'rounds':>6} {'rows':>8} "
          f"{'objective':>14} {'max |d share|':>13}")
    for merges in [int(m) for m in args.merges.split(",")]:
        history, scale, sizes, totals, (replay_wall, replay_cpu) = prepare(args.tokenizer, args.sample_bytes, merges)
        first = None
        for formulation in args.formulations.split(","):
            if formulation == "pairs" and merges > args.pairs_up_to:
                continue
            started, cpu = time.perf_counter(), time.process_time()
            solution = solve_mixture(history, scale, SolverSettings(formulation=formulation))
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            shares = solution.alpha * sizes / totals
            shares /= shares.sum()
            if first is None:
                first = (solution.objective, shares)
                difference = ""
            else:
                difference = f"{np.abs(shares - first[1]).max():.1e} (obj {abs(solution.objective - first[0]):.1e})"
            print(f"{merges:>7,} {replay_wall:>6.1f}/{replay_cpu:>5.1f} {formulation:>11} {wall:>7.1f}/{cpu:>6.1f} "
                  f"{solution.rounds:>6} {solution.constraints:>8,} {solution.objective:>14.9g} {difference:>13}"
                  + ("" if solution.converged else "  NOT CONVERGED"), flush=True)


if __name__ == "__main__":
    main()
