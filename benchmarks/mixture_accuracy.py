"""Mixture-inference accuracy in the paper's controlled setting (Hayase et al. 2024, Table 1).

For n = 5, 10, 30 languages (../shared/data/mono, optionally with parallel/lo_help) and for the 5
programming languages (../shared/data/domain/code_*.txt): draw proportions from a flat Dirichlet, train
a byte-level BPE on that mixture (tokensmith's trainer and/or HF tokenizers' BpeTrainer), then infer the
mixture from *held-out* sample text of each category and report the mean log10 MSE over the trials
with its standard error, next to the paper's figures and a random guess (a flat Dirichlet draw).

Held-out text: every file is cut into ~4 KB documents and an evenly spread subset of them, about
``--held-out-bytes`` per category (at most half of it), is set aside; the rest is the training pool.
One tokenizer is trained per trial and the mixture is inferred from held-out samples of every size in
``--sample-bytes``; the samples of one trial are nested (the same seeded order, cut at each budget), so
the columns differ by sample size only. The printed sizes are the held-out bytes actually used: a
category's held-out pool caps them. ``--own`` adds a column where the samples are the tokenizer's own
training text (the LP should then be near exact).

The error has two sources: the held-out sample's sampling noise, which shrinks as the sample grows,
and the training text's own noise, which the merges carry and no held-out sample can remove. The
second is set by the training size (``--train-bytes``, capped by the training pools: the category
with the largest share must fit in its pool).

mono files are capped at 1 MB, so a held-out pool of 1 MB leaves about 0.5 MB per language to train on
and training mixes of about 1 MB; ``--lo-help`` adds the LibreOffice Help text of the 31 languages that
have it (about 0.75 MB each) and roughly doubles both.

    .venv/bin/python benchmarks/mixture_accuracy.py --trials 10 --merges 1000 --ns 5,10 --trainers tokensmith \
        --lo-help --train-bytes 30000000 --sample-bytes 100000,300000,1000000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PAPER = {"languages n=5": -7.30, "languages n=10": -7.66, "languages n=30": -7.73, "code n=5": -6.46}
PAPER_RANDOM = {"languages n=5": -1.39, "languages n=10": -1.84, "languages n=30": -2.70, "code n=5": -1.39}


def split_pools(paths: list[Path], held_out_bytes: int) -> tuple[list[str], list[str]]:
    """``(training pool, held-out pool)`` of a category's files: an evenly spread share of every file's
    ~4 KB documents, ``held_out_bytes`` of the category in all (at most half), is held out."""
    from tokensmith.mixture.samples import iter_category_documents

    per_file = [[doc for doc in iter_category_documents(path) if doc.strip()] for path in paths]
    total = sum(utf8_size(documents) for documents in per_file)
    fraction = min(0.5, held_out_bytes / total)
    training, held_out = [], []
    for documents in per_file:
        # document i is held out when the running count floor(i * fraction) steps up: evenly spread
        marks = np.floor(np.arange(len(documents) + 1) * fraction)
        for document, held in zip(documents, np.diff(marks) > 0, strict=True):
            (held_out if held else training).append(document)
    return training, held_out


def take(pool: list[str], budget: int, seed: int) -> list[str]:
    from tokensmith.corpus.sampling import sample_documents

    return sample_documents(pool, max(budget, 4096), seed)


def utf8_size(documents: list[str]) -> int:
    return sum(len(doc.encode("utf-8")) for doc in documents)


def train_tokensmith(documents: list[str], merges: int, directory: Path):
    from tokensmith.tokenizers import load_tokenizer
    from tokensmith.train import BpeTrainer

    trainer = BpeTrainer(vocab_size=256 + merges, special_tokens=(), pretokenizer="gpt2", engine="serial")
    trainer.train(documents).save(directory)
    return load_tokenizer(directory / "tokenizer.json")


def train_hf(documents: list[str], merges: int, directory: Path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    from tokensmith.tokenizers import load_tokenizer

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=256 + merges, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    tokenizer.train_from_iterator(documents, trainer)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(directory / "tokenizer.json"))
    return load_tokenizer(directory / "tokenizer.json")


TRAINERS = {"tokensmith": train_tokensmith, "hf": train_hf}


def log_mse(estimate: np.ndarray, truth: np.ndarray) -> float:
    return float(np.log10(max(np.mean((estimate - truth) ** 2), 1e-30)))


def run_setting(label: str, categories: dict[str, list[Path]], n: int, args,
                rng: np.random.Generator) -> dict[str, list[float]]:
    """Scores per trial under keys ``<trainer> <size>``, ``<trainer> own``, ``random``; sizes and
    training bytes actually used under ``bytes <size>`` and ``training bytes``."""
    from tokensmith.mixture import infer_mixture

    pools: dict[str, tuple[list[str], list[str]]] = {}
    names = sorted(categories)
    scores: dict[str, list[float]] = {"random": []}
    for trial in range(args.trials):
        chosen = [names[i] for i in sorted(rng.choice(len(names), size=n, replace=False))]
        for name in chosen:
            if name not in pools:
                pools[name] = split_pools(categories[name], args.held_out_bytes)
        share = rng.dirichlet(np.ones(n))
        # shrink the training budget so every category's share fits in its training pool
        budget = min(args.train_bytes, *(0.95 * utf8_size(pools[c][0]) / s for c, s in zip(chosen, share, strict=True)))
        training = {c: take(pools[c][0], int(s * budget), seed=trial) for c, s in zip(chosen, share, strict=True)}
        sizes = np.array([utf8_size(docs) for docs in training.values()], dtype=np.float64)
        truth = sizes / sizes.sum()
        scores.setdefault("training bytes", []).append(float(sizes.sum()))
        documents = [doc for docs in training.values() for doc in docs]
        random_guesses = rng.dirichlet(np.ones(n), size=1000)
        scores["random"].append(float(np.mean([log_mse(g, truth) for g in random_guesses])))
        samples_by_size = {}
        for size in args.sample_bytes:
            held_out = {c: take(pools[c][1], size, seed=trial) for c in chosen}
            samples_by_size[size] = held_out
            scores.setdefault(f"bytes {size}", []).append(float(np.mean([utf8_size(d) for d in held_out.values()])))
        # Same merges and pre-tokenization give the same LP: a trainer that reproduces another's merges
        # (tokensmith's bpe matches HF's BpeTrainer) reuses its answers instead of solving again.
        answers: dict[tuple, dict[str, float]] = {}
        for trainer_name in args.trainers:
            started = time.process_time()
            with tempfile.TemporaryDirectory() as tmp:
                tokenizer = TRAINERS[trainer_name](documents, args.merges, Path(tmp))
            scores.setdefault(f"{trainer_name} train cpu", []).append(time.process_time() - started)
            merges = tuple(tokenizer.merges)
            if merges in answers:
                scores.setdefault(f"{trainer_name} same merges", []).append(1.0)
            else:
                found = {}
                for size, held_out in samples_by_size.items():
                    result = infer_mixture(tokenizer, held_out, engine="serial")
                    found[str(size)] = log_mse(np.array([result.proportions[c] for c in chosen]), truth)
                if args.own:
                    own = infer_mixture(tokenizer, training, engine="serial")
                    found["own"] = log_mse(np.array([own.proportions[c] for c in chosen]), truth)
                answers[merges] = found
            for column, score in answers[merges].items():
                scores.setdefault(f"{trainer_name} {column}", []).append(score)
        shown = [k for k in scores if not k.startswith(("bytes", "training")) and "cpu" not in k]
        line = "  ".join(f"{k}={scores[k][-1]:.2f}" for k in shown)
        print(f"  {label} trial {trial + 1}/{args.trials} (training {sizes.sum() / 1e6:.2f} MB): {line}", flush=True)
    return scores


def mean_and_error(values: list[float]) -> tuple[float, float]:
    """Mean and its standard error (sample standard deviation / sqrt(count))."""
    array = np.asarray(values, dtype=np.float64)
    error = float(array.std(ddof=1) / np.sqrt(len(array))) if len(array) > 1 else float("nan")
    return float(array.mean()), error


def language_categories(with_lo_help: bool, smallest: int) -> dict[str, list[Path]]:
    """Language -> its files: mono (at least ``smallest`` bytes), plus parallel/lo_help if asked."""
    categories = {}
    for path in sorted((DATA / "mono").glob("*.txt")):
        if path.stat().st_size < smallest:
            continue
        help_text = DATA / "parallel" / "lo_help" / path.name
        if with_lo_help:
            if help_text.is_file():
                categories[path.stem] = [path, help_text]
        else:
            categories[path.stem] = [path]
    return categories


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--merges", type=int, default=1000)
    parser.add_argument("--train-bytes", type=int, default=1_500_000, help="training mixture size (UTF-8 bytes)")
    parser.add_argument("--sample-bytes", default="150000",
                        help="held-out sample per category (bytes); comma-separated sizes share a trial's tokenizer")
    parser.add_argument("--held-out-bytes", type=int, default=None,
                        help="held-out pool per category (default: the largest --sample-bytes; at most half of it)")
    parser.add_argument("--lo-help", action="store_true",
                        help="languages: add parallel/lo_help/<lang>.txt to mono (only languages that have both)")
    parser.add_argument("--ns", default="5,10,30", help="numbers of languages")
    parser.add_argument("--trainers", default="tokensmith,hf")
    parser.add_argument("--no-code", action="store_true")
    parser.add_argument("--own", action="store_true", help="also infer from the training text itself")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.trainers = args.trainers.split(",")
    args.sample_bytes = [int(size) for size in args.sample_bytes.split(",")]
    if args.held_out_bytes is None:
        args.held_out_bytes = max(args.sample_bytes)
    if not DATA.is_dir():
        raise SystemExit(f"needs ../shared/data beside the repository ({DATA} is missing)")
    rng = np.random.default_rng(args.seed)
    languages = language_categories(args.lo_help, 400_000)
    code = {path.stem: [path] for path in sorted((DATA / "domain").glob("code_*.txt"))}
    settings = [(f"languages n={n}", languages, int(n)) for n in args.ns.split(",") if n]
    if not args.no_code:
        settings.append(("code n=5", code, 5))
    started, cpu = time.perf_counter(), time.process_time()
    table = []
    for label, categories, n in settings:
        table.append((label, run_setting(label, categories, n, args, rng)))
    for label, scores in table:
        shared = {k: v for k, v in scores.items() if k.endswith("same merges")}
        if shared:
            names = ", ".join(k.split()[0] for k in shared)
            print(f"{label}: {names} learned the same merges as an earlier trainer in "
                  f"{100 * len(next(iter(shared.values()))) / args.trials:.0f}% of the trials (answer reused)")
    print(f"\nmean log10 MSE ± standard error over {args.trials} trials; {args.merges} merges, training mix <= "
          f"{args.train_bytes:,} B, held-out pool <= {args.held_out_bytes:,} B/category"
          f"{' (mono + lo_help)' if args.lo_help else ''} ({time.perf_counter() - started:.0f} s wall, "
          f"{time.process_time() - cpu:.0f} s CPU)")
    columns = [f"{t} {size}" for t in args.trainers for size in args.sample_bytes]
    columns += [f"{t} own" for t in args.trainers] if args.own else []
    columns.append("random")
    print(f"{'setting':<16}{'train MB':>9}" + "".join(f"{c:>20}" for c in columns) + f"{'paper':>8}{'paper rnd':>10}")
    for label, scores in table:
        cells = []
        for column in columns:
            if column in scores:
                mean, error = mean_and_error(scores[column])
                cells.append(f"{mean:>12.2f} ± {error:<5.2f}")
            else:
                cells.append(f"{'-':>20}")
        paper, paper_random = PAPER.get(label, float("nan")), PAPER_RANDOM.get(label, float("nan"))
        print(f"{label:<16}{np.mean(scores['training bytes']) / 1e6:>9.2f}" + "".join(cells)
              + f"{paper:>8.2f}{paper_random:>10.2f}")
    print("held-out bytes actually used per category (mean over trials and categories): "
          + ", ".join(f"{size:,} -> {np.mean([np.mean(s[f'bytes {size}']) for _, s in table]):,.0f}"
                      for size in args.sample_bytes))
    for trainer in args.trainers:
        print(f"{trainer} training CPU per trial: "
              + ", ".join(f"{label} {np.mean(s[f'{trainer} train cpu']):.1f} s" for label, s in table))


if __name__ == "__main__":
    main()
