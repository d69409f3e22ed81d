"""`tokensmith measure`: every tokenizer on every corpus, in one streaming pass per corpus.

Each corpus is read once; every batch of documents is word-segmented once and encoded by each
tokenizer through its fastest exact backend; per-cell accumulators keep sums only (memory stays flat
as the corpus grows). Metrics are computed from the sums at the end, as ratios of sums.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tokensmith.errors import InputError

#: Documents are handed to the encoders in batches of about this many UTF-8 bytes: large enough for
#: the backends' thread pools to pay off, small enough to keep memory flat.
BATCH_BYTES = 4 << 20


@dataclass(frozen=True)
class MeasureConfig:
    """Everything `measure` needs; CLI flags mirror these fields and their defaults."""

    tokenizers: tuple[str, ...]
    corpora: tuple[str, ...] = ()
    parallel: str | None = None
    ref_lang: str = "en"
    baseline: str | None = None
    pattern: str | None = None
    doc_per: str = "line"
    field: str = "text"
    column: str = "text"
    errors: str = "strict"
    sample_bytes: int | None = None
    seed: int = 0
    renyi_alpha: float = 2.5
    langs: tuple[str, ...] | None = None

    def validate(self) -> None:
        if not self.tokenizers:
            raise InputError("no tokenizer given", "pass at least one -t NAME|PATH (see `tokensmith ls tokenizers`)")
        if not self.corpora and not self.parallel:
            raise InputError("no text to measure on", "pass --corpus PATH and/or --parallel DIR")
        if self.errors not in ("strict", "replace"):
            raise InputError(f"--errors must be 'strict' or 'replace', not {self.errors!r}")
        if self.doc_per not in ("line", "file"):
            raise InputError(f"--doc-per must be 'line' or 'file', not {self.doc_per!r}")
        if self.sample_bytes is not None and self.sample_bytes <= 0:
            raise InputError(f"--sample-bytes must be positive, not {self.sample_bytes}")
        if self.renyi_alpha <= 0:
            raise InputError(f"--alpha must be positive, not {self.renyi_alpha}")
        if len(set(self.tokenizers)) != len(self.tokenizers):
            raise InputError("the same tokenizer is given twice", "pass each -t once")
