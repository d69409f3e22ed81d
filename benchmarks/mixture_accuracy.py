"""Mixture-inference accuracy in the paper's controlled setting (Hayase et al. 2024, Table 1).

For n = 5, 10, 30 languages (../shared/data/mono) and for the 5 programming languages
(../shared/data/domain/code_*.txt): draw proportions from a flat Dirichlet, train a byte-level BPE on
that mixture (tokensmith's trainer and HF tokenizers' BpeTrainer), then infer the mixture from
*held-out* sample text of each category (every file is cut into ~4 KB documents; even documents are
the training pool, odd ones the inference pool) and report the mean log10 MSE over the trials, next to
the paper's figures and a random guess (a flat Dirichlet draw). ``--own`` adds a column where the
samples are the tokenizer's own training text (the LP should then be near exact).

Sizes are modest (the paper: 1 GB samples, 30,000 merges, 100 trials), so the held-out error is much
higher than the paper's; it shrinks as ``--sample-bytes`` grows.

    .venv/bin/python benchmarks/mixture_accuracy.py --trials 10 --merges 1000
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


def split_pools(path: Path) -> tuple[list[str], list[str]]:
    """Even ~4 KB documents for training, odd ones held out for inference."""
    from tokensmith.mixture.samples import iter_category_documents

    documents = [doc for doc in iter_category_documents(path) if doc.strip()]
    return documents[0::2], documents[1::2]


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


def run_setting(label: str, files: list[Path], n: int, args, rng: np.random.Generator) -> dict[str, list[float]]:
    from tokensmith.mixture import infer_mixture

    pools = {}
    scores: dict[str, list[float]] = {"random": []}
    for trial in range(args.trials):
        chosen = [files[i] for i in sorted(rng.choice(len(files), size=n, replace=False))]
        for path in chosen:
            if path not in pools:
                pools[path] = split_pools(path)
        share = rng.dirichlet(np.ones(n))
        # shrink the training budget so every language's share fits in its training pool
        budget = min(args.train_bytes, *(0.95 * utf8_size(pools[p][0]) / s for p, s in zip(chosen, share, strict=True)))
        training = {p.stem: take(pools[p][0], int(s * budget), seed=trial) for p, s in zip(chosen, share, strict=True)}
        sizes = np.array([utf8_size(docs) for docs in training.values()], dtype=np.float64)
        truth = sizes / sizes.sum()
        held_out = {p.stem: take(pools[p][1], args.sample_bytes, seed=trial) for p in chosen}
        documents = [doc for docs in training.values() for doc in docs]
        random_guesses = rng.dirichlet(np.ones(n), size=1000)
        scores["random"].append(float(np.mean([log_mse(g, truth) for g in random_guesses])))
        # Same merges and pre-tokenization give the same LP: a trainer that reproduces another's merges
        # (tokensmith's bpe matches HF's BpeTrainer) reuses its answer instead of solving again.
        answers: dict[tuple, tuple[float, float | None]] = {}
        for trainer_name in args.trainers:
            with tempfile.TemporaryDirectory() as tmp:
                tokenizer = TRAINERS[trainer_name](documents, args.merges, Path(tmp))
                merges = tuple(tokenizer.merges)
                if merges not in answers:
                    result = infer_mixture(tokenizer, held_out, engine="serial")
                    held_out_score = log_mse(np.array([result.proportions[name] for name in training]), truth)
                    own_score = None
                    if args.own:
                        own = infer_mixture(tokenizer, training, engine="serial")
                        own_score = log_mse(np.array([own.proportions[name] for name in training]), truth)
                    answers[merges] = (held_out_score, own_score)
                else:
                    scores.setdefault(f"{trainer_name} same merges", []).append(1.0)
                held_out_score, own_score = answers[merges]
                scores.setdefault(trainer_name, []).append(held_out_score)
                if own_score is not None:
                    scores.setdefault(f"{trainer_name} own", []).append(own_score)
        line = "  ".join(f"{k}={v[-1]:.2f}" for k, v in scores.items())
        print(f"  {label} trial {trial + 1}/{args.trials}: {line}", flush=True)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--merges", type=int, default=1000)
    parser.add_argument("--train-bytes", type=int, default=1_500_000, help="training mixture size (UTF-8 bytes)")
    parser.add_argument("--sample-bytes", type=int, default=150_000, help="held-out sample per category")
    parser.add_argument("--ns", default="5,10,30", help="numbers of languages")
    parser.add_argument("--trainers", default="tokensmith,hf")
    parser.add_argument("--no-code", action="store_true")
    parser.add_argument("--own", action="store_true", help="also infer from the training text itself")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.trainers = args.trainers.split(",")
    if not DATA.is_dir():
        raise SystemExit(f"needs ../shared/data beside the repository ({DATA} is missing)")
    rng = np.random.default_rng(args.seed)
    languages = sorted(p for p in (DATA / "mono").glob("*.txt") if p.stat().st_size >= 400_000)
    code = sorted((DATA / "domain").glob("code_*.txt"))
    settings = [(f"languages n={n}", languages, int(n)) for n in args.ns.split(",") if n]
    if not args.no_code:
        settings.append(("code n=5", code, 5))
    started = time.perf_counter()
    table = []
    for label, files, n in settings:
        scores = run_setting(label, files, n, args, rng)
        table.append((label, {k: float(np.mean(v)) for k, v in scores.items()}))
    columns = [*args.trainers, *([f"{t} own" for t in args.trainers] if args.own else []), "random"]
    for label, means in table:
        shared = {k: v for k, v in means.items() if k.endswith("same merges")}
        if shared:
            names = ", ".join(k.split()[0] for k in shared)
            print(f"{label}: {names} learned the same merges as an earlier trainer in "
                  f"{100 * next(iter(shared.values())):.0f}% of the trials where it ran (answer reused)")
    print(f"\nmean log10 MSE over {args.trials} trials; {args.merges} merges, training mix <= {args.train_bytes:,} B, "
          f"held-out samples {args.sample_bytes:,} B/category ({time.perf_counter() - started:.0f} s)")
    header = f"{'setting':<16}" + "".join(f"{c:>16}" for c in columns) + f"{'paper':>10}{'paper rnd':>10}"
    print(header)
    for label, means in table:
        row = f"{label:<16}" + "".join(f"{means.get(c, float('nan')):>16.2f}" for c in columns)
        paper, paper_random = PAPER.get(label, float("nan")), PAPER_RANDOM.get(label, float("nan"))
        print(row + f"{paper:>10.2f}{paper_random:>10.2f}")


if __name__ == "__main__":
    main()
