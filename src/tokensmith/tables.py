"""Terminal output: rich tables and progress bars shared by the commands.

Tables go to stdout (they are the command's answer); progress goes to stderr and only to a terminal.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def console():
    from rich.console import Console

    # Piped output is not cut to 80 columns: tables there are read in files and CI logs.
    width = None if sys.stdout.isatty() else 160
    return Console(highlight=False, soft_wrap=False, width=width)


@lru_cache(maxsize=1)
def error_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False)


@contextlib.contextmanager
def progress_bar(quiet: bool = False) -> Iterator[Any]:
    """A rich progress display on stderr, or None when quiet or stderr is not a terminal.

    A task counts bytes (shown as kB/MB and kB/s) unless it is added with a ``unit`` field, e.g.
    ``progress.add_task("merge", total=n, unit="merges")``: then it shows ``done/total merges`` and
    ``merges/s``.
    """
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    amount, rate = _unit_columns()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), amount(), rate(), TimeElapsedColumn(),
        console=error_console(), transient=True,
    ) as progress:
        yield progress


@lru_cache(maxsize=1)
def _unit_columns() -> tuple[type, type]:
    """Progress columns for the amount done and its speed, in bytes or in a task's own ``unit``."""
    from rich.progress import DownloadColumn, ProgressColumn, TransferSpeedColumn
    from rich.text import Text

    class AmountColumn(ProgressColumn):
        def __init__(self) -> None:
            super().__init__()
            self.in_bytes = DownloadColumn()

        def render(self, task) -> Text:
            unit = task.fields.get("unit")
            if unit is None:
                return self.in_bytes.render(task)
            done = f"{int(task.completed):,}"
            return Text(f"{done}/{int(task.total):,} {unit}" if task.total else f"{done} {unit}",
                        style="progress.download")

    class RateColumn(ProgressColumn):
        def __init__(self) -> None:
            super().__init__()
            self.in_bytes = TransferSpeedColumn()

        def render(self, task) -> Text:
            unit = task.fields.get("unit")
            if unit is None:
                return self.in_bytes.render(task)
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f} {unit}/s" if speed else "?", style="progress.data.speed")

    return AmountColumn, RateColumn


def format_value(value: float | None, unit: str = "") -> str:
    """A metric value for a table cell: 3 significant decimals, percentages for fractions."""
    if value is None:
        return "n/a"
    if unit == "fraction":
        return f"{100 * value:.1f}%"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.1f}"
    return f"{value:.3f}"


def _metric_info(name: str):
    from tokensmith.metrics import METRICS

    return METRICS.get(name)


