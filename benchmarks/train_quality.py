"""Training quality: ``superword``, ``parity`` and ``extend`` against classic ``bpe`` on the same text, held out.

Issue 3's goals, with vocabularies of the same size trained on the same ~100 MB and measured on held-out text:
``superword`` gives 8% or more bytes/token than ``bpe``; ``parity`` lowers the Gini of the languages' token
premiums on held-out parallel lines by 30% or more while losing at most 3% of global bytes/token; ``extend``
keeps 100% of the base's ids and improves bytes/token on the new domain.

Data (../shared/data), split deterministically:

* ``parallel/<lang>.txt``: 31 line-aligned languages (UDHR + LibreOffice UI strings). Lines empty in some
  language are dropped; every ``--holdout-every``-th aligned line is held out; the other aligned lines are
  training text *and* the parity dev set.
* ``mono/<lang>.txt``: all 81 languages (``--mono parallel``: only the 31 parallel ones), each capped at
  1 MB by the data set; every ``--mono-holdout-every``-th non-empty line is held out.
* ``domain/*.txt`` (legal, legal_ko, biomedical, code_*; off with ``--no-domain``): held out the same way.
* Exact-line decontamination: a training line equal to any held-out line of any file (short UI strings
  such as ``OK`` or ``PDF`` in another language, ``}`` in code, man-page boilerplate) is dropped from the
  training text, so no held-out line is ever training text. The dev set, which must stay aligned, keeps
  only the aligned training lines that are clean in every language.

About 91 MB of training text by default (of 99.6 MB in those files; printed), 32 MB with
``--mono parallel --no-domain``.

Trainers (``--variants``; the same pre-tokenizer and min_frequency; bpe is the baseline, always run):

* ``bpe``: classic byte-level BPE on all the training text pooled.
* ``superword``: ``SuperwordTrainer`` with its defaults (``bpe`` to t = 0.9 V, then merges across spaces);
  ``superword-t0.8`` and ``superword-t0.5`` (t = 0.8 V, 0.5 V: two and five times the cross-space merges)
  are not run by default.
* ``parity``: ``ParityTrainer`` with its defaults (half the merges global, then the moving-window rule,
  window 100, alpha 2). Its languages are the 31 parallel ones, each with its training parallel lines, its
  mono file and (Korean) legal_ko; the dev set is their training parallel lines (those clean in every
  language). The trainer needs dev text
  for every language it trains, so the text of the other 50 mono languages and the domain files goes in
  as one pseudo-language whose dev segments are empty: a dev set of length 0 is never the longest, so it
  never chooses a parity merge, while its text counts in the global merges and every merge applies to it -
  training text only. One pseudo-language rather than 50 keeps the window quota floor(alpha W / L) what
  it is for the 31 real languages (6); with L = 81 it would fall to 2 and, once the real languages filled
  their quotas, the empty-dev languages would choose. The table shows the merges it chose (0 expected).
* ``parity-pure`` (``global_share=0, variant="base"``) and ``parity-hybrid-base`` (``variant="base"``):
  not run by default.
* ``extend``: the new-domain case. ``bpe-no-domain`` learns a ``--vocab-size`` base from the training text
  without the domain files; ``ExtendTrainer`` appends ``--extend-tokens`` tokens learnt on the domain
  training text. Checked: every base token keeps its id and the base merges are the prefix of the
  extended merges. Needs the domain files.

Figures, per trainer: bytes/token (Σ UTF-8 bytes / Σ tokens) on all held-out text and on its parts
(parallel, mono, domain; each domain family); the Gini of the 31 premiums (a language's tokens on the
held-out parallel lines over English's; ``tokensmith.metrics.corpus_metrics.gini``; 0 = every language
pays the same for the same content); relative changes against ``bpe`` and the goal checks; wall and CPU
time (user+sys of this process and its reaped counting workers) of each training. Held-out text is encoded
by each result's tokenizer.json through HF ``tokenizers`` (superword's stage-2 pre-tokenizer has no
tiktoken form). All trainings run before any encoding, because HF's thread pool must not exist when the
counting engine forks.

Runtime on 2 shared cores (load 2-4) at 32k with the default variants: about 4-6 minutes (each training
12-110 s, superword the longest; encoding the held-out text 3-9 s per tokenizer).

    .venv/bin/python benchmarks/train_quality.py                    # ~93 MB, bpe superword parity extend
    .venv/bin/python benchmarks/train_quality.py --mono parallel --no-domain --variants bpe,parity,parity-pure
    .venv/bin/python benchmarks/train_quality.py --vocab-size 8000 --langs en,de,ru,ja --variants bpe,superword
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SUPERWORD_GOAL = 0.08  # relative change of bytes/token on all held-out text: at least this much higher
GINI_GOAL = -0.30  # relative change of the Gini of premiums: at least this much lower
BYTES_GOAL = -0.03  # relative change of global bytes/token: no worse than this
REFERENCE_LANG = "en"
#: parity's pseudo-language for the text of languages outside the dev set (see the module docstring).
TRAINING_ONLY = "(training only)"


def log(message: str) -> None:
    print(message, flush=True)


def utf8_size(lines: list[str]) -> int:
    return sum(len(line.encode("utf-8")) for line in lines)


@dataclass
class Source:
    """One file's training and held-out lines.

    Args:
        kind: ``parallel``, ``mono`` or ``domain``.
        name: the file's stem (a language tag, or a domain file name).
        parity_lang: the language ``parity`` trains it as (a parallel language or :data:`TRAINING_ONLY`).
    """

    kind: str
    name: str
    parity_lang: str
    train: list[str]
    held: list[str]
    dropped_lines: int = 0  # training lines dropped as copies of held-out lines
    dropped_bytes: int = 0

    @property
    def family(self) -> str:
        """For domain files, the domain (``code_rust`` -> ``code``, ``legal_ko`` -> ``legal``)."""
        return self.name.split("_")[0]


@dataclass
class Split:
    sources: list[Source]
    dev: dict[str, list[str]]

    def of_kind(self, *kinds: str) -> list[Source]:
        return [source for source in self.sources if source.kind in kinds]

    def training_lines(self, *kinds: str) -> Iterator[str]:
        for source in self.of_kind(*(kinds or ("parallel", "mono", "domain"))):
            yield from source.train


def _held_every(lines: list[str], every: int) -> tuple[list[str], list[str]]:
    """(training, held-out): every ``every``-th line is held out."""
    held = lines[every - 1::every]
    return [line for k, line in enumerate(lines) if k % every != every - 1], held


def build_split(langs: list[str] | None, holdout_every: int, mono_holdout_every: int, all_mono: bool,
                domain: bool) -> Split:
    """Read ../shared/data and split it (see the module docstring); deterministic."""
    parallel = {path.stem: path.read_text(encoding="utf-8").split("\n")
                for path in sorted((DATA / "parallel").glob("*.txt"))}
    if langs:
        unknown = sorted(set(langs) - set(parallel))
        if unknown:
            raise SystemExit(f"no parallel text for {unknown}; choose from {sorted(parallel)}")
        parallel = {lang: parallel[lang] for lang in langs}
    n_lines = min(len(lines) for lines in parallel.values())
    aligned = [i for i in range(n_lines) if all(lines[i].strip() for lines in parallel.values())]
    held_index = {i for k, i in enumerate(aligned) if k % holdout_every == holdout_every - 1}

    unaligned: list[Source] = []
    for kind, paths in (("mono", sorted((DATA / "mono").glob("*.txt"))),
                        ("domain", sorted((DATA / "domain").glob("*.txt")) if domain else [])):
        for path in paths:
            if kind == "mono" and not all_mono and path.stem not in parallel:
                continue
            lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            lang = "ko" if path.stem == "legal_ko" else path.stem if kind == "mono" else ""
            train, held = _held_every(lines, mono_holdout_every)
            unaligned.append(Source(kind, path.stem, lang if lang in parallel else TRAINING_ONLY, train, held))

    held_text = {lines[i] for i in held_index for lines in parallel.values()}
    held_text.update(line for source in unaligned for line in source.held)
    train_index = [i for i in aligned if i not in held_index]
    # The dev set must stay aligned, so it keeps only the lines that are clean in every language.
    dev_index = [i for i in train_index if not any(lines[i] in held_text for lines in parallel.values())]
    dev = {lang: [lines[i] for i in dev_index] for lang, lines in parallel.items()}
    sources = [Source("parallel", lang, lang, [lines[i] for i in train_index],
                      [lines[i] for i in aligned if i in held_index]) for lang, lines in parallel.items()]
    for source in sources + unaligned:
        clean = [line for line in source.train if line not in held_text]
        source.dropped_lines = len(source.train) - len(clean)
        source.dropped_bytes = utf8_size(source.train) - utf8_size(clean)
        source.train = clean
    return Split(sources + unaligned, dev)


def _bpe(split: Split, settings: dict, trained: dict):
    from tokensmith.train import BpeTrainer

    return BpeTrainer(**settings).train(split.training_lines())


def _bpe_without_domain(split: Split, settings: dict, trained: dict):
    from tokensmith.train import BpeTrainer

    return BpeTrainer(**settings).train(split.training_lines("parallel", "mono"))


def _superword(transition_share: float | None = None) -> Callable:
    def train(split: Split, settings: dict, trained: dict):
        from tokensmith.train import SuperwordTrainer

        transition = None if transition_share is None else int(transition_share * settings["vocab_size"])
        return SuperwordTrainer(**settings, transition=transition).train(split.training_lines())

    return train


def _parity(**options) -> Callable:
    def train(split: Split, settings: dict, trained: dict):
        from tokensmith.train import ParityTrainer

        documents: dict[str, list[str]] = {}
        for source in split.sources:
            documents.setdefault(source.parity_lang, []).extend(source.train)
        dev = dict(split.dev)
        if TRAINING_ONLY in documents:
            dev[TRAINING_ONLY] = [""] * len(next(iter(split.dev.values())))
        return ParityTrainer(**settings, **options).train(documents, dev_documents=dev)

    return train


def _extend(split: Split, settings: dict, trained: dict):
    from tokensmith.train import ExtendTrainer

    base = trained["bpe-no-domain"]
    with tempfile.TemporaryDirectory() as directory:
        base_path = Path(directory) / "tokenizer.json"
        base_path.write_text(base.to_tokenizer_json(), encoding="utf-8")
        trainer = ExtendTrainer(base=str(base_path), vocab_size=settings["vocab_size"] + settings["extend_tokens"],
                                min_frequency=settings["min_frequency"])
        return trainer.train(split.training_lines("domain"))


#: Trainers by name (``--variants``), in the order they run; each gets the split, the settings and the
#: results so far (``extend`` extends ``bpe-no-domain``'s).
VARIANTS: dict[str, Callable] = {
    "bpe": _bpe,
    "superword": _superword(),
    "superword-t0.8": _superword(0.8),
    "superword-t0.5": _superword(0.5),
    "parity": _parity(),
    "parity-pure": _parity(global_share=0.0, variant="base"),
    "parity-hybrid-base": _parity(variant="base"),
    "bpe-no-domain": _bpe_without_domain,
    "extend": _extend,
}
#: Variants that need another one first.
NEEDS = {"extend": "bpe-no-domain"}


def cpu_seconds() -> float:
    """User+sys CPU of this process and its reaped children (the counting workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(tokenizer_json: str, split: Split) -> dict:
    """Tokens and bytes of each held-out part, bytes/token of each, and the premiums with their Gini."""
    from tokenizers import Tokenizer

    from tokensmith.metrics.corpus_metrics import gini

    encoder = Tokenizer.from_str(tokenizer_json)

    def tokens(lines: list[str]) -> int:
        return sum(len(encoding.ids) for encoding in encoder.encode_batch(lines, add_special_tokens=False))

    parts: dict[str, tuple[int, int]] = {}  # part -> (tokens, bytes)

    def add(part: str, count: int, size: int) -> None:
        old_count, old_size = parts.get(part, (0, 0))
        parts[part] = (old_count + count, old_size + size)

    per_lang = {}
    for source in split.sources:
        count, size = tokens(source.held), utf8_size(source.held)
        if source.kind == "parallel":
            per_lang[source.name] = count
        detail = f"domain:{source.family}" if source.kind == "domain" else "non-domain"
        for part in ("all", source.kind, detail):
            add(part, count, size)
    reference = per_lang.get(REFERENCE_LANG) or min(per_lang.values())
    premiums = {lang: count / reference for lang, count in per_lang.items()}
    return {"bytes_per_token": {part: size / count for part, (count, size) in parts.items()},
            "premiums": premiums, "gini": gini(list(premiums.values()))}


def ids_kept(base_json: str, extended_json: str) -> dict:
    """How many of the base's ids the extended tokenizer keeps (same token, same id), and whether the base
    merges are the extended merges' prefix and the added tokens unchanged."""
    base, extended = json.loads(base_json), json.loads(extended_json)
    base_vocab, extended_vocab = base["model"]["vocab"], extended["model"]["vocab"]
    kept = sum(extended_vocab.get(token) == token_id for token, token_id in base_vocab.items())
    base_merges = base["model"]["merges"]
    return {"kept": kept, "base_ids": len(base_vocab), "new_ids": len(extended_vocab) - len(base_vocab),
            "merges_prefix": extended["model"]["merges"][:len(base_merges)] == base_merges,
            "added_tokens_same": extended.get("added_tokens") == base.get("added_tokens")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vocab-size", type=int, default=32000)
    parser.add_argument("--pretokenizer", default="o200k")
    parser.add_argument("--min-frequency", type=int, default=2)
    parser.add_argument("--variants", default="bpe,superword,parity,extend",
                        help=f"comma-separated, from {','.join(VARIANTS)}; bpe is the baseline (always run)")
    parser.add_argument("--langs", default="", help="comma-separated subset of the parallel languages (default all)")
    parser.add_argument("--holdout-every", type=int, default=4, help="hold out every N-th aligned parallel line")
    parser.add_argument("--mono-holdout-every", type=int, default=20,
                        help="hold out every N-th line of each mono and domain file")
    parser.add_argument("--mono", choices=("all", "parallel"), default="all",
                        help="mono files of all 81 languages, or only of the parallel languages")
    parser.add_argument("--domain", action=argparse.BooleanOptionalAction, default=True,
                        help="the domain files (legal, biomedical, code) as training and held-out text")
    parser.add_argument("--extend-tokens", type=int, default=8000, help="tokens extend appends to its base")
    parser.add_argument("--premiums", action="store_true", help="also print every language's premium")
    args = parser.parse_args()
    requested = ["bpe"] + [name.strip() for name in args.variants.split(",") if name.strip() not in ("", "bpe")]
    unknown = [name for name in requested if name not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; choose from {','.join(VARIANTS)}")
    names = [name for name in VARIANTS if name in requested or name in {NEEDS.get(n) for n in requested}]
    if not DATA.is_dir():
        raise SystemExit(f"{DATA} is absent: the benchmark needs the team's shared corpora")
    if args.holdout_every < 2 or args.mono_holdout_every < 2:
        raise SystemExit("--holdout-every and --mono-holdout-every must be 2 or more")
    if "extend" in names and not args.domain:
        raise SystemExit("extend learns the domain files as its new domain: drop --no-domain or the variant")

    run_started = time.perf_counter()
    split = build_split([x for x in args.langs.split(",") if x] or None, args.holdout_every,
                        args.mono_holdout_every, args.mono == "all", args.domain)
    describe(split, args)
    settings = {"vocab_size": args.vocab_size, "pretokenizer": args.pretokenizer,
                "min_frequency": args.min_frequency}
    from tokensmith.train import merge_core
    from tokensmith.train.parity import _compile_parity_kernels

    compile_s = merge_core.compile_kernels() + _compile_parity_kernels()
    log(f"numba kernels compiled or loaded from cache in {compile_s:.1f} s (untimed)")
    trained, results = {}, {}
    for name in names:
        wall, cpu = time.perf_counter(), cpu_seconds()
        variant_settings = {**settings, "extend_tokens": args.extend_tokens} if name == "extend" else settings
        trained[name] = VARIANTS[name](split, variant_settings, trained)
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        stats = trained[name].stats
        results[name] = {"wall": wall, "cpu": cpu, "vocab": trained[name].vocab_size,
                         "merges_by_language": getattr(stats, "merges_by_language", None)}
        log(f"  trained {name}: vocab {trained[name].vocab_size}, {wall:.1f} s wall, {cpu:.1f} s CPU (count "
            f"{stats.count_seconds:.1f} s, merges {stats.merge_seconds:.1f} s), load {os.getloadavg()[0]:.1f}")
    for name in names:
        started = time.perf_counter()
        results[name].update(measure(trained[name].to_tokenizer_json(), split))
        log(f"  encoded the held-out text with {name} in {time.perf_counter() - started:.1f} s")
    if "extend" in names:
        results["extend"]["ids"] = ids_kept(trained["bpe-no-domain"].to_tokenizer_json(),
                                            trained["extend"].to_tokenizer_json())
    print_tables(results, split, args)
    own, child = (resource.getrusage(who).ru_maxrss / 1024 for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    print(f"\ntotal {time.perf_counter() - run_started:.0f} s wall (reading and splitting, trainings, encoding); "
          f"peak RSS {own:,.0f} MB (this process), {child:,.0f} MB (largest counting worker)")


def describe(split: Split, args) -> None:
    """The corpus line: sizes of the training and held-out text by kind."""
    parts = []
    for kind in ("parallel", "mono", "domain"):
        sources = split.of_kind(kind)
        if sources:
            train_mb = sum(utf8_size(s.train) + len(s.train) for s in sources) / 1e6
            held_mb = sum(utf8_size(s.held) for s in sources) / 1e6
            dropped_mb = sum(s.dropped_bytes + s.dropped_lines for s in sources) / 1e6
            parts.append(f"{kind} {len(sources)} files: train {train_mb:.1f} MB ({dropped_mb:.2f} MB dropped as "
                         f"copies of held-out lines), held out {sum(len(s.held) for s in sources):,} lines / "
                         f"{held_mb:.2f} MB")
    total_mb = sum(utf8_size(s.train) + len(s.train) for s in split.sources) / 1e6
    log(f"training text {total_mb:.1f} MB (lines + newlines); " + "; ".join(parts))
    log(f"parity dev set {len(next(iter(split.dev.values())))} aligned lines "
        f"x {len(split.dev)} languages; vocab {args.vocab_size}, pre-tokenizer {args.pretokenizer}, "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")


def _change(value: float, base: float) -> float:
    return value / base - 1


def _cell(value: float, base: float, digits: int = 3) -> str:
    """A figure and its change against bpe's, 17 characters wide."""
    return f"{value:>8.{digits}f} ({_change(value, base):+6.1%})"


def print_tables(results: dict, split: Split, args) -> None:
    base = results["bpe"]
    parts = ["all", "parallel", "mono"] + (["domain"] if split.of_kind("domain") else [])
    families = sorted({f"domain:{s.family}" for s in split.of_kind("domain")})
    print("\nbytes/token on held-out text (change against bpe); Gini of the premiums on held-out parallel lines")
    print(f"{'trainer':<20}{'vocab':>7}" + "".join(f"{p:>17}" for p in parts)
          + f"{'Gini':>17}{'max prem':>10}{'wall s':>8}{'CPU s':>8}")
    for name, r in results.items():
        cells = "".join(_cell(r["bytes_per_token"][p], base["bytes_per_token"][p]) for p in parts)
        gini = _cell(r["gini"], base["gini"], digits=4)
        print(f"{name:<20}{r['vocab']:>7}{cells}{gini}{max(r['premiums'].values()):>10.3f}{r['wall']:>8.1f}"
              f"{r['cpu']:>8.1f}")
    if families:
        print("\nbytes/token per held-out domain")
        print(f"{'trainer':<20}" + "".join(f"{f.split(':')[1]:>17}" for f in families))
        for name, r in results.items():
            print(f"{name:<20}" + "".join(_cell(r["bytes_per_token"][f], base["bytes_per_token"][f])
                                          for f in families))
    print("\ngoals (issue 3), on held-out text, same vocab size and training text as bpe:")
    if "superword" in results:
        change = _change(results["superword"]["bytes_per_token"]["all"], base["bytes_per_token"]["all"])
        print(f"  superword: bytes/token {change:+.1%} against bpe (goal {SUPERWORD_GOAL:+.0%} or more): "
              f"{'met' if change >= SUPERWORD_GOAL else 'NOT met'}")
    for name in (n for n in results if n.startswith("parity")):
        gini_change = _change(results[name]["gini"], base["gini"])
        bytes_change = _change(results[name]["bytes_per_token"]["all"], base["bytes_per_token"]["all"])
        met = gini_change <= GINI_GOAL and bytes_change >= BYTES_GOAL
        chosen = (results[name]["merges_by_language"] or {}).get(TRAINING_ONLY)
        print(f"  {name}: Gini {gini_change:+.1%} (goal {GINI_GOAL:+.0%} or lower), global bytes/token "
              f"{bytes_change:+.1%} (goal {BYTES_GOAL:+.0%} or better): {'met' if met else 'NOT met'}"
              + (f"; merges chosen by the training-only text: {chosen}" if chosen is not None else ""))
    if "extend" in results:
        ids, before, after = results["extend"]["ids"], results["bpe-no-domain"], results["extend"]
        domain_change = _change(after["bytes_per_token"]["domain"], before["bytes_per_token"]["domain"])
        kept_all = ids["kept"] == ids["base_ids"] and ids["merges_prefix"] and ids["added_tokens_same"]
        print(f"  extend: ids kept {ids['kept']:,}/{ids['base_ids']:,} ({ids['kept'] / ids['base_ids']:.1%}), base "
              f"merges a prefix: {ids['merges_prefix']}, added tokens unchanged: {ids['added_tokens_same']}; "
              f"+{ids['new_ids']:,} tokens; held-out domain bytes/token {before['bytes_per_token']['domain']:.3f} -> "
              f"{after['bytes_per_token']['domain']:.3f} ({domain_change:+.1%}), non-domain (parallel+mono) "
              f"{before['bytes_per_token']['non-domain']:.3f} -> {after['bytes_per_token']['non-domain']:.3f}: "
              f"{'met' if kept_all and domain_change > 0 else 'NOT met'}")
    print(f"premiums relative to {REFERENCE_LANG}; vocab {args.vocab_size}, pre-tokenizer {args.pretokenizer}, "
          f"min_frequency {args.min_frequency}")
    if args.premiums:
        print("\npremiums (held-out tokens / en's)\n" + f"{'lang':<8}" + "".join(f"{n:>20}" for n in results))
        for lang in base["premiums"]:
            print(f"{lang:<8}" + "".join(f"{r['premiums'][lang]:>20.3f}" for r in results.values()))


if __name__ == "__main__":
    main()
