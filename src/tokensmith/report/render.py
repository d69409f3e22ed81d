"""results.json files -> one self-contained report.html (inline CSS, JS and SVG; no network).

The page is a list of registered page sections (:data:`PAGE_SECTIONS`), each a function of the
merged :class:`~tokensmith.report.data.ReportData` that returns its HTML, or None when the files hold
nothing for it. Sections no file carried are listed at the top of the page instead of silently
missing. The output is deterministic: the same files give byte-identical pages (no render time).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

from tokensmith.registry import Registry
from tokensmith.report.data import MeasureData, ReportData, merge_results
from tokensmith.report.svg import colour, format_number, grouped_bar_chart, stacked_share_chart
from tokensmith.report.viewer import embed_json, viewer_payload


@dataclass(frozen=True)
class PageSection:
    """One block of the page.

    Attributes:
        name: anchor id and registry key.
        title: heading and navigation label.
        render: ``ReportData -> HTML`` of the body, or None when the files hold nothing for it.
    """

    name: str
    title: str
    render: Callable[[ReportData], str | None]


PAGE_SECTIONS: Registry[PageSection] = Registry("report section")


def page_section(name: str, title: str):
    """Register a page section renderer (page order = registration order)."""

    def decorate(render: Callable[[ReportData], str | None]) -> Callable[[ReportData], str | None]:
        PAGE_SECTIONS.add(name, PageSection(name, title, render))
        return render

    return decorate


# -- small HTML helpers ---------------------------------------------------------------------------
def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool] | None = None) -> str:
    """A table of plain-text headers and cells that are already HTML; ``numeric`` right-aligns columns."""
    numeric = numeric or [False] * len(headers)
    head = "".join(f'<th{" class=num" if n else ""}>{_e(h)}</th>' for h, n in zip(headers, numeric, strict=True))
    body = "".join("<tr>" + "".join(rows_cell for rows_cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _td(value: Any, *, number: bool = False, best: bool = False, title: str | None = None) -> str:
    classes = []
    if number:
        classes.append("num")
    if best:
        classes.append("best")
    if number and value is None:
        classes.append("na")
    text = format_number(value) if number else _e(value)
    attributes = (f' class="{" ".join(classes)}"' if classes else "") + (f' title="{_e(title)}"' if title else "")
    return f"<td{attributes}>{text}</td>"


def _legend(names: Sequence[str], colours: Sequence[str] | None = None) -> str:
    colours = colours or [colour(i) for i in range(len(names))]
    items = "".join(
        f'<span><span class="swatch" style="background:{c}"></span>{_e(n)}</span>'
        for n, c in zip(names, colours, strict=True)
    )
    return f'<div class="legend">{items}</div>'


def _short_hash(value: Any) -> str:
    return f'<span class="mono" title="{_e(value)}">{_e(str(value)[:12])}</span>' if value else "n/a"


def _corpus_label(corpus: dict[str, Any]) -> str:
    name, lang = corpus["name"], corpus.get("lang")
    return name if not lang or lang == name or name.endswith(f"/{lang}") else f"{lang} · {name}"


def _direction(higher_is_better: bool | None) -> str:
    return {True: "higher is better", False: "lower is better"}.get(higher_is_better, "descriptive")


def _metric_title(metric: str) -> str:
    from tokensmith.metrics import METRICS  # light: numpy only

    return METRICS.get(metric).pretty_name if metric in METRICS else metric.replace("_", " ")


# -- measure: charts ------------------------------------------------------------------------------
def _metric_chart(
    measure: MeasureData, metric: str, explain: str, *, reference_line: float | None = None
) -> str | None:
    records = measure.values(metric)
    if not records:
        return None
    names = measure.tokenizer_names()
    corpora = [c for c in measure.corpora if any((t, c["name"]) in records for t in names)]
    labels = {c["name"]: _corpus_label(c) for c in corpora}
    values = {
        (labels[corpus], tokenizer): (record["value"], record.get("reason"))
        for (tokenizer, corpus), record in records.items()
        if corpus in labels
    }
    sample = next(iter(records.values()))
    unit = sample.get("unit") or ""
    params = sample.get("params") or {}
    shown_params = ", ".join(f"{k} = {v}" for k, v in sorted(params.items()))
    title = _metric_title(metric)
    if unit and unit.lower() not in title.lower():
        title += f" ({unit})"
    heading = f"<h3>{_e(title)}</h3>"
    note = f"{explain} {_direction(sample.get('higher_is_better')).capitalize()}."
    if shown_params:
        note += f" Parameters: {shown_params}."
    if all(v is None for v, _ in values.values()):
        reasons = sorted({r for _, r in values.values() if r})
        return heading + f'<p class="explain">{_e(note)}</p><p class="notice">No values: {_e("; ".join(reasons))}</p>'
    groups = [labels[c["name"]] for c in corpora]
    chart = grouped_bar_chart(groups, names, values, unit=unit, label=title, reference_line=reference_line)
    return (heading + f'<p class="explain">{_e(note)}</p>' + _legend(names)
            + f'<div class="chart-wrap" data-chart="{_e(metric)}">{chart}</div>'
            + _values_table(groups, names, values, unit, sample.get("higher_is_better")))


def _values_table(groups: Sequence[str], names: Sequence[str], values, unit: str, higher_is_better) -> str:
    """The chart's figures as a table (collapsed): exact numbers, also for screen readers; best per row bold."""
    rows = []
    for group in groups:
        row_values = [values.get((group, n), (None, None))[0] for n in names]
        present = [v for v in row_values if v is not None]
        best = None
        if present and higher_is_better is not None and len(present) > 1:
            best = max(present) if higher_is_better else min(present)
        rows.append([_td(group)] + [
            _td(v, number=True, best=v is not None and v == best, title=values.get((group, n), (None, None))[1])
            for v, n in zip(row_values, names, strict=True)
        ])
    headers = [f"language / corpus ({unit})", *names]
    table = _table(headers, rows, [False] + [True] * len(names))
    return f"<details><summary>figures as a table</summary>{table}</details>"


