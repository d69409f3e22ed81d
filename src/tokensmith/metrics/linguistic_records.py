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
    from tokensmith.metrics.lexicon import Lexicon, lexicon_metric_values, load_lexicon_dir
    from tokensmith.metrics.morphology import read_segmentations

    by_name = {t.name: t for t in tokenizers}
    records: list[dict[str, Any]] = []
    lexicons: dict[str, Any] = {}
    if lexicon_dir is not None:
        wanted = {c.lang for c in cells} & set(lexicon_languages(lexicon_dir))
        lexicons = load_lexicon_dir(lexicon_dir, langs=sorted(wanted)) if wanted else {}
    morphemes = segmentations = None
    if morph_file is not None:  # the morphs of the gold segmentations, whatever the file is called
        segmentations = read_segmentations(morph_file)
        morphemes = Lexicon.from_words(morph_language(morph_file), sorted(segmentations.morphemes()),
                                       kind="morphemes", sources=(str(morph_file),))
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
        records.extend(morph_records(tokenizers, morph_file, segmentations))
    return records


def morph_records(tokenizers: Sequence[Any], morph_file: str, segmentations: Any) -> list[dict[str, Any]]:
    """MorphScore and boundary P/R/F1 per tokenizer on ``segmentations``, read from ``morph_file``."""
    from tokensmith.metrics.morphology import morph_score

    lang = morph_language(morph_file)
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


def lexicon_languages(lexicon_dir: str) -> list[str]:
    """The languages (canonical tags) of a ``--lexicon`` folder, or of one file by its name."""
    from tokensmith.corpus.language_tags import canonical_language
    from tokensmith.metrics.lexicon import lexicon_files

    directory = Path(lexicon_dir)
    return [canonical_language(directory.stem)] if directory.is_file() else sorted(lexicon_files(directory))


def morph_language(morph_file: str) -> str:
    """The language of a ``--morph`` file: its name's tag, canonical (``pt_BR.tsv`` is ``pt-BR``)."""
    from tokensmith.corpus.language_tags import canonical_language

    return canonical_language(Path(morph_file).stem)


def check_linguistic_inputs(lexicon_dir: str | None, morph_file: str | None, langs: Sequence[str | None]) -> None:
    """Refuse, before anything is measured, a ``--lexicon`` that gives no figure for these corpus languages and
    a ``--morph`` that is not one file.

    Raises:
        InputError: naming what the folder holds and what the corpora are.
    """
    from tokensmith.errors import InputError

    if morph_file is not None and not Path(morph_file).is_file():
        raise InputError(f"--morph {morph_file} is not a file",
                         "pass one gold segmentation file: word<TAB>morph morph..., named by its language (tr.tsv)")
    if lexicon_dir is None:
        return
    available = lexicon_languages(lexicon_dir)
    if not available:
        raise InputError(f"--lexicon {lexicon_dir} has no <lang>.txt or <lang>.dic file",
                         "name word lists by language tag, e.g. tr.txt, pt-BR.txt")
    measured = sorted({lang for lang in langs if lang})
    if not set(available) & set(measured):
        raise InputError(f"--lexicon {lexicon_dir} has word lists for {', '.join(available)} but the corpora are in "
                         f"{', '.join(measured) or 'no stated language'}: no %valid figure would come of it",
                         "name each word list by its corpus' language tag (pt_BR.txt and pt-BR.txt both work)")
