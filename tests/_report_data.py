"""Results documents for the report tests: real measurements, and schema-shaped generated sections.

``real_measure_results`` runs ``tokensmith.measure`` on a few lines of the team's parallel corpus
(cached per test session: loading the reference tokenizers is the slow part). The generators build
sections of the documented shapes (``tokensmith.report.data``) for the commands that are not
written yet (train, transplant, vocab, mixture) and for size tests at scale.
"""

from __future__ import annotations

import functools
import hashlib
import random
from pathlib import Path
from typing import Any

from tokensmith.metrics import METRICS
from tokensmith.results import new_results

#: Tokenizers of the real measurement: three byte-level BPEs and a SentencePiece model with byte fallback.
REAL_TOKENIZERS = ("o200k", "gpt2", "deepseek-v4", "mistral-v3-sp")
REAL_LANGS = ("en", "ja", "ru", "hi", "th")
REAL_LINES = 40


@functools.lru_cache(maxsize=1)
def _real_measure_section(shared_data: Path) -> dict[str, Any]:
    import tempfile

    from tokensmith.measure import MeasureConfig, measure

    with tempfile.TemporaryDirectory(prefix="report-test-") as work_dir:
        parallel = Path(work_dir) / "parallel"
        parallel.mkdir()
        for lang in REAL_LANGS:
            lines = (shared_data / "parallel" / f"{lang}.txt").read_text(encoding="utf-8").splitlines()[:REAL_LINES]
            (parallel / f"{lang}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return measure(MeasureConfig(tokenizers=REAL_TOKENIZERS, parallel=str(parallel))).section()


def real_measure_results(shared_data: Path) -> dict[str, Any]:
    """A results document from a real ``measure`` run (a fresh copy each call; the run is cached)."""
    import copy

    section = _real_measure_section(shared_data)
    return new_results("measure", {"tokenizers": list(REAL_TOKENIZERS)}, {"measure": copy.deepcopy(section)})


# -- generated sections ---------------------------------------------------------------------------
#: Code point ranges to draw words from, per script, so generated sentences span 1- to 4-byte UTF-8.
SCRIPTS = {
    "Latin": [(0x61, 0x7A), (0xE0, 0xFF)],
    "Cyrillic": [(0x430, 0x44F)],
    "Arabic": [(0x627, 0x64A)],
    "Devanagari": [(0x915, 0x939), (0x93E, 0x94C)],
    "Han": [(0x4E00, 0x9FA5)],
    "Thai": [(0xE01, 0xE2E)],
    "Hangul": [(0xAC00, 0xD7A3)],
    "Emoji": [(0x1F600, 0x1F64F)],
}


def generated_sentence(rng: random.Random, script: str, chars: int) -> str:
    ranges = SCRIPTS[script]
    out: list[str] = []
    while len(out) < chars:
        low, high = rng.choice(ranges)
        out.extend(chr(rng.randint(low, high)) for _ in range(rng.randint(2, 8)))
        out.append(rng.choice(" \n\t") if rng.random() < 0.05 else " ")
    return "".join(out[:chars])


def generated_tokens(rng: random.Random, text: str, vocab: int) -> list[list[Any]]:
    """Cut the UTF-8 bytes of ``text`` into 1-6 byte pieces (some split characters, like byte-level BPE)."""
    data = text.encode("utf-8")
    tokens, start = [], 0
    while start < len(data):
        size = rng.randint(1, 6)
        tokens.append([rng.randrange(vocab), data[start:start + size].hex()])
        start += size
    return tokens


def generated_measure_section(
    n_langs: int, n_tokenizers: int, *, sentences: int = 3, sentence_chars: int = 240, seed: int = 0,
    tokenizer_prefix: str = "tok", extra_sentences: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """A ``measure`` section of the documented shape: every registered metric, samples for the viewer.

    Values are random but plausible; ``extra_sentences`` (lang -> sentences) are added to the samples.
    """
    rng = random.Random(seed)
    scripts = list(SCRIPTS)
    langs = [f"l{i:02d}" for i in range(n_langs)]
    names = [f"{tokenizer_prefix}{i}" for i in range(n_tokenizers)]
    tokenizers = [
        {"name": name, "format": "tokenizer.json", "model": "bpe", "byte_level": True, "vocab_size": 32000 + 1000 * i,
         "backend": "tokenizers", "sources": [f"/models/{name}/tokenizer.json"],
         "sha256": hashlib.sha256(name.encode()).hexdigest()}
        for i, name in enumerate(names)
    ]
    corpora = [
        {"name": lang, "lang": lang, "parallel_group": "parallel", "documents": 100, "bytes": 10000 + i,
         "sources": [f"/corpus/{lang}.txt"], "sha256": hashlib.sha256(lang.encode()).hexdigest()}
        for i, lang in enumerate(langs)
    ]
    records, cells = [], []
    for name in names:
        for lang in langs:
            cells.append({"tokenizer": name, "corpus": lang, "lang": lang, "parallel_group": "parallel",
                          "documents": 100, "bytes": 10000, "tokens": rng.randint(1500, 9000), "unk_tokens": 0,
                          "byte_fallback_tokens": 0})
            for metric in METRICS.names():
                spec = METRICS.get(metric)
                if spec.scope != "cell" or metric == "nsl":
                    continue
                value = None if metric == "fertility" and lang == langs[-1] else round(rng.uniform(0.1, 6), 6)
                records.append({"tokenizer": name, "corpus": lang, "lang": lang, "metric": metric, "value": value,
                                "unit": spec.unit, "higher_is_better": spec.higher_is_better,
                                "params": dict(spec.params), "reason": "no word segmenter" if value is None else None})
        for metric in ("parity_gini", "tokens_per_byte_gini"):
            spec = METRICS.get(metric)
            records.append({"tokenizer": name, "corpus": "parallel", "lang": None, "metric": metric,
                            "value": round(rng.uniform(0.05, 0.4), 6), "unit": spec.unit,
                            "higher_is_better": spec.higher_is_better, "params": {}, "reason": None})
    samples = []
    for index, lang in enumerate(langs):
        script = scripts[index % len(scripts)]
        texts = [generated_sentence(rng, script, sentence_chars) for _ in range(sentences)]
        texts += (extra_sentences or {}).get(lang, [])
        samples.append({"corpus": lang, "lang": lang, "sentences": texts,
                        "tokens": {n: [generated_tokens(rng, t, 32000) for t in texts] for n in names}})
    return {"tokenizers": tokenizers, "corpora": corpora, "records": records, "cells": cells, "samples": samples,
            "seconds": 1.5, "peak_rss_mb": 100.0}


def train_section(tokenizer: str = "trained-bpe", bytes_per_token: float = 4.4) -> dict[str, Any]:
    return {"summary": {"algorithm": "bpe", "vocab_size": 32000, "seconds": 41.2, "bytes_per_token": bytes_per_token,
                        "tokenizer": tokenizer, "corpus": "mono/ta.txt", "held_out_bytes": 120000}}


def transplant_section(model: str = "smollm2-135m") -> dict[str, Any]:
    return {"model": model, "tokenizer": "trained-bpe", "eval_corpus": "held-out ta",
            "rows": [{"method": "original", "bpb": 2.0, "tokens_per_byte": 0.45},
                     {"method": "mean", "bpb": 2.6, "tokens_per_byte": 0.25},
                     {"method": "omp", "bpb": 2.2, "tokens_per_byte": 0.25, "seconds": 12.0}]}


def vocab_section(tokenizers: list[str]) -> dict[str, Any]:
    """A ``vocab`` section shaped like ``build_vocab_section``'s (percentages 0-100)."""
    return {
        "tokenizers": {
            name: {"composition": {
                "vocab_size": 50000 + i, "tokens": 50000 + i,
                "script_percent": {"Latin": 60.0 - 10 * i, "Cyrillic": 10.0, "Han": 5.0 + 10 * i, "Common": 20.0},
                "kind_percent": {"alphabetic": 90.0, "numeric": 4.0, "punctuation": 5.0, "byte_fallback": 0.5},
                "position_percent": {"word_initial": 60.0, "inner": 39.0, "n/a": 1.0},
            }}
            for i, name in enumerate(tokenizers)
        },
        "overlap": [{"a": a, "b": b, "shared": 1000, "union": 90000, "jaccard": 1000 / 90000}
                    for j, a in enumerate(tokenizers) for b in tokenizers[j + 1:]],
    }


@functools.lru_cache(maxsize=1)
def real_vocab_section(names: tuple[str, ...] = ("gpt2", "mistral-v3-sp")) -> dict[str, Any]:
    """The ``vocab`` section as the vocab command builds it, for two small reference vocabularies."""
    from tokensmith.metrics.vocab_section import build_vocab_section
    from tokensmith.tokenizers import load_tokenizer

    return build_vocab_section([load_tokenizer(name) for name in names], undertrained=False)


def mixture_section(tokenizers: list[str]) -> dict[str, Any]:
    """A ``mixture`` section shaped like the one ``tokensmith mixture --out`` writes (the first tokenizer)."""
    shares = {"en": 0.5, "code": 0.2, "zh": 0.1, "ru": 0.2}
    return {"tokenizer": tokenizers[0], "merges_used": 1000,
            "categories": [{"name": c, "proportion": p, "alpha": p, "sample_bytes": 1000} for c, p in shares.items()]}


def ensemble_section() -> dict[str, Any]:
    """An ``ensemble`` section shaped like ``EnsembleResult.as_dict``."""
    member = {"p_actual": 0.2, "top": {"byte": "e", "p": 0.6}}
    return {"members": ["smollm2-135m", "smollm2-tr"], "weights": [0.5, 0.5], "bytes": 400, "documents": 2,
            "bpb": {"smollm2-135m": 1.31, "smollm2-tr": 1.52, "ensemble": 1.29}, "seconds": 30.0,
            "mean_js_divergence_bits": 0.04,
            "top_disagreements": [{"byte_offset": 17, "js_bits": 0.61, "before": "the vill", "actual": "a",
                                   "after": "ge green", "document": 1,
                                   "members": {"smollm2-135m": member, "smollm2-tr": member}}]}


def results_doc(sections: dict[str, Any], command: str = "test") -> dict[str, Any]:
    return new_results(command, {"generated": True}, sections)
