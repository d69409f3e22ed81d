"""Metrics over measured token streams.

:class:`TokenStats` accumulates one (tokenizer, corpus) cell; :func:`compute_all` turns cells into
flat records, one per registered :class:`Metric` (see :data:`METRICS`).
"""

from tokensmith.metrics.base import (
    METRICS,
    Metric,
    MetricContext,
    MetricValue,
    describe_metrics,
    metric,
    not_applicable,
    ratio,
)
from tokensmith.metrics.corpus_metrics import (
    RECORD_FIELDS,
    compute_all,
    gini,
    renyi_entropy_bits,
    shannon_entropy_bits,
)
from tokensmith.metrics.stats import TokenStats, VocabularyFacts
from tokensmith.metrics.word_split import WordSplit, WordSplitter, WordTally, folds_leading_space

__all__ = [
    "METRICS",
    "RECORD_FIELDS",
    "Metric",
    "MetricContext",
    "MetricValue",
    "TokenStats",
    "VocabularyFacts",
    "WordSplit",
    "WordSplitter",
    "WordTally",
    "compute_all",
    "describe_metrics",
    "folds_leading_space",
    "gini",
    "metric",
    "not_applicable",
    "ratio",
    "renyi_entropy_bits",
    "shannon_entropy_bits",
]
