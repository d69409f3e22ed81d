"""Move a model onto a new tokenizer, and save the result as a transformers model directory.

:func:`transplant` builds new input and output embedding matrices: rows of shared tokens are copied
bit for bit, the rest come from an init method run once per matrix (once for tied models, which stay
tied). The transformer body is untouched, so a transplant onto the model's own tokenizer reproduces its
logits exactly. :func:`save_model_dir` writes config + safetensors + tokenizer into a temporary folder
and renames it into place: a failed or refused save leaves no partial directory.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tokensmith.errors import InputError, TokensmithError
from tokensmith.io import atomic_folder, check_writable
from tokensmith.tokenizers.base import Tokenizer
from tokensmith.transplant.methods import INIT_METHODS, MethodContext
from tokensmith.transplant.models import LoadedModel
from tokensmith.transplant.overlap import TokenMapping, build_mapping

#: Roles written into config.json / generation_config.json and tokenizer_config.json.
CONFIG_ROLES = ("bos", "eos", "pad", "unk")


@dataclass
class TransplantReport:
    """What a transplant did, row by row (counts over the new vocabulary)."""

    method: str
    old_vocab_size: int
    new_vocab_size: int
    tied: bool
    copied: int
    approximated: int
    fallback: int
    matches: dict[str, int]
    roles: dict[str, list[int]]
    added_chat_markers: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class TransplantResult:
    model: LoadedModel
    tokenizer: Tokenizer
    mapping: TokenMapping
    report: TransplantReport


def _backend_of(tokenizer: Tokenizer) -> Any:
    """The ``tokenizers.Tokenizer`` behind a loaded tokenizer, needed to save tokenizer.json."""
    backend = getattr(tokenizer, "backend_tokenizer", None) or getattr(tokenizer, "_backend", None)
    if backend is None or not hasattr(backend, "to_str"):
        raise TokensmithError(
            f"tokenizer {tokenizer.name!r} ({tokenizer.info.format}) cannot be saved as an HF tokenizer.json",
            "use a tokenizer.json, a transformers directory or a GGUF file as the new tokenizer",
        )
    return backend


def chat_markers(template: str | None, tokenizer: Tokenizer) -> list[str]:
    """Texts of ``tokenizer``'s special tokens that a chat template writes out literally."""
    if not template:
        return []
    return [s.text for s in tokenizer.special_tokens if s.text and s.text in template]


def with_special_tokens(tokenizer: Tokenizer, texts: list[str]) -> Tokenizer:
    """A copy of ``tokenizer`` with ``texts`` appended as special tokens (roles guessed from their text)."""
    from tokenizers import AddedToken
    from tokenizers import Tokenizer as BackendTokenizer

    from tokensmith.tokenizers.hf_json import from_backend_tokenizer

    backend = BackendTokenizer.from_str(_backend_of(tokenizer).to_str())
    backend.add_special_tokens([AddedToken(text, special=True, normalized=False) for text in texts])
    return from_backend_tokenizer(backend, name=tokenizer.name, fmt=tokenizer.info.format, sha256="")


def role_ids(old: Tokenizer, new: Tokenizer) -> dict[str, int]:
    """Special ids for the transplanted model's config: the old model's role tokens where the new vocabulary
    has the same text (so a chat model keeps ending turns with its own eos), else the new tokenizer's own."""
    new_specials = {s.text: s.id for s in new.special_tokens}
    old_texts = {s.id: s.text for s in old.special_tokens}
    roles: dict[str, int] = {}
    for role in CONFIG_ROLES:
        old_id = old.special_id(role)
        text = old_texts.get(old_id) if old_id is not None else None
        if text is not None and text in new_specials:
            roles[role] = new_specials[text]
        elif new.special_id(role) is not None:
            roles[role] = int(new.special_id(role))
    return roles


def _donor_matrices(donor: Any, model: LoadedModel, mapping: TokenMapping, context: MethodContext) -> Any:
    """Normalise ``donor`` (None, 'self', a LoadedModel, or side -> matrix) into side -> matrix."""
    if donor is None or isinstance(donor, Mapping):
        return donor
    if isinstance(donor, str) and donor == "self":
        # The model's own space: each new token's donor row is its FVT estimate, shared rows are copies.
        fvt = INIT_METHODS.get("fvt")
        matrices = {}
        for side, weight in _sides(model):
            source = weight.detach().cpu().numpy()
            full = np.empty((mapping.new_vocab_size, source.shape[1]), dtype=np.float32)
            copied = mapping.copied_ids
            full[copied] = source[mapping.source_ids[copied]]
            side_context = copy.copy(context)
            side_context.side = side
            full[mapping.target_ids] = fvt(source, mapping, side_context).rows
            matrices[side] = full
        if "output" not in matrices:
            matrices["output"] = matrices["input"]
        return matrices
    if isinstance(donor, LoadedModel):
        matrices = {"input": donor.model.get_input_embeddings().weight.detach().cpu().numpy()}
        matrices["output"] = donor.model.get_output_embeddings().weight.detach().cpu().numpy()
        return matrices
    raise InputError(f"donor must be None, 'self', a loaded model or a side -> matrix mapping, not {donor!r}")