@page_section("overview", "Overview")
def _overview(data: ReportData) -> str | None:
    measure = data.measure
    if measure is None:
        return None
    rows = [
        [_td(t["name"]), _td(t.get("format")), _td(t.get("model")), _td(t.get("vocab_size"), number=True),
         _td("yes" if t.get("byte_level") else "no"), _td(t.get("backend")), f"<td>{_short_hash(t.get('sha256'))}</td>"]
        for t in measure.tokenizers
    ]
    html = "<h3>Tokenizers</h3>" + _table(
        ["name", "format", "model", "vocabulary (tokens)", "byte-level", "backend", "sha256"], rows,
        [False, False, False, True, False, False, False])
    cells = {(c.get("tokenizer"), c.get("corpus")): c for c in measure.cells}
    totals = []
    for tokenizer in measure.tokenizer_names():
        own = [c for (t, _), c in cells.items() if t == tokenizer]
        size = sum(c.get("bytes") or 0 for c in own)
        tokens = sum(c.get("tokens") or 0 for c in own)
        unk = sum(c.get("unk_tokens") or 0 for c in own)
        fallback = sum(c.get("byte_fallback_tokens") or 0 for c in own)
        totals.append([
            _td(tokenizer), _td(len(own), number=True), _td(size, number=True), _td(tokens, number=True),
            _td(size / tokens if tokens else None, number=True), _td(unk / tokens if tokens else None, number=True),
            _td(fallback / tokens if tokens else None, number=True),
        ])
    if any(cells):
        html += ("<h3>All text together</h3><p class=\"explain\">Sums over every corpus measured (ratios of sums, "
                 "not means of per-language ratios).</p>" + _table(
                     ["tokenizer", "corpora", "text (bytes)", "tokens", "bytes/token", "UNK (fraction)",
                      "byte fallback (fraction)"], totals, [False, True, True, True, True, True, True]))
    corpus_rows = [
        [_td(c["name"]), _td(c.get("lang")), _td(c.get("parallel_group")), _td(c.get("documents"), number=True),
         _td(c.get("bytes"), number=True), f"<td>{_short_hash(c.get('sha256'))}</td>"]
        for c in measure.corpora
    ]
    corpus_table = _table(["corpus", "language", "parallel group", "documents", "text (bytes)", "sha256"],
                          corpus_rows, [False, False, False, True, True, False])
    if len(corpus_rows) > 8:  # a long list would push the charts below the fold
        corpus_table = f"<details><summary>{len(corpus_rows)} corpora</summary>{corpus_table}</details>"
    return html + "<h3>Corpora</h3>" + corpus_table


