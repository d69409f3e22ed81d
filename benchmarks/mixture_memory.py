"""Peak memory of mixture inference as the sample per category grows (o200k, ../shared/data).

Four categories, each a folder of links to ../shared/data files: ``code`` (``domain/code_*.txt``,
17 MB), ``legal`` (``domain/legal.txt``, 6.4 MB), ``biomedical`` (``domain/biomedical.txt``, 6.9 MB) and
``european`` (``mono/{en,de,fr,es,it,nl,pt,pl,sv,da,cs,fi}.txt`` pooled, 12 MB). ``legal`` and
``biomedical`` are linked twice, so the 10 MB samples repeat some of their text (more counts of the same
pre-tokens, which is what a larger sample of one domain mostly brings anyway).

Each sample size runs in a fresh subprocess, once per way of feeding the counts:

* ``streamed``: what ``tokensmith mixture`` does (``run_mixture``): the sample is chosen from document
  sizes and read again from the files batch by batch into pre-token counts; only counts are kept.
* ``lists``: the samples read into lists of strings first (``read_category_sample``), then
  ``infer_mixture``, as the command did before it streamed; the text of every category stays in memory.

It prints the peak RSS of the subprocess (``os.wait4``'s ``ru_maxrss``), the peak of its largest
counting worker (the ``local`` engine forks one per core for inputs over one batch per worker; a forked
worker's RSS counts the pages it shares with the parent), the distinct pre-tokens summed over the
categories and of the category with the most, and the seconds. Categories are counted one after the
other and replayed two at a time on threads, so the streamed peak follows the distinct pre-tokens of the
largest categories (the merge replay's arrays are sized by them); the lists' grows with the text as well.

    .venv/bin/python benchmarks/mixture_memory.py                      # 0.3, 1, 3, 10 MB per category
    .venv/bin/python benchmarks/mixture_memory.py --sizes 0.3 1 --merges 200
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CATEGORY_FILES = {
    "code": [f"domain/code_{lang}.txt" for lang in ("python", "c", "rust", "typescript", "javascript")],
    "legal": ["domain/legal.txt", "domain/legal.txt"],
    "biomedical": ["domain/biomedical.txt", "domain/biomedical.txt"],
    "european": [f"mono/{lang}.txt" for lang in ("en", "de", "fr", "es", "it", "nl", "pt", "pl", "sv", "da", "cs",
                                                 "fi")],
}
MODES = ("streamed", "lists")


def link_categories(root: Path) -> dict[str, Path]:
    """One folder per category holding a numbered link to each of its files (a file may appear twice)."""
    folders = {}
    for name, files in CATEGORY_FILES.items():
        folder = root / name
        folder.mkdir()
        for position, file in enumerate(files):
            (folder / f"{position:02d}_{Path(file).name}").symlink_to(DATA / file)
        folders[name] = folder
    return folders


def child(mode: str, folders: dict[str, str], sample_bytes: int, tokenizer: str, merges: int, report: Path) -> None:
    """One mixture run; writes its figures to ``report`` (the parent measures this process's memory)."""
    from tokensmith.mixture import infer_mixture, read_category_sample, run_mixture
    from tokensmith.tokenizers import load_tokenizer

    started = time.perf_counter()
    if mode == "streamed":
        result = run_mixture(tokenizer, folders, merges=merges, sample_bytes=sample_bytes, quiet=True)
    else:
        samples = {name: read_category_sample(path, sample_bytes, name=name) for name, path in folders.items()}
        result = infer_mixture(load_tokenizer(tokenizer), samples, merges=merges)
    workers_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the largest forked counting worker
    report.write_text(json.dumps({
        "seconds": time.perf_counter() - started,
        "sample_bytes": sum(c.sample_bytes for c in result.categories),
        "distinct": sum(c.distinct_pretokens for c in result.categories),
        "most_distinct": max(c.distinct_pretokens for c in result.categories),
        "pretokens": sum(c.pretokens for c in result.categories),
        "workers_kb": workers_kb,
        "proportions": result.proportions,
    }), encoding="utf-8")


def run_child(mode: str, folders: dict[str, Path], sample_bytes: int, tokenizer: str, merges: int,
              report: Path) -> tuple[dict, int]:
    """The child's figures and its own peak RSS in kB (from wait4, so only that process)."""
    argv = [sys.executable, __file__, "--child", mode, "--folders", json.dumps({k: str(v) for k, v in folders.items()}),
            "--sample-bytes", str(sample_bytes), "--tokenizer", tokenizer, "--merges", str(merges),
            "--report", str(report)]
    process = subprocess.Popen(argv)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"the {mode} run at {sample_bytes:,} B failed (exit {process.returncode})")
    return json.loads(report.read_text(encoding="utf-8")), usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.3, 1, 3, 10], help="MB sampled per category")
    parser.add_argument("--tokenizer", default="o200k")
    parser.add_argument("--merges", type=int, default=300)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--folders", help=argparse.SUPPRESS)
    parser.add_argument("--sample-bytes", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, json.loads(args.folders), args.sample_bytes, args.tokenizer, args.merges, args.report)
        return
    if not DATA.is_dir():
        raise SystemExit(f"{DATA} is absent: this benchmark reads the team's corpora")
    print(f"{args.tokenizer}, {args.merges} merges, {len(CATEGORY_FILES)} categories "
          f"({', '.join(CATEGORY_FILES)}); peak RSS per run in a fresh process")
    header = (f"{'MB/cat':>6} {'mode':>9} {'sample MB':>9} {'pre-tokens':>11} {'distinct':>9} "
              f"{'max/cat':>8} {'peak RSS MB':>11} {'worker MB':>9} {'seconds':>7}")
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        folders = link_categories(root)
        for size in args.sizes:
            shares = {}
            for mode in args.modes:
                figures, peak_kb = run_child(mode, folders, int(size * 1_000_000), args.tokenizer, args.merges,
                                             root / "report.json")
                shares[mode] = figures["proportions"]
                print(f"{size:>6g} {mode:>9} {figures['sample_bytes'] / 1e6:>9.2f} {figures['pretokens']:>11,} "
                      f"{figures['distinct']:>9,} {figures['most_distinct']:>8,} {peak_kb / 1024:>11.0f} "
                      f"{figures['workers_kb'] / 1024:>9.0f} {figures['seconds']:>7.1f}", flush=True)
            if len(shares) == 2 and shares["streamed"] != shares["lists"]:
                print(f"  the two modes disagree: {shares}")


if __name__ == "__main__":
    main()