def _sides(model: LoadedModel) -> list[tuple[str, Any]]:
    sides = [("input", model.model.get_input_embeddings().weight)]
    if not model.tied:
        sides.append(("output", model.model.get_output_embeddings().weight))
    return sides


def transplant(
    model: LoadedModel,
    new_tokenizer: Tokenizer,
    method: str = "fvt",
    *,
    old_tokenizer: Tokenizer | None = None,
    params: Mapping[str, Any] | None = None,
    seed: int = 0,
    embedder: Any = None,
    donor: Any = None,
    target_texts: list[str] | None = None,
    add_chat_markers: bool = True,
) -> TransplantResult:
    """A copy of ``model`` whose embeddings follow ``new_tokenizer``; ``model`` itself is not changed.

    Args:
        model: the loaded source model.
        new_tokenizer: the tokenizer to move to.
        method: a name in :data:`~tokensmith.transplant.methods.INIT_METHODS`.
        old_tokenizer: the model's tokenizer (default: the one shipped with the model).
        params: method parameters overriding its defaults.
        seed: seeds every random draw.
        embedder: auxiliary embedder for tokenadapt / omp-aux (default all-MiniLM-L6-v2).
        donor: for ``omp``: a LoadedModel using the new tokenizer, ``'self'`` (the model's own FVT estimates),
            or ``{"input": matrix, "output": matrix}``.
        target_texts: text for ``focus``.
        add_chat_markers: append the special tokens the model's chat template writes (``<|im_start|>``...) to the
            new tokenizer when it lacks them, so the kept template still produces single control tokens.

    Raises:
        InputError: the old tokenizer has ids beyond the model's embedding rows (it is not this model's).
        UnknownNameError: unknown method.
    """
    started = time.perf_counter()
    init = INIT_METHODS.get(method)
    old = old_tokenizer if old_tokenizer is not None else model.tokenizer
    rows = model.embedding_rows
    check_tokenizer_fits(old, model)
    template = model.chat_template
    added: list[str] = []
    if add_chat_markers:
        present = {s.text for s in new_tokenizer.special_tokens}
        added = [text for text in chat_markers(template, old) if text not in present]
        if added:
            try:
                new_tokenizer = with_special_tokens(new_tokenizer, added)
            except TokensmithError:  # a format without an HF tokenizer.json form cannot be extended; keep it as is
                added = []
    mapping = build_mapping(old, new_tokenizer, old_rows=rows)
    context = MethodContext(old, new_tokenizer, seed=seed, embedder=embedder, target_texts=target_texts)
    context.donor = _donor_matrices(donor, model, mapping, context)

    import torch

    new_weights: dict[str, np.ndarray] = {}
    approximated = np.zeros(len(mapping.target_ids), dtype=bool)
    copied = mapping.copied_ids
    for side, weight in _sides(model):
        source = weight.detach().cpu().numpy()
        matrix = np.empty((mapping.new_vocab_size, source.shape[1]), dtype=source.dtype)
        matrix[copied] = source[mapping.source_ids[copied]]
        context.side = side
        produced = init(source, mapping, context, **dict(params or {}))
        matrix[mapping.target_ids] = produced.rows
        approximated |= produced.approximated
        new_weights[side] = matrix

    new_model = copy.deepcopy(model.model)
    roles = role_ids(old, new_tokenizer)
    new_tokenizer = _with_roles(new_tokenizer, roles)
    embedding = torch.nn.Embedding(mapping.new_vocab_size, model.hidden_size, padding_idx=roles.get("pad"))
    embedding.weight = torch.nn.Parameter(torch.from_numpy(new_weights["input"]))
    new_model.set_input_embeddings(embedding)
    head = torch.nn.Linear(model.hidden_size, mapping.new_vocab_size, bias=False)
    head.weight = embedding.weight if model.tied else torch.nn.Parameter(torch.from_numpy(new_weights["output"]))
    new_model.set_output_embeddings(head)
    _update_config(new_model, mapping.new_vocab_size, roles)

    report = TransplantReport(
        method=method,
        old_vocab_size=old.vocab_size,
        new_vocab_size=mapping.new_vocab_size,
        tied=model.tied,
        copied=int(len(copied)),
        approximated=int(approximated.sum()),
        fallback=int(len(approximated) - approximated.sum()),
        matches=mapping.counts(),
        roles={role: [int(n), int(o)] for role, (n, o) in mapping.roles.items()},
        added_chat_markers=added,
        seconds=round(time.perf_counter() - started, 3),
    )
    result_model = LoadedModel(
        model=new_model,
        name=f"{model.name}@{new_tokenizer.name}",
        source=model.source,
        format=model.format,
        model_type=model.model_type,
        tied=model.tied,
        attached_tokenizer=new_tokenizer,
        attached_chat_template=template,
        extra={"transplant": report.as_dict()},
    )
    return TransplantResult(result_model, new_tokenizer, mapping, report)