@page_section("compression", "Compression")
def _compression(data: ReportData) -> str | None:
    if data.measure is None:
        return None
    return _metric_chart(data.measure, "bytes_per_token",
                         "UTF-8 bytes of text per token, per language: how much text one token carries.")


@page_section("premium", "Token premium")
def _premium(data: ReportData) -> str | None:
    if data.measure is None:
        return None
    records = data.measure.values("token_premium")
    ref = next((r.get("params", {}).get("ref_lang") for r in records.values()), None)
    return _metric_chart(
        data.measure, "token_premium",
        f"Tokens needed for the same parallel text relative to {ref or 'the reference language'} "
        "(1.0 = the same cost; the dashed line).", reference_line=1.0)


@page_section("parity", "Parity")
def _parity(data: ReportData) -> str | None:
    measure = data.measure
    if measure is None:
        return None
    gini = measure.values("parity_gini")
    byte_gini = measure.values("tokens_per_byte_gini")
    premium = measure.values("token_premium")
    if not (gini or byte_gini or premium):
        return None
    groups = sorted({corpus for _, corpus in (*gini, *byte_gini)})
    names = measure.tokenizer_names()
    langs = {c["name"]: c.get("lang") or c["name"] for c in measure.corpora}
    columns: list[tuple[str, dict[str, float | None], bool]] = []  # header, tokenizer -> value, lower is better
    for group in groups:
        suffix = f" · {group}" if len(groups) > 1 else ""
        columns.append((f"parity Gini, tokens/line (0 = parity){suffix}",
                        {t: gini.get((t, group), {}).get("value") for t in names}, True))
        columns.append((f"Gini, tokens/byte{suffix}",
                        {t: byte_gini.get((t, group), {}).get("value") for t in names}, True))
    worst: dict[str, tuple[float, str]] = {}
    premium_mean: dict[str, float | None] = {}
    for tokenizer in names:
        own = [(r["value"], langs.get(c, c)) for (t, c), r in premium.items()
               if t == tokenizer and r["value"] is not None]
        premium_mean[tokenizer] = sum(v for v, _ in own) / len(own) if own else None
        if own:
            worst[tokenizer] = max(own)
    if premium:
        columns.append(("mean token premium (ratio)", premium_mean, True))
    rows = []
    for tokenizer in names:
        row = [_td(tokenizer)]
        for _, values, lower in columns:
            present = [v for v in values.values() if v is not None]
            best = min(present) if lower and present else (max(present) if present else None)
            value = values.get(tokenizer)
            row.append(_td(value, number=True, best=value is not None and value == best and len(present) > 1))
        if premium:
            value, lang = worst.get(tokenizer, (None, None))
            row.append(f'<td class="num">{format_number(value)} ({_e(lang)})</td>' if value is not None else
                       '<td class="num na">n/a</td>')
        rows.append(row)
    headers = ["tokenizer"] + [h for h, _, _ in columns] + (["worst premium (language)"] if premium else [])
    return ('<p class="explain">How evenly each tokenizer charges the languages of a line-aligned parallel corpus. '
            "Gini 0 means every language costs the same; the best value of each column is bold.</p>"
            + _table(headers, rows, [False] + [True] * (len(headers) - 1)))


@page_section("fertility", "Fertility")
def _fertility(data: ReportData) -> str | None:
    if data.measure is None:
        return None
    return _metric_chart(data.measure, "fertility",
                         "Tokens per word (words from a per-language segmenter, not whitespace).")


@page_section("efficiency", "Rényi efficiency")
def _efficiency(data: ReportData) -> str | None:
    if data.measure is None:
        return None
    parts = [
        _metric_chart(data.measure, "renyi_efficiency",
                      "Rényi entropy of the token distribution divided by log2 of the observed token types "
                      "(Zouhar et al. 2023)."),
        _metric_chart(data.measure, "renyi_efficiency_full_vocab",
                      "The same entropy divided by log2 of the whole ordinary vocabulary."),
    ]
    shown = [p for p in parts if p]
    return "".join(shown) or None


#: Metrics the sections above chart; every other measure metric (NSL, %valid, %pure, MorphScore...) is
#: charted under "More figures".
CHARTED_METRICS = frozenset({"bytes_per_token", "token_premium", "parity_gini", "tokens_per_byte_gini", "fertility",
                             "renyi_efficiency", "renyi_efficiency_full_vocab"})


