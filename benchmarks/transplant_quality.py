"""Transplant quality on a domain: SmolLM2-135M moved onto a BPE trained on that domain, every init method.

1. The domain file (default ``domain/code.txt`` of ../shared/data: C headers, Go and JavaScript) is cut into
   documents at its ``// FILE:`` / ``# FILE:`` markers (files without markers: blocks of lines of about
   ``--doc-bytes``). Every ``--holdout-every``-th document is held out; the rest is the training text. The two
   share no document.
2. A byte-level BPE of ``--vocab-size`` tokens is trained on the training text with tokensmith's trainer
   (default settings, SmolLM2's special tokens kept, as ``tokensmith adapt`` does: the transplant then maps
   its bos/eos and chat markers onto the model's own rows).
3. ``tokensmith transplant --compare`` (``run_compare``) runs every init method on ``smollm2-135m`` and
   scores bits per byte on the held-out documents: each cut to its first ``--doc-bytes`` (at a line end) and
   ordered round-robin across file types, so the first ``--max-bytes`` scored hold every language of the
   mix. ``omp`` uses ``--donor self`` (the model's own FVT estimates: no code model with this tokenizer
   exists); ``focus`` trains fastText on the training text.

Split, tokenizer and results are cached under ``--work`` (default ``benchmarks/out/transplant_quality``,
gitignored), so a rerun with the same settings only repeats the transplants (``--retrain`` redoes all).

    python benchmarks/transplant_quality.py                          # ~25 min on 2 cores
    python benchmarks/transplant_quality.py --domain domain/legal.txt --vocab-size 8000

Prints a Markdown table (methods from worst to best bpb) for the README.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MODEL = "smollm2-135m"
FILE_MARKER = re.compile(r"(?m)^(?=(?://|#) FILE: )")


def log(message: str) -> None:
    print(message, flush=True)


def split_documents(text: str, doc_bytes: int) -> list[str]:
    """The domain file as documents: its files (``// FILE:`` markers), else blocks of whole lines."""
    files = [part for part in FILE_MARKER.split(text) if part.strip()]
    if len(files) > 1:
        return files
    blocks, current, size = [], [], 0
    for line in text.splitlines(keepends=True):
        current.append(line)
        size += len(line.encode("utf-8"))
        if size >= doc_bytes:
            blocks.append("".join(current))
            current, size = [], 0
    if current:
        blocks.append("".join(current))
    return blocks


def kind_of(document: str) -> str:
    """The file type of a document (extension in its FILE marker), "" without a marker."""
    first = document.split("\n", 1)[0]
    if "FILE: " not in first or "." not in first:
        return ""
    return first.rsplit(".", 1)[-1].strip()


def head(document: str, limit: int) -> str:
    """The first ``limit`` UTF-8 bytes of a document, cut after a line end when there is one."""
    data = document.encode("utf-8")
    if len(data) <= limit:
        return document
    cut = data[:limit].decode("utf-8", errors="ignore")
    return cut[: cut.rfind("\n") + 1] or cut


def interleave(documents: list[str]) -> list[str]:
    """Documents round-robin across file types (in corpus order within a type)."""
    groups: dict[str, list[str]] = {}
    for document in documents:
        groups.setdefault(kind_of(document), []).append(document)
    ordered = []
    for rank in range(max(len(g) for g in groups.values())):
        ordered.extend(g[rank] for g in groups.values() if rank < len(g))
    return ordered


def prepare(args: argparse.Namespace, work: Path) -> dict[str, Path]:
    """train.txt, held.jsonl and tokenizer/ under ``work``, each made only when missing."""
    paths = {"train": work / "train.txt", "held": work / "held.jsonl", "tokenizer": work / "tokenizer"}
    if not paths["held"].exists():
        work.mkdir(parents=True, exist_ok=True)
        documents = split_documents(args.domain.read_text(encoding="utf-8"), args.doc_bytes)
        every = args.holdout_every
        training = [d for i, d in enumerate(documents) if i % every != every - 1]
        held = interleave([head(d, args.doc_bytes) for i, d in enumerate(documents) if i % every == every - 1])
        paths["train"].write_text("".join(training), encoding="utf-8")
        with paths["held"].open("w", encoding="utf-8") as sink:
            for document in held:
                sink.write(json.dumps({"text": document}, ensure_ascii=False) + "\n")
        log(f"{args.domain.name}: {len(documents)} documents; training {len(training)} "
            f"({sum(len(d.encode()) for d in training):,} bytes), held out {len(held)} (first {args.doc_bytes:,} "
            f"bytes of each, {sum(len(d.encode()) for d in held):,} bytes)")
    if not (paths["tokenizer"] / "tokenizer.json").exists():
        from tokensmith.tokenizers import load_tokenizer
        from tokensmith.train import BpeTrainer

        specials = tuple(s.text for s in load_tokenizer("smollm2").special_tokens)
        log(f"training a {args.vocab_size:,}-token BPE on {paths['train'].name} (special tokens: {len(specials)})")
        started = time.perf_counter()
        trained = BpeTrainer(vocab_size=args.vocab_size, special_tokens=specials).train(
            [paths["train"].read_text(encoding="utf-8")]
        )
        trained.save(paths["tokenizer"], force=True)
        log(f"  {time.perf_counter() - started:.1f} s")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--domain", default="domain/code.txt", help="file under ../shared/data (or a path)")
    parser.add_argument("--vocab-size", type=int, default=8000)
    parser.add_argument("--holdout-every", type=int, default=20, help="every n-th document held out (default 20)")
    parser.add_argument("--doc-bytes", type=int, default=4000, help="bytes kept of each held-out document")
    parser.add_argument("--max-bytes", type=int, default=20_000, help="held-out bytes scored (default 20,000)")
    parser.add_argument("--methods", nargs="+", help="init methods (default: all)")
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "out" / "transplant_quality")
    parser.add_argument("--retrain", action="store_true", help="redo the split and the tokenizer")
    args = parser.parse_args()
    domain = Path(args.domain)
    args.domain = domain if domain.is_file() else DATA / domain
    if not args.domain.is_file():
        raise SystemExit(f"{args.domain} is absent: the benchmark needs the team's shared corpora (or --domain)")
    work = args.work / f"{args.domain.stem}-v{args.vocab_size}-every{args.holdout_every}-doc{args.doc_bytes}"
    if args.retrain and work.exists():
        import shutil

        shutil.rmtree(work)
    paths = prepare(args, work)

    from tokensmith.transplant.commands import run_compare

    started = time.perf_counter()
    section = run_compare(
        MODEL,
        str(paths["tokenizer"] / "tokenizer.json"),
        paths["held"],
        methods=args.methods,
        out=work / "results.json",
        force=True,
        max_bytes=args.max_bytes,
        donor="self",
        target_text=paths["train"],
    )
    log(f"transplants and scoring: {time.perf_counter() - started:.0f} s")
    rows = sorted(section["rows"], key=lambda r: -r["bpb"])
    first = rows[0]
    label = {"omp": "omp (self donor)", "omp-aux": "omp-aux (k=4)"}
    log("")
    log(f"SmolLM2-135M onto a {section['tokenizer']['vocab_size']:,}-token BPE trained on "
        f"{args.domain.relative_to(DATA) if args.domain.is_relative_to(DATA) else args.domain}, bits per byte on "
        f"{section['corpus']['bytes']:,} bytes of held-out documents; original {first['bpb_original']:.3f} bpb "
        f"at {first['tokens_per_byte_original']:.3f} tokens/byte, transplanted {first['tokens_per_byte']:.3f} "
        f"tokens/byte; no training:")
    log("")
    best = rows[-1]["method"]
    log("| method | " + " | ".join(label.get(r["method"], r["method"]) for r in rows) + " |")
    log("|---" * (len(rows) + 1) + "|")

    def cell(row, value):
        return f"**{value}**" if row["method"] == best else value

    log("| bpb | " + " | ".join(cell(r, f"{r['bpb']:.3f}") for r in rows) + " |")
    log("| ratio to original | " + " | ".join(cell(r, f"{r['ratio']:.2f}") for r in rows) + " |")
    for name, why in section["skipped"].items():
        log(f"skipped {name}: {why}")


if __name__ == "__main__":
    main()