def _with_roles(tokenizer: Tokenizer, roles: Mapping[str, int]) -> Tokenizer:
    """A shallow copy of ``tokenizer`` whose role ids are the transplanted model's (bos/eos/pad/unk), so the
    saved config, tokenizer_config.json and bits-per-byte's document-start token all agree."""
    if not hasattr(tokenizer, "role_ids"):
        return tokenizer
    adjusted = copy.copy(tokenizer)
    adjusted.role_ids = {**tokenizer.role_ids, **roles}
    return adjusted


def _update_config(model: Any, vocab_size: int, roles: Mapping[str, int]) -> None:
    model.config.vocab_size = vocab_size
    text_config = getattr(model.config, "get_text_config", None)
    if callable(text_config) and text_config() is not model.config:
        text_config().vocab_size = vocab_size
    for role in ("bos", "eos", "pad"):
        setattr(model.config, f"{role}_token_id", roles.get(role))
        if getattr(model, "generation_config", None) is not None:
            setattr(model.generation_config, f"{role}_token_id", roles.get(role))


def check_tokenizer_fits(tokenizer: Tokenizer, model: LoadedModel) -> None:
    """Refuse a tokenizer whose ids run past the model's embedding rows (it belongs to another model)."""
    if tokenizer.vocab_size > model.embedding_rows:
        raise InputError(
            f"tokenizer {tokenizer.name!r} has {tokenizer.vocab_size} ids but model {model.name!r} has only "
            f"{model.embedding_rows} embedding rows: the tokenizer does not belong to this model",
            "use the model's own tokenizer, or transplant the model onto this tokenizer first (tokensmith transplant)",
        )


def save_model_dir(model: LoadedModel, out_dir: str | os.PathLike, *, force: bool = False) -> Path:
    """Write ``model`` (with its attached tokenizer and chat template) as a transformers directory.

    The directory holds config.json, generation_config.json, model.safetensors, tokenizer.json,
    tokenizer_config.json (bos/eos/pad/unk and the chat template); ``AutoModelForCausalLM`` and
    ``AutoTokenizer`` load it offline. Written to a temporary sibling folder, then renamed into place.

    Raises:
        OutputExistsError: ``out_dir`` exists and ``force`` is false.
    """
    target = check_writable(out_dir, force=force)
    tokenizer = model.tokenizer
    backend = _backend_of(tokenizer)
    # replaceable=None: with force, an existing folder is replaced whatever it holds (a model folder's
    # files depend on the model and transformers' version, and results.json may be written into it after).
    with atomic_folder(target, force=force, replaceable=None) as staging:
        model.model.save_pretrained(str(staging))
        _save_tokenizer(backend, tokenizer, model.chat_template, model.model.config, staging)
    return target


def _save_tokenizer(backend: Any, tokenizer: Tokenizer, template: str | None, config: Any, folder: Path) -> None:
    from tokenizers import Tokenizer as BackendTokenizer
    from transformers import PreTrainedTokenizerFast

    texts = {s.id: s.text for s in tokenizer.special_tokens}
    tokens: dict[str, str] = {}
    for role in CONFIG_ROLES:
        token_id = getattr(config, f"{role}_token_id", None) if role != "unk" else tokenizer.special_id("unk")
        if isinstance(token_id, int) and token_id in texts:
            tokens[f"{role}_token"] = texts[token_id]
    fast = PreTrainedTokenizerFast(
        tokenizer_object=BackendTokenizer.from_str(backend.to_str()),
        clean_up_tokenization_spaces=False,
        model_max_length=int(getattr(config, "max_position_embeddings", 0) or 1_000_000),
        **tokens,
    )
    if template:
        fast.chat_template = template
    fast.save_pretrained(str(folder))