@page_section("more", "More figures")
def _more(data: ReportData) -> str | None:
    if data.measure is None:
        return None
    metrics = sorted({r["metric"] for r in data.measure.records} - CHARTED_METRICS)
    parts = [(metric, _metric_chart(data.measure, metric, METRIC_EXPLANATIONS.get(metric, ""))) for metric in metrics]
    # collapsed, one per metric: a page of twenty open charts would bury the ones above
    shown = [f"<details><summary>{_e(_metric_title(metric))}</summary>{part}</details>" for metric, part in parts
             if part]
    return "".join(shown) or None


#: One line on each metric "More figures" shows, where its name says too little.
METRIC_EXPLANATIONS = {
    "nsl": "Tokens relative to the baseline tokenizer on the same text (1.0 = as many).",
    "valid_share_unique": "Share of the token types used that are words or stems of the language's lexicon.",
    "valid_share_occurrences": "The same share over token occurrences.",
    "pure_share_unique": "Share of the token types used that are morphs of the gold segmentations.",
    "pure_share_occurrences": "The same share over token occurrences.",
    "morph_score": "Gold morpheme boundaries the tokenizer's first split respects (MorphScore).",
}


# -- vocab, train, transplant, mixture ------------------------------------------------------------
@page_section("vocab", "Vocabulary composition")
def _vocab(data: ReportData) -> str | None:
    if not data.vocab:
        return None
    rows = [entry["tokenizer"] for entry in data.vocab]
    html = ""
    for key, heading, explain in (
        ("scripts", "Scripts (share of the vocabulary)", "Unicode script of each token's letters."),
        ("kinds", "Kinds of tokens (share of the vocabulary)",
         "Alphabetic, numeric, punctuation, whitespace, byte-fallback, control and mixed tokens."),
        ("positions", "Word position (share of the vocabulary)",
         "Tokens that start a word (carry its leading space or marker) versus word-inner pieces."),
    ):
        shares = {entry["tokenizer"]: entry.get(key) or {} for entry in data.vocab}
        if not any(shares.values()):
            continue
        chart, categories = stacked_share_chart(rows, shares, label=heading)
        colours = ["#DDDDDD" if c == "other" else colour(i) for i, c in enumerate(categories)]
        html += (f"<h3>{_e(heading)}</h3><p class=\"explain\">{_e(explain)}</p>" + _legend(categories, colours)
                 + f'<div class="chart-wrap" data-chart="vocab-{key}">{chart}</div>')
    sizes = [[_td(e["tokenizer"]), _td(e.get("vocab_size"), number=True)] for e in data.vocab]
    html += _table(["tokenizer", "vocabulary (tokens)"], sizes, [False, True])
    if data.vocab_overlap:
        overlap_rows = [[_td(o.get("a")), _td(o.get("b")), _td(o.get("shared"), number=True),
                         _td(o.get("union"), number=True), _td(o.get("jaccard"), number=True)]
                        for o in data.vocab_overlap]
        html += "<h3>Shared vocabulary</h3>" + _table(
            ["tokenizer A", "tokenizer B", "shared forms", "union of forms", "Jaccard (fraction)"], overlap_rows,
            [False, False, True, True, True])
    return html


@page_section("train", "Training")
def _train(data: ReportData) -> str | None:
    if not data.train:
        return None
    known = ("tokenizer", "algorithm", "vocab_size", "bytes_per_token", "held_out_bytes", "seconds", "corpus",
             "output", "source")
    rows = [
        [_td(s.get("tokenizer")), _td(s.get("algorithm")), _td(s.get("vocab_size"), number=True),
         _td(s.get("bytes_per_token"), number=True), _td(s.get("held_out_bytes"), number=True),
         _td(s.get("seconds"), number=True), _td(s.get("corpus")), _td(s.get("output")), _td(s.get("source"))]
        for s in data.train
    ]
    html = _table(["tokenizer", "algorithm", "vocabulary (tokens)", "held-out bytes/token", "held-out text (bytes)",
                   "training time (s)", "training corpus", "written to", "results file"], rows,
                  [False, False, True, True, True, True, False, False, False])
    extra = [{k: v for k, v in s.items() if k not in known} for s in data.train]
    if any(extra):
        html += "<details><summary>all training fields</summary><pre>" + _e(
            json.dumps(extra, indent=2, sort_keys=True, ensure_ascii=False)) + "</pre></details>"
    return html


