"""The metric registry: one frozen :class:`Metric` per figure tokensmith reports.

Every metric is a ratio of sums over a cell's :class:`~tokensmith.metrics.stats.TokenStats` (or
over several cells: a baseline tokenizer, the languages of a parallel corpus). A metric that cannot
be computed for a cell returns :class:`MetricValue` with ``value=None`` and the reason, never a
number that would mislead (fertility on Chinese without a segmenter, for instance).

Two scopes:

* ``"cell"``: ``compute(stats, context, params)``, one value per (tokenizer, corpus);
* ``"parallel_group"``: ``compute(cells, context, params)``, one value per (tokenizer, parallel
  corpus), ``cells`` holding that tokenizer's cells for every language of the corpus.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from tokensmith.errors import InputError
from tokensmith.metrics.stats import TokenStats
from tokensmith.registry import Registry

#: What a metric can need. "corpus": any measured text; "parallel": cells of a line-aligned parallel
#: corpus; "baseline": a baseline tokenizer measured on the same corpora; "words": word counts from a
#: segmenter; "vocab": vocabulary facts beyond the size (token byte lengths); "timing": encode time.
REQUIREMENTS = frozenset({"corpus", "parallel", "baseline", "words", "vocab", "timing"})

#: Requirements the *user* chooses to supply (flags); when absent the metric is left out entirely
#: instead of filling the table with "not applicable". Others yield None with a reason per cell.
OPTIONAL_INPUTS = frozenset({"parallel", "baseline"})

SCOPES = ("cell", "parallel_group")

ParamValue = float | int | str


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)


#: What each metric parameter must be (a test on the value, and what to tell the user). An override out of
#: range is refused up front: a NaN or infinite Rényi order gave NaN records, which results.json cannot hold.
PARAM_RULES: Mapping[str, tuple[Callable[[object], bool], str]] = MappingProxyType({
    "alpha": (lambda v: _is_number(v) and 0 < v < math.inf, "a positive finite number"),
    "max_unk_rate": (lambda v: _is_number(v) and 0 <= v <= 1, "a fraction between 0 and 1"),
    "ref_lang": (lambda v: isinstance(v, str) and bool(v.strip()), "a language tag, e.g. 'en'"),
})


@dataclass(frozen=True)
class MetricValue:
    """A metric's value for one cell or group, or None with the reason it is not applicable."""

    value: float | None
    reason: str | None = None

    def __post_init__(self) -> None:
        if (self.value is None) == (self.reason is None):
            raise ValueError("a MetricValue has either a value or a reason, not both or neither")


def not_applicable(reason: str) -> MetricValue:
    return MetricValue(None, reason)


def ratio(numerator: float, denominator: float, *, what: str) -> MetricValue:
    """``numerator / denominator``, or not applicable when the denominator is zero."""
    if denominator == 0:
        return not_applicable(f"no {what} to divide by")
    return MetricValue(float(numerator) / float(denominator))


@dataclass(frozen=True)
class MetricContext:
    """Everything a cross-cell metric may look at.

    Attributes:
        cells: every measured cell.
        baseline: tokenizer name NSL divides by, or None.
    """

    cells: tuple[TokenStats, ...]
    baseline: str | None = None

    def __post_init__(self) -> None:
        seen: set[tuple[str, str]] = set()
        for stats in self.cells:
            key = (stats.tokenizer, stats.corpus)
            if key in seen:
                raise ValueError(f"two cells for tokenizer {key[0]!r} on corpus {key[1]!r}; merge them first")
            seen.add(key)

    def cell(self, tokenizer: str, corpus: str) -> TokenStats | None:
        return next((c for c in self.cells if c.tokenizer == tokenizer and c.corpus == corpus), None)

    def parallel_groups(self) -> dict[tuple[str, str], list[TokenStats]]:
        """(tokenizer, parallel corpus) -> that tokenizer's cells on it, in measuring order."""
        groups: dict[tuple[str, str], list[TokenStats]] = {}
        for stats in self.cells:
            if stats.parallel_group is not None:
                groups.setdefault((stats.tokenizer, stats.parallel_group), []).append(stats)
        return groups

    def has(self, requirement: str) -> bool:
        """Whether the user supplied an optional input (see :data:`OPTIONAL_INPUTS`)."""
        if requirement == "baseline":
            return self.baseline is not None
        if requirement == "parallel":
            return any(c.parallel_group is not None for c in self.cells)
        return True


