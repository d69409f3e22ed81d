"""The ``vocab`` section of results.json: composition, overlap, morphology and under-trained tokens.

A plain JSON dict, self-describing (every figure says its denominator), built from loaded tokenizers::

    {"tokenizers": {name: {"composition": {...}, "undertrained": {...}, "morphology": {...}}},
     "overlap": [{"a": ..., "b": ..., "shared": ..., "jaccard": ...}, ...],
     "parameters": {...}}
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Candidates kept per tokenizer in results.json (counts always cover all of them).
DEFAULT_TOP_CANDIDATES = 50


def build_vocab_section(
    tokenizers: Sequence[Any],
    *,
    lexicon_dir: str | os.PathLike | None = None,
    morph: str | os.PathLike | None = None,
    undertrained: bool = True,
    top_candidates: int = DEFAULT_TOP_CANDIDATES,
    morph_limit: int | None = None,
) -> dict[str, Any]:
    """The ``vocab`` section for loaded tokenizers.

    Args:
        tokenizers: loaded tokenizers (names must differ).
        lexicon_dir: lexicon folder or file: adds the language distribution of alphabetic tokens.
        morph: segmentation file: adds MorphScore and boundary P/R/F1 (and %pure over the vocabulary).
        undertrained: add tokenizer-only under-trained candidates.
        top_candidates: candidates listed per tokenizer.
        morph_limit: score only the first words of the segmentation file.
    """
    from tokensmith.metrics.lexicon import control_ids, lexicon_share, load_lexicon_dir, unk_ids
    from tokensmith.metrics.morphology import morph_score, read_segmentations
    from tokensmith.metrics.undertrained import undertrained_tokens
    from tokensmith.metrics.vocab_composition import (
        classify_vocabulary,
        compare_vocabularies,
        composition_of,
        language_distribution,
    )

    names = [t.name for t in tokenizers]
    if len(set(names)) != len(names):
        from tokensmith.errors import InputError

        raise InputError(f"tokenizer names repeat: {names}", "give each tokenizer once, or rename with name=")
    segmentations = read_segmentations(morph) if morph is not None else None
    per_tokenizer: dict[str, Any] = {}
    classes_by_name = {}
    for tokenizer in tokenizers:
        classes = classify_vocabulary(tokenizer)
        classes_by_name[tokenizer.name] = classes
        entry: dict[str, Any] = {
            "composition": {"vocab_size": tokenizer.vocab_size, **composition_of(classes)},
        }
        per_tokenizer[tokenizer.name] = entry
    if lexicon_dir is not None:
        bodies = {c.body for classes in classes_by_name.values() for c in classes if c.kind == "alphabetic"}
        lexicons = load_lexicon_dir(lexicon_dir, keep=bodies)
        for name, classes in classes_by_name.items():
            languages = language_distribution(classes, lexicons)
            languages["lexicons"] = {lang: lex.describe() for lang, lex in lexicons.items()}
            per_tokenizer[name]["composition"]["languages"] = languages
    for tokenizer in tokenizers:
        entry = per_tokenizer[tokenizer.name]
        if segmentations is not None:
            from tokensmith.metrics.lexicon import Lexicon

            entry["morphology"] = morph_score(tokenizer, segmentations, limit=morph_limit)
            morphemes = Lexicon.from_words(
                Path(segmentations.source).stem or "morph", segmentations.morphemes(), kind="morphemes"
            )
            entry["pure_vocabulary"] = lexicon_share(
                tokenizer.all_token_bytes, morphemes, exclude_ids=control_ids(tokenizer.special_tokens),
                unknown_ids=unk_ids(tokenizer.special_tokens),
            )
        if undertrained:
            entry["undertrained"] = undertrained_tokens(tokenizer, top=top_candidates)
    overlap = [compare_vocabularies(a, b) for a, b in itertools.combinations(tokenizers, 2)]
    return {
        "tokenizers": per_tokenizer,
        "overlap": overlap,
        "parameters": {
            "lexicon": None if lexicon_dir is None else str(lexicon_dir),
            "morph": None if morph is None else str(morph),
            "undertrained": undertrained,
            "top_candidates": top_candidates,
            "morph_limit": morph_limit,
        },
    }
