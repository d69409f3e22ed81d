"""Linguistic quality of the 11 named references, as a Markdown table for the README.

* %valid (Bayram et al.'s %TR) for Turkish, German and Indonesian: share of tokens that are words of
  ``lexicon/<lang>.txt``, over the token *occurrences* of ``parallel/<lang>.txt`` and over the unique
  tokens used there;
* MorphScore for Turkish and Russian against ``morph/{tr,ru}.tsv``;
* under-trained token candidates of smollm2 from its tokenizer and the GGUF's embedding rows, top 20.

Usage::

    python benchmarks/vocab_table.py [--data ../shared/data] [--langs tr de id]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REFERENCES = (
    "gpt2",
    "cl100k",
    "o200k",
    "qwen2.5",
    "qwen3.5",
    "deepseek-v4",
    "mistral-tekken",
    "mistral-v3-sp",
    "smollm2",
    "minilm-wordpiece",
    "j2-sp",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--langs", nargs="+", default=["tr", "de", "id"])
    args = parser.parse_args()

    from tokensmith.metrics.lexicon import read_lexicon, valid_word_share
    from tokensmith.metrics.morphology import morph_score, read_segmentations
    from tokensmith.tokenizers import load_tokenizer

    started = time.perf_counter()
    texts = {
        lang: [
            line
            for line in (args.data / "parallel" / f"{lang}.txt").read_text(encoding="utf-8").split("\n")
            if line.strip()
        ]
        for lang in args.langs
    }
    lexicons = {lang: read_lexicon(args.data / "lexicon" / f"{lang}.txt") for lang in args.langs}
    golds = {lang: read_segmentations(args.data / "morph" / f"{lang}.tsv") for lang in ("tr", "ru")}
    header = (
        ["tokenizer"] + [f"%valid {lang} (occ. / unique)" for lang in args.langs] + ["MorphScore tr", "MorphScore ru"]
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name in REFERENCES:
        tokenizer = load_tokenizer(name)
        cells = [name]
        for lang in args.langs:
            share = valid_word_share(tokenizer, lexicons[lang], texts=texts[lang])
            cells.append(f"{share['occurrences_percent']:.1f} / {share['unique_percent']:.1f}")
        for lang in ("tr", "ru"):
            score = morph_score(tokenizer, golds[lang])["morph_score"]
            cells.append("n/a" if score is None else f"{score:.3f}")
        print("| " + " | ".join(cells) + " |", flush=True)

    from tokensmith.metrics.undertrained import gguf_token_embeddings, undertrained_tokens
    from tokensmith.tokenizers.references import REFERENCES as REGISTRY

    smollm2 = load_tokenizer("smollm2")
    gguf_path = REGISTRY.get("smollm2").locate()
    found = undertrained_tokens(smollm2, gguf_token_embeddings(str(gguf_path), smollm2), top=20)
    print()
    count = len(found["candidates_all"]) if "candidates_all" in found else found["counts"]
    print(f"smollm2 under-trained candidates: {count}")
    for candidate in found["candidates"][:20]:
        print(f"- {candidate['text']!r} (id {candidate['id']}): {'; '.join(candidate['reasons'])}")
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