@page_section("transplant", "Transplant")
def _transplant(data: ReportData) -> str | None:
    if not data.transplant:
        return None
    ratios = [r.get("ratio_to_original") for r in data.transplant if r.get("ratio_to_original") is not None]
    best = min(ratios) if ratios else None
    rows = [
        [_td(r.get("model")), _td(r.get("tokenizer")), _td(r["method"]), _td(r.get("bpb"), number=True),
         _td(r.get("ratio_to_original"), number=True,
             best=r.get("ratio_to_original") == best and r["method"] != "original"),
         _td(r.get("tokens_per_byte"), number=True), _td(r.get("seconds"), number=True), _td(r.get("eval_corpus"))]
        for r in data.transplant
    ]
    html = ('<p class="explain">Bits per UTF-8 byte of held-out text (lower is better); the ratio divides by the '
            "original model's bits per byte on the same text, so below 1.0 is better than the original.</p>")
    html += _table(["model", "new tokenizer", "method", "bits/byte", "ratio to original", "tokens/byte",
                    "time (s)", "evaluated on"], rows, [False, False, False, True, True, True, True, False])
    models = list(dict.fromkeys(str(r.get("model") or r["source"]) for r in data.transplant))
    methods = list(dict.fromkeys(r["method"] for r in data.transplant))
    values = {(r["method"], str(r.get("model") or r["source"])): (r.get("bpb"), "not evaluated")
              for r in data.transplant}
    if any(v is not None for v, _ in values.values()):
        chart = grouped_bar_chart(methods, models, values, unit="bits/byte", label="bits per byte by method")
        html += "<h3>Bits per byte by method (bits/byte)</h3>" + _legend(models)
        html += f'<div class="chart-wrap" data-chart="transplant-bpb">{chart}</div>'
    return html


@page_section("mixture", "Data mixture")
def _mixture(data: ReportData) -> str | None:
    if not data.mixture:
        return None
    rows = [str(e.get("tokenizer") or e["source"]) for e in data.mixture]
    # Two estimates for one tokenizer (from two files) get the file name as well, to stay apart.
    rows = [f"{row} ({Path(e['source']).name})" if rows.count(row) > 1 else row for row, e in
            zip(rows, data.mixture, strict=True)]
    shares = {row: e["proportions"] for row, e in zip(rows, data.mixture, strict=True)}
    chart, categories = stacked_share_chart(rows, shares, label="inferred training-data mixture")
    colours = ["#DDDDDD" if c == "other" else colour(i) for i, c in enumerate(categories)]
    return ('<p class="explain">Inferred proportions of the tokenizer\'s training data (share per category).</p>'
            + _legend(categories, colours) + f'<div class="chart-wrap" data-chart="mixture">{chart}</div>')


@page_section("bpb", "Bits per byte")
def _bits_per_byte(data: ReportData) -> str | None:
    if not data.bpb and not data.bytelm:
        return None
    html = ('<p class="explain">Models scored on raw text: bits per byte (lm-eval\'s definition: the text\'s '
            "negative log-likelihood over its UTF-8 bytes, lower is better) and tokens per byte.</p>")
    if data.bpb:
        rows = [[_td(Path(r["source"]).name), _td(r["model"]), _td(r["tokenizer"]), _td(r["corpus"]),
                 _td(r["bytes"], number=True), _td(r["bpb"], number=True), _td(r["tokens_per_byte"], number=True),
                 _td(f'{r.get("window")} / {r.get("stride")}')] for r in data.bpb]
        html += _table(["file", "model", "tokenizer", "corpus", "bytes", "bits per byte", "tokens per byte",
                        "window / stride"], rows, [False, False, False, False, True, True, True, False])
    if data.bytelm:
        html += ('<p class="explain">Byte-level scoring (<code>bpb --byte-level</code>): the probability of the '
                 "text summed over its tokenizations, beside the canonical tokenization's, in the same context."
                 "</p>")
        rows = [[_td(Path(r["source"]).name), _td(r["model"]), _td(r["corpus"]), _td(r["bytes"], number=True),
                 _td(r["byte_level_bpb"], number=True, best=r["byte_level_bpb"] <= r["canonical_bpb"]),
                 _td(r["canonical_bpb"], number=True), _td(r.get("window"), number=True),
                 _td(r.get("ms_per_byte"), number=True)] for r in data.bytelm]
        html += _table(["file", "model", "corpus", "bytes", "byte-level bits per byte", "canonical tokens",
                        "context (tokens)", "ms per byte"], rows, [False, False, False, True, True, True, True, True])
    return html