def column_chunks(names: Sequence[str], width: int, *, row_header: int = 26, column: int = 10) -> list[list[str]]:
    """Split tokenizer columns into groups whose table fits the terminal width."""
    per_table = max(1, (width - row_header) // column)
    return [list(names[i:i + per_table]) for i in range(0, len(names), per_table)]


def grid_table(records: Sequence[dict[str, Any]], metric: str, tokenizers: Sequence[str]):
    """A corpus x tokenizer table of one cell metric, or None when no record has it."""
    from rich.markup import escape
    from rich.table import Table

    info = _metric_info(metric)
    if info.scope != "cell":
        return None
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    for record in records:
        if record["metric"] == metric:
            rows.setdefault(record["corpus"], {})[record["tokenizer"]] = record
    if not rows:
        return None
    arrow = {True: " (higher is better)", False: " (lower is better)", None: ""}[info.higher_is_better]
    table = Table(title=f"{info.pretty_name} [{info.unit}]{arrow}", title_justify="left")
    table.add_column("corpus", no_wrap=True, max_width=16)
    table.add_column("lang", no_wrap=True, max_width=8)
    for name in tokenizers:  # names are file names and paths: text, never markup
        table.add_column(escape(name), justify="right", no_wrap=True, min_width=6, overflow="fold")
    for corpus, by_tokenizer in rows.items():
        first = next(iter(by_tokenizer.values()))
        cells = []
        for name in tokenizers:
            record = by_tokenizer.get(name)
            cells.append(format_value(record["value"], info.unit) if record else "")
        table.add_row(escape(corpus), escape(first["lang"] or ""), *cells)
    return table


def summary_table(records: Sequence[dict[str, Any]], metrics: Iterable[str], tokenizers: Sequence[str]):
    """Metrics over whole parallel groups (parity Gini...), one row per tokenizer, or None."""
    from rich.markup import escape
    from rich.table import Table

    wanted = [m for m in metrics if any(r["metric"] == m for r in records)]
    if not wanted:
        return None
    table = Table(title="Across languages (parallel corpus)", title_justify="left")
    table.add_column("tokenizer")
    table.add_column("corpus")
    for metric in wanted:
        table.add_column(_metric_info(metric).pretty_name, justify="right")
    groups = sorted({r["corpus"] for r in records if r["metric"] in wanted})
    for name in tokenizers:
        for group in groups:
            values = []
            for metric in wanted:
                record = next((r for r in records if r["metric"] == metric and r["tokenizer"] == name
                               and r["corpus"] == group), None)
                values.append(format_value(record["value"], _metric_info(metric).unit) if record else "")
            table.add_row(escape(name), escape(group), *values)
    return table


def print_measure(result) -> None:
    """The terminal answer of `tokensmith measure`."""
    from rich.markup import escape

    from tokensmith.measure import HEADLINE_METRICS, SUMMARY_METRICS

    names = [t["name"] for t in result.tokenizers]
    out = console()
    for metric in HEADLINE_METRICS:
        if not any(r["value"] is not None for r in result.records if r["metric"] == metric):
            continue
        for chunk in column_chunks(names, out.width):
            table = grid_table(result.records, metric, chunk)
            if table is not None:
                out.print(table)
    table = summary_table(result.records, SUMMARY_METRICS, names)
    if table is not None:
        out.print(table)
    reasons = sorted({(r["metric"], r["reason"]) for r in result.records
                      if r["value"] is None and r["reason"] and r["metric"] in (*HEADLINE_METRICS, *SUMMARY_METRICS)})
    for metric, reason in reasons[:8]:
        out.print(f"[dim]n/a {metric}: {escape(reason)}[/dim]")
    out.print(f"[dim]{len(result.records)} figures from {len(result.corpora)} corpora x {len(names)} tokenizers "
              f"in {result.seconds:.1f} s; all metrics in results.json (--out)[/dim]")


def warn(message: str) -> None:
    """One warning line on stderr, even with --quiet, unwrapped, as the CLI's errors are."""
    print(f"warning: {message}", file=sys.stderr)


def warn_reading(corpora: Iterable[dict]) -> None:
    """Warn on stderr, even with --quiet, of what reading a corpus changed or left out (its description in
    results.json: ``name``, ``replaced_byte_sequences``, ``first_replacement``, ``empty_records``,
    ``first_empty_record``): byte sequences read as U+FFFD (--errors replace), and JSONL records or parquet
    rows whose text is null or empty (they are in no figure). One line each, unwrapped, as the CLI's errors are."""
    from tokensmith.corpus.readers import describe_empty_records

    for corpus in corpora:
        replaced = corpus.get("replaced_byte_sequences") or 0
        if replaced:
            warn(f"{corpus['name']}: {replaced} invalid UTF-8 byte sequence{'s' if replaced > 1 else ''} read as "
                 f"U+FFFD (--errors replace; the first at {corpus.get('first_replacement')})")
        if corpus.get("empty_records"):
            warn(f"{corpus['name']}: skipped "
                 f"{describe_empty_records(corpus['empty_records'], corpus.get('first_empty_record'))}")


def print_references(references) -> None:
    """`tokensmith ls tokenizers`."""
    from rich.table import Table

    table = Table(title="Named offline reference tokenizers", title_justify="left")
    for column, justify in (("name", "left"), ("vocab", "right"), ("installed", "left"), ("package", "left"),
                            ("description", "left")):
        table.add_column(column, justify=justify)
    for ref in references:
        vocab = f"{ref.vocab_size:,}" if ref.vocab_size else ""
        installed = "yes" if ref.installed else "[red]no[/red]"
        table.add_row(ref.name, vocab, installed, ref.package, ref.description)
    console().print(table)


def print_metrics(metrics) -> None:
    """`tokensmith ls metrics`."""
    from rich.table import Table

    table = Table(title="Metrics", title_justify="left")
    for column in ("name", "unit", "better", "needs", "definition", "reference"):
        table.add_column(column)
    for name, metric in metrics.items():
        better = {True: "higher", False: "lower", None: "-"}[metric.higher_is_better]
        # the definition says what is divided by what (chars are code points, not grapheme clusters...)
        table.add_row(name, metric.unit, better, ", ".join(sorted(metric.requires)), metric.description,
                      metric.reference)
    console().print(table)
