"""Inferred training-data shares of the named reference tokenizers (the README's table).

Categories, in the paper's style (Hayase et al. 2024 infer over 112 languages, 37 programming languages
and several English domains, then sum them into the groups they report): every language of
``../shared/data/mono`` (81), each of the five ``domain/code_*.txt`` files, and the English domain texts
``domain/legal.txt`` and ``domain/biomedical.txt``, ``--sample-bytes`` per category (seed 0; mono files
hold 150 kB to 1 MB). The shares are summed into the printed columns: nine large languages (a language's
regional variants with it: en + en-GB, zh-CN + zh-TW), ``other`` (the remaining 70 languages), ``code``
(the five programming languages) and ``en-domain`` (legal and biomedical English). Each row is one
``infer_mixture`` run on the tokenizer's first ``--merges`` merges with the default solver.

    .venv/bin/python benchmarks/mixture_references.py                      # all seven references
    .venv/bin/python benchmarks/mixture_references.py --tokenizers gpt2 --merges 1000

Caveats printed with the table: only the given categories can be found (text of a kind none of them
covers is attributed to the nearest ones), the samples are small, and the pre-tokenizer is rebuilt from
each tokenizer's files (named in the output).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REFERENCES = ("gpt2", "cl100k", "o200k", "qwen2.5", "deepseek-v4", "mistral-tekken", "smollm2")
#: printed column -> the categories summed into it (the rest of mono/ goes to ``other``)
GROUPS = {
    "en": ("en", "en-GB"), "de": ("de",), "fr": ("fr",), "es": ("es",), "ru": ("ru",), "zh": ("zh-CN", "zh-TW"),
    "ja": ("ja",), "ko": ("ko",), "ar": ("ar",),
}
CODE = ("python", "c", "rust", "javascript", "typescript")
ENGLISH_DOMAINS = ("legal", "biomedical")


def category_paths() -> dict[str, Path]:
    """Category name -> sample file: every mono language, ``code-<language>``, ``en-<domain>``."""
    paths = {path.stem: path for path in sorted((DATA / "mono").glob("*.txt"))}
    paths.update({f"code-{name}": DATA / "domain" / f"code_{name}.txt" for name in CODE})
    paths.update({f"en-{name}": DATA / "domain" / f"{name}.txt" for name in ENGLISH_DOMAINS})
    return paths


def grouped_shares(proportions: dict[str, float]) -> dict[str, float]:
    """The printed columns: GROUPS, then ``other`` languages, ``code`` and ``en-domain``."""
    columns = {column: sum(proportions.get(name, 0.0) for name in names) for column, names in GROUPS.items()}
    named = {name for names in GROUPS.values() for name in names}
    columns["other"] = sum(share for name, share in proportions.items()
                           if name not in named and not name.startswith(("code-", "en-")))
    columns["code"] = sum(proportions[f"code-{name}"] for name in CODE)
    columns["en-domain"] = sum(proportions[f"en-{name}"] for name in ENGLISH_DOMAINS)
    return columns


def main() -> None:
    from tokensmith.mixture import infer_mixture, read_category_sample
    from tokensmith.tokenizers import load_tokenizer

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokenizers", default=",".join(REFERENCES))
    parser.add_argument("--merges", type=int, default=3000)
    parser.add_argument("--sample-bytes", type=int, default=300_000)
    parser.add_argument("--top", type=int, default=5, help="also list each row's largest single categories")
    args = parser.parse_args()
    if not (DATA / "mono").is_dir():
        raise SystemExit(f"{DATA} is missing: this benchmark needs ../shared/data beside the repository")

    read_started = time.perf_counter()
    samples = {name: read_category_sample(path, args.sample_bytes, 0, name=name)
               for name, path in category_paths().items()}
    print(f"{len(samples)} categories, {sum(len(''.join(s).encode()) for s in samples.values()) / 1e6:.1f} MB "
          f"read in {time.perf_counter() - read_started:.1f} s; {args.merges:,} merges each")
    rows = []
    for name in args.tokenizers.split(","):
        tokenizer = load_tokenizer(name)
        started, cpu = time.perf_counter(), time.process_time()
        result = infer_mixture(tokenizer, samples, merges=args.merges)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        solution = result.solution
        rows.append((name, grouped_shares(result.proportions)))
        largest = sorted(result.proportions.items(), key=lambda item: -item[1])[: args.top]
        print(f"{name}: {wall:.1f} s wall, {cpu:.1f} s CPU; LP {solution.status}, {solution.rounds} rounds, "
              f"{solution.constraints:,} rows, {solution.solver_seconds:.1f} s; pre-tokenization: "
              f"{result.pretokenizer.get('description', '?')}; largest: "
              + ", ".join(f"{category} {100 * share:.1f}%" for category, share in largest), flush=True)
    columns = list(rows[0][1]) if rows else []
    print()
    print("| tokenizer | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for name, shares in rows:
        best = max(shares, key=shares.get)
        cells = [f"**{100 * shares[c]:.1f}**" if c == best else f"{100 * shares[c]:.1f}" for c in columns]
        print(f"| {name} | " + " | ".join(cells) + " |")
    assert all(abs(sum(shares.values()) - 1.0) < 1e-9 for _, shares in rows), "shares must sum to 1"


if __name__ == "__main__":
    main()