@page_section("ensemble", "Byte-level ensemble")
def _ensemble(data: ReportData) -> str | None:
    if not data.ensemble:
        return None
    html = ('<p class="explain">Models with different tokenizers mixed byte by byte (next-byte distributions '
            "averaged); bits per byte of each and of the mixture, and the bytes where they disagree most "
            "(Jensen-Shannon divergence, bits).</p>")
    for entry in data.ensemble:
        scores = entry["bpb"]
        best = min(v for v in scores.values() if v is not None)
        html += f"<h3>{_e(Path(entry['source']).name)} - {_e(format_number(entry.get('bytes')))} bytes</h3>"
        html += _table(["model", "bits per byte"], [[_td(name), _td(value, number=True, best=value == best)]
                                                     for name, value in scores.items()], [False, True])
        rows = []
        for row in entry.get("top_disagreements", []):
            members = row.get("members") or {}
            guesses = "; ".join(f"{name}: {m['top']['byte']!s} {m['top']['p']:.2f}" for name, m in members.items())
            context = f'{row.get("before", "")[-20:]}⟦{row.get("actual", "")}⟧{row.get("after", "")[:10]}'
            rows.append([_td(row.get("js_bits"), number=True), f'<td class="mono">{_e(context)}</td>', _td(guesses)])
        if rows:
            html += _table(["JS (bits)", "context ⟦byte⟧", "each model's top next byte"], rows, [True, False, False])
    return html


# -- viewer and provenance ------------------------------------------------------------------------
@page_section("viewer", "Token viewer")
def _viewer(data: ReportData) -> str | None:
    payload = viewer_payload(data.measure)
    if not payload["samples"]:
        return None
    options = "".join(
        f'<option value="{i}">{_e(_corpus_label({"name": s["corpus"], "lang": s.get("lang")}))} '
        f'({len(s["tokens"])} tokenizers)</option>'
        for i, s in enumerate(payload["samples"])
    )
    return (
        '<p class="explain">Sample sentences segmented by each tokenizer. Hover a token for its id and bytes.</p>'
        '<p class="key">Key: <span class="tok t0">alternate</span><span class="tok t1">colours</span> per token; '
        '<span class="tok t0 ws">␣ ↵ ⇥</span> space, newline, tab; '
        '<span class="tok t1">\\x1b \\u202e</span> control characters (bidi ones too), escaped; '
        '<span class="tok t1 partial">中</span><span class="tok t0 partial">·</span> pieces of one character '
        "(byte-fallback tokens or a byte-level split): the character is shown on the piece holding its first "
        "byte, a dot on the others; hover for the bytes; "
        '<span class="tok t1 partial">‹e4›</span> bytes that form no character.</p>'
        f'<div class="viewer-controls"><label for="viewer-lang">Language: </label>'
        f'<select id="viewer-lang">{options}</select></div>'
        '<div id="viewer-output"><noscript>The viewer needs JavaScript.</noscript></div>'
        f'<script type="application/json" id="viewer-data">{embed_json(payload)}</script>'
    )


@page_section("provenance", "Provenance")
def _provenance(data: ReportData) -> str | None:
    html = ""
    for entry in data.provenance:
        rows = [[f"<th>{_e(k)}</th>", _td(entry.get(k))] for k in
                ("source", "command", "tokensmith_version", "git_commit", "created", "python", "platform")]
        html += f"<h3>{_e(entry.get('source'))}</h3>" + "<table><tbody>" + "".join(
            "<tr>" + "".join(r) + "</tr>" for r in rows) + "</tbody></table>"
        versions = entry.get("versions") or {}
        if versions:
            html += "<details><summary>library versions</summary>" + _table(
                ["package", "version"], [[_td(k), _td(v)] for k, v in sorted(versions.items())]) + "</details>"
        html += "<details><summary>parameters</summary><pre>" + _e(
            json.dumps(entry.get("parameters"), indent=2, sort_keys=True, ensure_ascii=False)) + "</pre></details>"
    if data.measure is not None:
        hashes = [[_td("tokenizer"), _td(t["name"]), f'<td class="mono">{_e(t.get("sha256"))}</td>',
                   _td(", ".join(map(str, t.get("sources") or [])))] for t in data.measure.tokenizers]
        hashes += [[_td("corpus"), _td(c["name"]), f'<td class="mono">{_e(c.get("sha256"))}</td>',
                    _td(", ".join(map(str, c.get("sources") or [])))] for c in data.measure.corpora]
        html += "<h3>Hashes</h3>" + _table(["kind", "name", "sha256", "files"], hashes)
        html += (f'<p class="explain">Measurement time {format_number(data.measure.seconds)} s; peak memory '
                 f"{format_number(data.measure.peak_rss_mb)} MB.</p>")
    return html or None


