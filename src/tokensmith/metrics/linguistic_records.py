"""Lexicon and morphology figures as measure records (``measure --lexicon DIR --morph FILE``).

%valid/%pure need token bytes and a lexicon, and MorphScore needs gold segmentations, neither of
which a :class:`~tokensmith.metrics.TokenStats` cell carries; this module computes them beside the
registry and emits records of the same shape (:data:`~tokensmith.metrics.RECORD_FIELDS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

BAYRAM_2025 = "Bayram et al. 2025, Tokenization Standards for Linguistic Integrity (arXiv:2502.07057)"
ARNETT_2024 = (
    "Arnett & Bergen 2025, Why do language models perform worse for morphologically complex languages? "
    "(MorphScore)"
)


def _record(tokenizer: str, corpus: str, lang: str | None, metric: str, value: float | None, unit: str,
            higher: bool | None, params: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
    return {"tokenizer": tokenizer, "corpus": corpus, "lang": lang, "metric": metric, "value": value,
            "unit": unit, "higher_is_better": higher, "params": params, "reason": reason}


def lexicon_records(cells: Sequence[Any], tokenizers: Sequence[Any], lexicon_dir: str | None,
                    morph_file: str | None) -> list[dict[str, Any]]:
    """%valid (and %pure, from the morphs of ``morph_file``) per cell whose language has a lexicon,
    over unique tokens and over occurrences; MorphScore and boundary P/R/F1 per tokenizer."""
    from tokensmith.metrics.lexicon import lexicon_files, lexicon_metric_values, read_lexicon

    by_name = {t.name: t for t in tokenizers}
    records: list[dict[str, Any]] = []
    lexicons: dict[str, Any] = {}
    if lexicon_dir is not None:
        directory = Path(lexicon_dir)
        available = {directory.stem: [directory]} if directory.is_file() else lexicon_files(directory)
        wanted = {c.lang for c in cells if c.lang in available}
        from tokensmith.metrics.lexicon import load_lexicon_dir

        lexicons = load_lexicon_dir(directory, langs=sorted(wanted)) if wanted else {}
    morphemes = read_lexicon(morph_file, kind="morphemes") if morph_file is not None else None
    for stats in cells:
        token_bytes = by_name[stats.tokenizer].all_token_bytes
        chosen = [lexicons.get(stats.lang)]
        if morphemes is not None and stats.lang == morphemes.lang:
            chosen.append(morphemes)
        for lexicon in filter(None, chosen):
            params = {"lexicon": ",".join(lexicon.sources)}
            for metric, value in lexicon_metric_values(stats, token_bytes, lexicon).items():
                records.append(_record(stats.tokenizer, stats.corpus, stats.lang, metric, value.value, "fraction",
                                       True, params, value.reason))
    if morph_file is not None:
        records.extend(morph_records(tokenizers, morph_file))
    return records


def morph_records(tokenizers: Sequence[Any], morph_file: str) -> list[dict[str, Any]]:
    from tokensmith.metrics.morphology import morph_score, read_segmentations

    segmentations = read_segmentations(morph_file)
    lang = Path(morph_file).stem
    corpus = f"morph:{Path(morph_file).name}"
    records = []
    for tokenizer in tokenizers:
        scores = morph_score(tokenizer, segmentations)
        params = {"gold": str(morph_file), "aligned_words": scores["aligned_words"]}
        for metric in ("morph_score", "boundary_precision", "boundary_recall", "boundary_f1"):
            value = scores[metric]
            records.append(_record(tokenizer.name, corpus, lang, metric, value, "fraction", True, params,
                                   None if value is not None else "no word could be aligned"))
    return records