CellCompute = Callable[[TokenStats, MetricContext, Mapping[str, ParamValue]], MetricValue]
GroupCompute = Callable[[Sequence[TokenStats], MetricContext, Mapping[str, ParamValue]], MetricValue]


@dataclass(frozen=True)
class Metric:
    """One registered metric.

    Attributes:
        name: identifier, with its unit where one applies (``bytes_per_token``).
        pretty_name: column header for tables.
        unit: unit of the value ("bytes/token", "fraction", "ratio", "bits", "MB/s"...).
        higher_is_better: True / False, or None for descriptive figures with no better direction.
        reference: the paper (with arXiv id) or tool whose definition is followed.
        requires: subset of :data:`REQUIREMENTS`.
        compute: the function, of the signature its ``scope`` implies.
        scope: "cell" or "parallel_group".
        params: default parameters (e.g. ``{"alpha": 2.5}``), overridable per call and reported.
        description: one sentence saying exactly what is divided by what.
    """

    name: str
    pretty_name: str
    unit: str
    higher_is_better: bool | None
    reference: str
    requires: frozenset[str]
    compute: Callable[..., MetricValue] = field(repr=False)
    scope: str = "cell"
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        unknown = self.requires - REQUIREMENTS
        if unknown:
            raise ValueError(f"metric {self.name!r} requires unknown inputs {sorted(unknown)}")
        if self.scope not in SCOPES:
            raise ValueError(f"metric {self.name!r} has unknown scope {self.scope!r}; known: {SCOPES}")
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def resolve_params(self, overrides: Mapping[str, ParamValue] | None) -> dict[str, ParamValue]:
        """Defaults updated with ``overrides``; unknown parameter names raise :class:`InputError`."""
        overrides = dict(overrides or {})
        unknown = set(overrides) - set(self.params)
        if unknown:
            takes = ", ".join(sorted(self.params)) or "no parameters"
            names = ", ".join(sorted(unknown))
            raise InputError(f"metric {self.name!r} has no parameter {names}", f"it takes: {takes}")
        for name, value in overrides.items():
            accepts, what = PARAM_RULES.get(name, (lambda v: True, ""))
            if not accepts(value):
                raise InputError(f"metric {self.name!r}: parameter {name} = {value!r} is not {what}",
                                 f"give {name} as {what} (default {self.params[name]!r})")
        return {**self.params, **overrides}


METRICS: Registry[Metric] = Registry("metric")


def metric(
    name: str,
    *,
    pretty_name: str,
    unit: str,
    higher_is_better: bool | None,
    reference: str,
    requires: Iterable[str] = ("corpus",),
    scope: str = "cell",
    params: Mapping[str, ParamValue] | None = None,
) -> Callable[[Callable[..., MetricValue]], Callable[..., MetricValue]]:
    """Decorator registering ``compute`` as metric ``name``; its docstring's first line is the description."""

    def register(compute: Callable[..., MetricValue]) -> Callable[..., MetricValue]:
        description = (compute.__doc__ or "").strip().splitlines()[0] if compute.__doc__ else ""
        METRICS.add(
            name,
            Metric(
                name=name,
                pretty_name=pretty_name,
                unit=unit,
                higher_is_better=higher_is_better,
                reference=reference,
                requires=frozenset(requires),
                compute=compute,
                scope=scope,
                params=dict(params or {}),
                description=description,
            ),
        )
        return compute

    return register


def describe_metrics() -> list[dict[str, Any]]:
    """Every registered metric as a plain dict (for `tokensmith ls metrics` and results.json)."""
    return [
        {
            "name": m.name,
            "pretty_name": m.pretty_name,
            "unit": m.unit,
            "higher_is_better": m.higher_is_better,
            "reference": m.reference,
            "requires": sorted(m.requires),
            "scope": m.scope,
            "params": dict(m.params),
            "description": m.description,
        }
        for _, m in METRICS.items()
    ]