# -- page -----------------------------------------------------------------------------------------
def _notice(anchor: str, heading: str, items: Sequence[str]) -> str:
    if not items:
        return ""
    listed = "".join(f"<li>{_e(item)}</li>" for item in items)
    return f'<section id="{anchor}" class="notice"><strong>{_e(heading)}</strong><ul>{listed}</ul></section>'


def _static(name: str) -> str:
    return resources.files("tokensmith.report").joinpath("static", name).read_text(encoding="utf-8")


def render_report(results_docs: list[dict[str, Any]], *, title: str | None = None,
                  sources: list[str] | None = None) -> str:
    """Render results documents (as returned by ``read_results``) to one self-contained HTML page.

    Args:
        results_docs: one or more results envelopes; merged as described in ``tokensmith.report.data``.
        title: page heading; defaults to a summary of what was measured.
        sources: a label per document (file names) for provenance; defaults to "file N".

    Returns:
        The HTML text (UTF-8, no external resources).

    Raises:
        InputError: a section has a shape the report cannot read.
    """
    data = merge_results(results_docs, sources)
    if title is None:
        title = "tokensmith report"
        if data.measure is not None:
            title += f": {len(data.measure.tokenizers)} tokenizers on {len(data.measure.corpora)} corpora"
    rendered = [(s, s.render(data)) for _, s in PAGE_SECTIONS.items()]
    rendered = [(s, body) for s, body in rendered if body]
    nav = "".join(f'<a href="#{s.name}">{_e(s.title)}</a>' for s, _ in rendered)
    notices = [*data.missing()]
    notices += [f"section {kind!r} is not understood by this tokensmith version and is not shown"
                for kind in data.unknown_sections]
    warnings = data.measure.warnings if data.measure is not None else []
    notice_html = (_notice("warnings", "Read these figures with care:", warnings)
                   + _notice("missing", "Not in these files:", notices)
                   + _notice("merge-notes", "Merging:", data.notes))
    body = "".join(f'<section id="{s.name}"><h2>{_e(s.title)}</h2>{html}</section>' for s, html in rendered)
    created = sorted({str(p.get("created")) for p in data.provenance if p.get("created")})
    subtitle = (f"{len(data.sources)} results file{'s' if len(data.sources) != 1 else ''}: "
                + ", ".join(Path(s).name for s in data.sources)
                + (f" · measured {created[0]}" + (f" to {created[-1]}" if len(created) > 1 else "") if created else ""))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_static('report.css')}</style></head><body>"
        f'<header><h1>{_e(title)}</h1><p class="sub">{_e(subtitle)}</p><nav>{nav}</nav></header>'
        f"<main>{notice_html}{body}</main><script>{_static('report.js')}</script></body></html>\n"
    )


def write_report(paths: Sequence[str | os.PathLike], out: str | os.PathLike, *, force: bool = False,
                 title: str | None = None) -> Path:
    """The `tokensmith report` command: read results files, render, write the page atomically.

    Args:
        paths: results.json files (one or more), merged in this order.
        out: the HTML file to write.
        force: overwrite ``out`` if it exists.
        title: page heading.

    Returns:
        The written path.

    Raises:
        OutputExistsError: ``out`` exists and ``force`` is False (checked before reading anything).
        InputError: no input, or a file is missing, truncated, foreign or of another schema version.
    """
    from tokensmith.errors import InputError
    from tokensmith.io import check_file_writable, write_text_atomic
    from tokensmith.results import read_results

    if not paths:
        raise InputError("no results file given", "pass one or more results.json files written with --out")
    check_file_writable(out, force=force)
    docs = [read_results(p) for p in paths]
    html = render_report(docs, title=title, sources=[str(p) for p in paths])
    # a file name that is not UTF-8 (a lone surrogate in results.json) has no UTF-8 form: "?", as `ls` shows it
    html = html.encode("utf-8", "replace").decode("utf-8")
    return write_text_atomic(out, html, force=force)


