"""tokensmith: measure, train and transplant the tokenizers of language models.

The main entry points are importable from here (``from tokensmith import load_tokenizer``); each loads
its module on first use, so ``import tokensmith`` stays light (no torch, transformers, ray or numba).
Names that are also submodules (``measure``, ``transplant``) are reached through them:
``from tokensmith.measure import measure``.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS = {
    "load_tokenizer": "tokensmith.tokenizers",
    "Tokenizer": "tokensmith.tokenizers.base",
    "MeasureConfig": "tokensmith.measure",
    "MeasureResult": "tokensmith.measure",
    "run_measure": "tokensmith.measure",
    "make_trainer": "tokensmith.train.api",
    "train_from_files": "tokensmith.train.api",
    "infer_mixture": "tokensmith.mixture",
    "run_mixture": "tokensmith.mixture",
    "SolverSettings": "tokensmith.mixture",
    "ByteLM": "tokensmith.bytelm",
    "render_report": "tokensmith.report",
    "write_report": "tokensmith.report",
    "TokensmithError": "tokensmith.errors",
    "InputError": "tokensmith.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tokensmith' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
