"""What the report reads: the sections of results files, checked and merged into one :class:`ReportData`.

The report is rendered from results files alone (``tokensmith.results`` envelopes). Each command
fills one section; this module is the contract for the shapes the report understands. Keys not
listed are ignored, so producers may add fields freely; listed keys marked optional may be absent.

``measure`` (written by ``tokensmith measure``, see ``MeasureResult.section``)::

    {"tokenizers": [{"name", "format", "model", "byte_level", "vocab_size", "backend", "sha256", ...}],
     "corpora":    [{"name", "lang", "parallel_group", "documents", "bytes", "sha256", ...}],
     "metrics":    [{"name", "unit", "higher_is_better", "reference", "description", "params", ...}],  # optional
     "records":    [{"tokenizer", "corpus", "lang", "metric", "value", "unit", "higher_is_better",
                     "params", "reason"}],             # value None + reason when not applicable
     "cells":      [{"tokenizer", "corpus", "lang", "documents", "bytes", "tokens", ...}],
     "samples":    [{"corpus", "lang", "sentences": [str],
                     "tokens": {tokenizer: [[[token_id, token_bytes_hex], ...] per sentence]}}],
     "seconds": float, "peak_rss_mb": float}

``train`` (one trained tokenizer per file)::

    {"summary": {"algorithm": str, "vocab_size": int, "seconds": float,
                 "bytes_per_token": float | None,      # on held-out text
                 "tokenizer": str (optional, name of the result), "corpus": str (optional),
                 "held_out_bytes": int (optional), "output": str (optional)}}
    # `tokensmith train` and `adapt` write "name", "held_out" {"bytes", "bytes_per_token": {"trained"}},
    # "corpora" [{"name"}] and "files" {"tokenizer.json"}: read as tokenizer, the held-out figures, corpus
    # and output (the folder) where those keys are absent.

``transplant`` (one model per file, one row per init method)::

    {"model": str (optional), "tokenizer": str (optional), "eval_corpus": str (optional),
     "rows": [{"method": str, "bpb": float,            # bits per UTF-8 byte on held-out text
               "ratio_to_original": float | None,      # bpb / bpb of the original model
               "tokens_per_byte": float,
               "seconds": float (optional)}]}
    # a row with method "original" is the untouched model; ratios are derived from it when absent.
    # `tokensmith transplant` and `adapt` write records instead ({"name", ...} for model and tokenizer,
    # "corpus": {"path", ...}) and per row "ratio", "bpb_original", "tokens_per_byte_original": read as
    # the names, the file name of the path, "ratio_to_original" and one "original" row.

``vocab`` (written by ``tokensmith.metrics.vocab_section.build_vocab_section``; shares in percent)::

    {"tokenizers": {name: {"composition": {"vocab_size": int, "tokens": int,
                                           "script_percent": {script: percent},      # 0-100
                                           "kind_percent": {kind: percent},
                                           "position_percent": {position: percent}},
                           ...}},                                                  # other keys ignored
     "overlap": [{"a": name, "b": name, "shared": int, "union": int, "jaccard": float}, ...]}

``mixture`` (inferred training-data mixture, one estimate per tokenizer)::

    {"estimates": [{"tokenizer": str, "proportions": {category: share}, "method": str (optional)}]}

Merging several files: measure tables are merged by tokenizer and corpus name (a later file's record
for the same tokenizer, corpus and metric replaces the earlier one); a name that two files use for
different content (different sha256) is kept apart by suffixing ``#<file number>`` to the later
one. Train summaries, transplant rows and mixture estimates are concatenated; vocab entries are
merged by tokenizer. Sections the report does not know are listed as such on the page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokensmith.errors import InputError
from tokensmith.registry import Registry


@dataclass(frozen=True)
class SectionKind:
    """One kind of results section the report understands.

    Attributes:
        name: the key under ``sections`` in results.json.
        missing: what the page says when no file carries this section ("": nothing, for a section that
            only some studies produce, such as a model's bits per byte).
        merge: ``(report_data, section, where, file_index)``; checks the shape and folds it in.
    """

    name: str
    missing: str
    merge: Callable[[ReportData, Mapping[str, Any], str, int], None]


@dataclass
class MeasureData:
    """The merged ``measure`` sections."""

    tokenizers: list[dict[str, Any]] = field(default_factory=list)
    corpora: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    cells: list[dict[str, Any]] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # measure's caveats (text dropped, much UNK)
    seconds: float = 0.0
    peak_rss_mb: float = 0.0

    def tokenizer_names(self) -> list[str]:
        return [t["name"] for t in self.tokenizers]

    def values(self, metric: str) -> dict[tuple[str, str], dict[str, Any]]:
        """(tokenizer, corpus) -> record of ``metric``."""
        return {(r["tokenizer"], r["corpus"]): r for r in self.records if r["metric"] == metric}


@dataclass
class ReportData:
    """Everything the page shows, merged from one or more results files."""

    sources: list[str]
    provenance: list[dict[str, Any]]
    measure: MeasureData | None = None
    train: list[dict[str, Any]] = field(default_factory=list)
    transplant: list[dict[str, Any]] = field(default_factory=list)
    vocab: list[dict[str, Any]] = field(default_factory=list)  # {tokenizer, vocab_size, scripts, kinds, positions}
    vocab_overlap: list[dict[str, Any]] = field(default_factory=list)
    mixture: list[dict[str, Any]] = field(default_factory=list)
    ensemble: list[dict[str, Any]] = field(default_factory=list)  # byte-level ensembles, one per file
    bpb: list[dict[str, Any]] = field(default_factory=list)  # `bpb` runs (token-level), one per file
    bytelm: list[dict[str, Any]] = field(default_factory=list)  # `bpb --byte-level` runs, one per file
    unknown_sections: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # merge decisions the reader should know about

    def present(self) -> set[str]:
        """Names of the section kinds some file carried (each is a field of this object)."""
        return {name for name in SECTION_KINDS.names() if getattr(self, name)}

    def missing(self) -> list[str]:
        """What the page says about each known section no file carried."""
        present = self.present()
        return [kind.missing for name, kind in SECTION_KINDS.items() if name not in present and kind.missing]


def _require(condition: bool, where: str, what: str) -> None:
    if not condition:
        raise InputError(f"{where}: {what}", "re-run the command that wrote this results file")


def _list_of_dicts(value: Any, where: str) -> list[dict[str, Any]]:
    _require(isinstance(value, list) and all(isinstance(v, dict) for v in value), where, "expected a list of objects")
    return value


def _number_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))


def merge_results(docs: list[dict[str, Any]], sources: list[str] | None = None) -> ReportData:
    """Merge validated results documents (``read_results`` output) into what the report shows.

    Args:
        docs: results envelopes, in the order given on the command line.
        sources: a label per document (its path) for messages and provenance; defaults to "file N".

    Raises:
        InputError: a section has the wrong shape (names the file and the field).
    """
    sources = sources or [f"file {i + 1}" for i in range(len(docs))]
    if len(sources) != len(docs):
        raise ValueError(f"{len(sources)} source labels for {len(docs)} results documents")
    data = ReportData(sources=list(sources), provenance=[])
    for index, (doc, source) in enumerate(zip(docs, sources, strict=True)):
        _require(isinstance(doc, dict) and isinstance(doc.get("sections"), dict), source, "not a results document")
        provenance = doc.get("provenance")
        data.provenance.append({"source": source, **(provenance if isinstance(provenance, dict) else {})})
        for kind, section in doc["sections"].items():
            where = f"{source}, section {kind!r}"
            if kind not in SECTION_KINDS:
                if kind not in data.unknown_sections:
                    data.unknown_sections.append(kind)
                continue
            _require(isinstance(section, dict), where, "expected an object")
            SECTION_KINDS.get(kind).merge(data, section, where, index)
    return data


# -- measure --------------------------------------------------------------------------------------
def _merge_measure(data: ReportData, section: Mapping[str, Any], where: str, index: int) -> None:
    tokenizers = _list_of_dicts(section.get("tokenizers", []), f"{where}, 'tokenizers'")
    corpora = _list_of_dicts(section.get("corpora", []), f"{where}, 'corpora'")
    records = _list_of_dicts(section.get("records", []), f"{where}, 'records'")
    cells = _list_of_dicts(section.get("cells", []), f"{where}, 'cells'")
    samples = _list_of_dicts(section.get("samples", []), f"{where}, 'samples'")
    warnings = section.get("warnings", [])
    _require(isinstance(warnings, list) and all(isinstance(w, str) for w in warnings), f"{where}, 'warnings'",
             "expected a list of strings")
    for record in records:
        for key in ("tokenizer", "corpus", "metric"):
            _require(isinstance(record.get(key), str), f"{where}, a record", f"{key!r} must be a string")
        _require(_number_or_none(record.get("value")), f"{where}, record {record['metric']!r}", "value is not a number")
    for entry in (*tokenizers, *corpora):
        _require(isinstance(entry.get("name"), str), where, "a tokenizer or corpus has no name")

    merged = data.measure if data.measure is not None else MeasureData()
    data.measure = merged
    rename_tokenizer = _admit(merged.tokenizers, tokenizers, index, data.notes, "tokenizer")
    rename_corpus = _admit(merged.corpora, corpora, index, data.notes, "corpus")

    def renamed(entry: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(entry)
        if "tokenizer" in out:
            out["tokenizer"] = rename_tokenizer.get(out["tokenizer"], out["tokenizer"])
        if "corpus" in out:
            out["corpus"] = rename_corpus.get(out["corpus"], out["corpus"])
        return out

    _replace_by_key(merged.records, [renamed(r) for r in records], ("tokenizer", "corpus", "metric"))
    _replace_by_key(merged.cells, [renamed(c) for c in cells], ("tokenizer", "corpus"))
    for sample in samples:
        _merge_sample(merged, renamed(sample), rename_tokenizer, where, data.notes)
    merged.warnings.extend(w for w in warnings if w not in merged.warnings)
    seconds, rss = section.get("seconds"), section.get("peak_rss_mb")
    merged.seconds += float(seconds) if _number_or_none(seconds) and seconds is not None else 0.0
    merged.peak_rss_mb = max(merged.peak_rss_mb, float(rss) if _number_or_none(rss) and rss is not None else 0.0)


def _admit(known: list[dict[str, Any]], incoming: list[dict[str, Any]], index: int, notes: list[str], kind: str):
    """Add tokenizer/corpus descriptions; returns renames for names already used by different content."""
    by_name = {entry["name"]: entry for entry in known}
    renames: dict[str, str] = {}
    for entry in incoming:
        name = entry["name"]
        existing = by_name.get(name)
        if existing is None:
            known.append(dict(entry))
            by_name[name] = known[-1]
        elif existing.get("sha256") != entry.get("sha256"):
            new_name = f"{name}#{index + 1}"
            renames[name] = new_name
            notes.append(
                f"{kind} {name!r} of file {index + 1} differs from the earlier one (sha256); shown as {new_name!r}"
            )
            known.append({**entry, "name": new_name})
            by_name[new_name] = known[-1]
    return renames


def _replace_by_key(target: list[dict[str, Any]], incoming: list[dict[str, Any]], key: tuple[str, ...]) -> None:
    position = {tuple(item.get(k) for k in key): i for i, item in enumerate(target)}
    for item in incoming:
        identity = tuple(item.get(k) for k in key)
        if identity in position:
            target[position[identity]] = item
        else:
            position[identity] = len(target)
            target.append(item)


def _merge_sample(merged: MeasureData, sample: dict[str, Any], rename: dict[str, str], where: str, notes) -> None:
    sentences = sample.get("sentences")
    tokens = sample.get("tokens")
    _require(isinstance(sentences, list) and all(isinstance(s, str) for s in sentences), where, "sample sentences")
    _require(isinstance(tokens, dict), where, "sample 'tokens' must map tokenizer -> segmentations")
    for name, per_sentence in tokens.items():
        _require(isinstance(per_sentence, list) and len(per_sentence) == len(sentences), where,
                 f"sample of {sample.get('corpus')!r} by {name!r} must have one token list per sentence")
        for sentence_tokens in per_sentence:
            _require(
                isinstance(sentence_tokens, list)
                and all(isinstance(t, list) and len(t) == 2 and isinstance(t[0], int) and isinstance(t[1], str)
                        for t in sentence_tokens),
                where, f"tokens of {name!r} must be [token_id, bytes_hex] pairs",
            )
    tokens = {rename.get(name, name): value for name, value in tokens.items()}
    for existing in merged.samples:
        if existing["corpus"] == sample.get("corpus"):
            if existing["sentences"] == sentences:
                existing["tokens"].update(tokens)
            else:
                notes.append(f"viewer sentences of {sample.get('corpus')!r} differ between files; the first are shown")
            return
    merged.samples.append({"corpus": sample.get("corpus"), "lang": sample.get("lang"), "sentences": list(sentences),
                           "tokens": dict(tokens)})


# -- train, transplant, vocab, mixture ------------------------------------------------------------
def _merge_train(data: ReportData, section: Mapping[str, Any], where: str, index: int) -> None:
    summary = section.get("summary")
    _require(isinstance(summary, dict), where, "expected a 'summary' object")
    _require(isinstance(summary.get("algorithm"), str), where, "summary needs an 'algorithm'")
    for key in ("vocab_size", "seconds", "bytes_per_token"):
        _require(_number_or_none(summary.get(key)), where, f"summary {key!r} must be a number")
    derived = _documented_train_keys(summary)
    for key in ("bytes_per_token", "held_out_bytes"):
        _require(_number_or_none(derived.get(key)), where, f"held-out {key!r} must be a number")
    data.train.append({"source": data.sources[index], **derived, **summary})


def _documented_train_keys(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The documented keys from what `train` and `adapt` write: "name", "held_out": {"bytes",
    "bytes_per_token": {"trained": ...}}, "corpora": [{"name", ...}], "files": {"tokenizer.json": path}."""
    held_out = summary.get("held_out") if isinstance(summary.get("held_out"), dict) else {}
    per_tokenizer = held_out.get("bytes_per_token") if isinstance(held_out.get("bytes_per_token"), dict) else {}
    corpora = summary.get("corpora") if isinstance(summary.get("corpora"), list) else []
    files = summary.get("files") if isinstance(summary.get("files"), dict) else {}
    written = files.get("tokenizer.json")
    derived = {
        "tokenizer": summary.get("name"),
        "bytes_per_token": per_tokenizer.get("trained"),
        "held_out_bytes": held_out.get("bytes"),
        "corpus": ", ".join(str(c.get("name")) for c in corpora if isinstance(c, dict)) or None,
        "output": str(Path(str(written)).parent) if written else None,
    }
    return {key: value for key, value in derived.items() if value is not None}


def _record_name(value: Any) -> Any:
    """The name of a model or tokenizer record (as the transplant command writes them), else the value."""
    return value.get("name") if isinstance(value, dict) else value


def _merge_transplant(data: ReportData, section: Mapping[str, Any], where: str, index: int) -> None:
    rows = [dict(row) for row in _list_of_dicts(section.get("rows"), f"{where}, 'rows'")]
    for row in rows:  # the command's names for the documented keys
        if "ratio_to_original" not in row and "ratio" in row:
            row["ratio_to_original"] = row["ratio"]
    measured_before = next((r for r in rows if r.get("bpb_original") is not None), None)
    if measured_before is not None and not any(r.get("method") == "original" for r in rows):
        rows.insert(0, {"method": "original", "bpb": measured_before["bpb_original"], "ratio_to_original": 1.0,
                        "tokens_per_byte": measured_before.get("tokens_per_byte_original")})
    original = next((r.get("bpb") for r in rows if r.get("method") == "original"), None)
    corpus = section.get("corpus")
    eval_corpus = section.get("eval_corpus") or _corpus_file(corpus)
    for row in rows:
        _require(isinstance(row.get("method"), str), where, "a row has no 'method'")
        for key in ("bpb", "ratio_to_original", "tokens_per_byte"):
            _require(_number_or_none(row.get(key)), where, f"{key!r} of method {row['method']!r} must be a number")
        out = {"model": _record_name(section.get("model")), "tokenizer": _record_name(section.get("tokenizer")),
               "eval_corpus": eval_corpus, "source": data.sources[index], **row}
        if out.get("ratio_to_original") is None and original and row.get("bpb") is not None:
            out["ratio_to_original"] = row["bpb"] / original
        data.transplant.append(out)


def _merge_vocab(data: ReportData, section: Mapping[str, Any], where: str, index: int) -> None:
    tokenizers = section.get("tokenizers")
    _require(isinstance(tokenizers, dict), where, "'tokenizers' must map tokenizer names to their figures")
    entries = []
    for name, figures in tokenizers.items():
        composition = figures.get("composition") if isinstance(figures, dict) else None
        _require(isinstance(composition, dict), where, f"{name!r} has no 'composition' object")
        entry: dict[str, Any] = {"tokenizer": name, "vocab_size": composition.get("vocab_size")}
        for key, field_name in (("scripts", "script_percent"), ("kinds", "kind_percent"),
                                ("positions", "position_percent")):
            percents = composition.get(field_name, {})
            _require(isinstance(percents, dict) and all(_number_or_none(v) for v in percents.values()), where,
                     f"{field_name!r} of {name!r} must map names to percentages")
            entry[key] = {k: (v or 0.0) / 100.0 for k, v in percents.items()}
        entries.append(entry)
    _replace_by_key(data.vocab, entries, ("tokenizer",))
    overlap = _list_of_dicts(section.get("overlap", []), f"{where}, 'overlap'")
    _replace_by_key(data.vocab_overlap, [dict(o) for o in overlap], ("a", "b"))


def _merge_mixture(data: ReportData, section: Mapping[str, Any], where: str, index: int) -> None:
    """One ``tokensmith mixture`` section: the tokenizer and its categories with inferred proportions."""
    categories = _list_of_dicts(section.get("categories"), f"{where}, 'categories'")
    proportions = {}
    for category in categories:
        _require(isinstance(category.get("name"), str) and _number_or_none(category.get("proportion")), where,
                 "each category needs a 'name' and a numeric 'proportion'")
        proportions[category["name"]] = category["proportion"]
    tokenizer = section.get("tokenizer")
    data.mixture.append({"source": data.sources[index], "tokenizer": tokenizer, "proportions": proportions,
                         "merges_used": section.get("merges_used")})


def _merge_ensemble(data: ReportData, section: Mapping[str, Any], where: str, index: int) -> None:
    scores = section.get("bpb")
    _require(isinstance(scores, dict) and all(_number_or_none(v) for v in scores.values()), where,
             "'bpb' must map models (and 'ensemble') to bits per byte")
    _list_of_dicts(section.get("top_disagreements", []), f"{where}, 'top_disagreements'")
    data.ensemble.append({"source": data.sources[index], **section})


def _corpus_file(corpus: Any) -> str | None:
    """The file name of a scoring command's corpus record (``{"path": ...}``)."""
    return Path(str(corpus["path"])).name if isinstance(corpus, dict) and corpus.get("path") else None


def _merge_bpb(data: ReportData, section: Mapping[str, Any], where: str, index: int) -> None:
    """One ``tokensmith bpb`` section: a model's token-level bits per byte on a corpus."""
    for key in ("bpb", "tokens_per_byte", "bytes"):
        _require(section.get(key) is not None and _number_or_none(section.get(key)), where, f"{key!r} must be a number")
    data.bpb.append({"source": data.sources[index], "model": _record_name(section.get("model")),
                     "tokenizer": _record_name(section.get("tokenizer")), "corpus": _corpus_file(section.get("corpus")),
                     **{key: section.get(key) for key in ("bpb", "tokens_per_byte", "bytes", "window", "stride")}})


def _merge_bytelm(data: ReportData, section: Mapping[str, Any], where: str, index: int) -> None:
    """One ``tokensmith bpb --byte-level`` section: byte-level bits per byte beside the canonical tokens'."""
    byte_level, canonical = section.get("byte_level"), section.get("canonical")
    _require(isinstance(byte_level, dict) and isinstance(canonical, dict), where,
             "'byte_level' and 'canonical' must be objects")
    for name, record in (("byte_level", byte_level), ("canonical", canonical)):
        _require(record.get("bpb") is not None and _number_or_none(record.get("bpb")), where,
                 f"'bpb' of {name!r} must be a number")
    data.bytelm.append({"source": data.sources[index], "model": _record_name(section.get("model")),
                        "corpus": _corpus_file(section.get("corpus")), "bytes": byte_level.get("bytes"),
                        "byte_level_bpb": byte_level["bpb"], "canonical_bpb": canonical["bpb"],
                        "window": canonical.get("window"), "ms_per_byte": byte_level.get("ms_per_byte")})


#: Every results section the report renders, in page order.
SECTION_KINDS: Registry[SectionKind] = Registry("results section")
for _kind in (
    SectionKind("measure", "no measurement results in these files (run `tokensmith measure ... --out FILE`)",
                _merge_measure),
    SectionKind("vocab", "no vocabulary composition in these files", _merge_vocab),
    SectionKind("train", "no training results in these files (run `tokensmith train ... --out FILE`)", _merge_train),
    SectionKind("transplant", "no transplant results in these files (run `tokensmith transplant ... --out FILE`)",
                _merge_transplant),
    SectionKind("mixture", "no data-mixture estimates in these files", _merge_mixture),
    SectionKind("ensemble", "no byte-level ensemble in these files (run `tokensmith ensemble ... --out FILE`)",
                _merge_ensemble),
    SectionKind("bpb", "", _merge_bpb),
    SectionKind("bytelm", "", _merge_bytelm),
):
    SECTION_KINDS.add(_kind.name, _kind)
