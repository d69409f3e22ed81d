"""Pre-tokenization: the regex that cuts text into pre-tokens before BPE merges are learned.

Merges never cross a pre-token boundary, so the regex decides what a token can be. The presets are
the regexes of well-known tokenizers, written so that Python's ``regex``, HF ``tokenizers`` (Oniguruma)
and ``tiktoken`` (fancy-regex) cut text identically; a test checks this on every language of the team
corpora. One :class:`Pretokenizer` is the single source of truth for counting, the tokenizer.json
``pre_tokenizer`` and the tiktoken ``pat_str``.

>>> Pretokenizer.create("gpt2").split("Hello world 2024!")
['Hello', ' world', ' 2024', '!']
>>> Pretokenizer.create("gpt2", split_digits=True).split("Hello world 2024!")
['Hello', ' world', ' ', '2', '0', '2', '4', '!']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

import regex

from tokensmith.errors import InputError
from tokensmith.registry import Registry
from tokensmith.tokenizers.presets import O200K_PATTERN

if TYPE_CHECKING:
    from tokensmith.train.compiled_pretokenize import CompiledPretokenizer

#: Isolates every numeric character (Unicode category N, as HF's ``Digits`` and Rust's ``is_numeric``).
_DIGIT_RUNS = regex.compile(r"\p{N}|[^\p{N}]+")


@dataclass(frozen=True)
class PretokenizerPreset:
    """A named pre-tokenization regex.

    Args:
        name: registry name (``--pretokenizer NAME``).
        pattern: the regex, applied with ``findall`` semantics (the matches are the pre-tokens).
        digit_pattern: the same regex with every digit isolated (``split_digits=True``), written as one
            regex so that tiktoken can use it too.
        source: where the regex comes from.
        hf_builtin_byte_level: the pattern is the one HF's ``ByteLevel(use_regex=True)`` has built in,
            so the tokenizer.json can say just ``ByteLevel`` (the GPT-2 layout).
        original: the source's own spelling when ``pattern`` rewrites it (same cuts in Python ``regex`` and
            tiktoken): :meth:`Pretokenizer.for_pattern` knows the preset by it too.
    """

    name: str
    pattern: str
    digit_pattern: str
    source: str
    hf_builtin_byte_level: bool = False
    original: str | None = None


PRETOKENIZER_PRESETS: Registry[PretokenizerPreset] = Registry("pre-tokenization preset")

_GPT2 = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
# Meta Llama 3 (tokenizer.py); the same regex appears in HF ports of cl100k.
_LLAMA3 = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"""
    r"""|\s+(?!\S)|\s+"""
)
# tiktoken's cl100k, except `\p{N}{1,3}+` -> `\p{N}{1,3}`: Oniguruma (HF) reads `{1,3}+` as "one or more
# runs of 1-3 digits", not as a possessive run of at most 3; without the `+` all engines agree.
_CL100K = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$"""
    r"""|\s*[\r\n]|\s+(?!\S)|\s"""
)
# o200k needs no rewrite: every engine reads tiktoken's pattern the same way.
_O200K = O200K_PATTERN

PRETOKENIZER_PRESETS.add(
    "gpt2",
    PretokenizerPreset(
        name="gpt2",
        pattern=_GPT2,
        # " 12" must become " ", "1", "2": the optional space before a number stands alone.
        digit_pattern=_GPT2.replace(r" ?\p{N}+", r" (?=\p{N})|\p{N}"),
        source="GPT-2 encoder.py (= HF ByteLevel's built-in regex)",
        hf_builtin_byte_level=True,
    ),
)
PRETOKENIZER_PRESETS.add(
    "cl100k",
    PretokenizerPreset(
        name="cl100k",
        pattern=_CL100K,
        digit_pattern=_CL100K.replace(r"\p{N}{1,3}", r"\p{N}"),
        source="tiktoken cl100k_base (GPT-4)",
        original=_CL100K.replace(r"\p{N}{1,3}", r"\p{N}{1,3}+"),
    ),
)
PRETOKENIZER_PRESETS.add(
    "o200k",
    PretokenizerPreset(
        name="o200k",
        pattern=_O200K,
        digit_pattern=_O200K.replace(r"\p{N}{1,3}", r"\p{N}"),
        source="tiktoken o200k_base (GPT-4o)",
    ),
)
PRETOKENIZER_PRESETS.add(
    "llama3",
    PretokenizerPreset(
        name="llama3",
        pattern=_LLAMA3,
        digit_pattern=_LLAMA3.replace(r"\p{N}{1,3}", r"\p{N}"),
        source="Meta Llama 3 tokenizer.py",
    ),
)

#: SuperBPE's stage-2 regex (digit groups, punctuation runs, space runs); text between matches is a pre-token.
SUPERBPE_STAGE2_REGEX = r"\p{N}{1,3}| ?[^\s\p{L}\p{N}]{2,}[\r\n/]*| +(?!\S)"

#: Custom regexes known to have no capturing group and no empty match (every alternative takes a character),
#: so that ``regex.split`` around them cuts as :func:`_split_isolated` does, in one C call; each with the
#: form that split uses: the regex as one group, here behind a lookahead for a non-letter (no match of the
#: stage-2 regex holds a letter), so that at a letter, most of any text, the engine makes one test instead
#: of trying every alternative (a quarter fewer instructions).
_ISOLATING_FORMS = {SUPERBPE_STAGE2_REGEX: rf"(?=\P{{L}})({SUPERBPE_STAGE2_REGEX})"}

#: The preset used when neither a preset nor a regex is given (GPT-4's regex compresses ~8% better
#: than GPT-2's on the team corpus, see docs/training.md).
DEFAULT_PRETOKENIZER = "cl100k"

#: The name of a pre-tokenizer built from a user's own regex.
CUSTOM = "custom"


def compile_pattern(pattern: str) -> regex.Pattern:
    """Compile a pre-tokenization regex, turning a syntax error into an :class:`InputError`."""
    try:
        compiled = regex.compile(pattern)
    except (regex.error, TypeError, ValueError) as exc:
        raise InputError(
            f"the pre-tokenization regex {pattern!r} does not compile: {exc}",
            "fix the regex (Python `regex` syntax with \\p{...} classes), or pick a preset: "
            + ", ".join(PRETOKENIZER_PRESETS.names()),
        ) from None
    return compiled


#: Text a custom regex is tried on before any training: every script and character class the team's
#: corpora and their reviewers meet (cased letters, marks, NFD, digits of several systems, CRLF and lone CR,
#: U+2028/U+0085, emoji ZWJ sequences, private-use and astral code points, BOM, NUL), so that an empty match
#: or a regex the tokenizer.json's engine (Oniguruma) reads differently shows up here, not in the output;
#: the export encodes it with tiktoken and HF to decide whether tiktoken files are written.
REGEX_PROBE = (
    "Hello, World! It's 2024-06-01; we'll pay $1,234.56 (or 3 x 7).\r\n\tDéjà vu — naïve café   ЖИЗНЬ и "
    "смерть; 東京は日本の首都です。 مرحبا بالعالم ۱۲۳ 안녕하세요 Ծրագիր မြန်မာ ၁၂၃ ግዕዝ ⵜⴰⵎⴰⵣⵉⵖⵜ हिन्दी १२३ "
    "ÇA\u0301 e\u0301te\u0301 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 👨\u200d👩\u200d👧 🏳️\u200d🌈 🇩🇪 x²½Ⅳ a\rb\u2028c\u0085d "
    "\ufeff\ue000\U000f0000\x00 <|endoftext|> foo_bar(x)==y /* c */ \n\n  End N°5 \u3000 "
    # letters of many scripts touching punctuation, digits and marks, where regex dialects part
    "Համոզված ե՞ք,ЖИЗНЬ-2024г.Ελλάδα·αβγ;über/straße:東京。大阪1位ab12cd3€αβ'sდ«ქ»ש״ס٫٣أ؟x_y می\u200cخواهم"
    # doubled and tripled letters, digits and marks: an engine that reads an escape or a quantifier
    # otherwise shows it on runs (\N{...} names a character in Python, means "not a newline" in Oniguruma)
    " aa AAA zzz 11 000 ...  !!  ll ßß ии \u0301\u0301 ☺☺")


#: \w is Alphabetic + marks + digits + Pc + Join_Control in Python ``regex``, Letter + marks + digits + Pc in
#: Oniguruma: ZWJ/ZWNJ (emoji sequences, Persian, Urdu, Hindi), circled letters and Roman numerals fall apart.
_WORD_CLASS_HINT = ("\\w is another class in each engine (Python's takes ZWJ/ZWNJ, Ⓐ, Ⅳ): write "
                    "[\\p{L}\\p{M}\\p{Nd}\\p{Pc}] for \\w and [^\\p{L}\\p{M}\\p{Nd}\\p{Pc}] for \\W")


def check_custom_regex(pattern: str) -> None:
    """Refuse a custom pre-tokenization regex that training and the exported tokenizer.json would not
    apply alike: one that does not compile (in Python ``regex`` or in HF's Oniguruma), can match an empty
    string, or cuts :data:`REGEX_PROBE` differently in the two engines.

    Raises:
        InputError: naming the regex and what is wrong with it.
    """
    compiled = compile_pattern(pattern)
    presets = "pick a preset: " + ", ".join(PRETOKENIZER_PRESETS.names())
    # Counting skips empty matches while HF's Split cuts at each one, so the merges would not fit; an
    # empty match somewhere (a lookahead alternative, \b) is as bad as one on the empty string.
    empty = compiled.fullmatch("") is not None or any(m.start() == m.end() for m in compiled.finditer(REGEX_PROBE))
    if empty:
        raise InputError(f"the pre-tokenization regex {pattern!r} matches the empty string",
                         "make every alternative take at least one character (e.g. \\p{L}+ rather than \\p{L}*; "
                         "no alternative that is only a lookaround or \\b), or " + presets)
    from tokenizers import Regex, pre_tokenizers

    try:
        split = pre_tokenizers.Split(Regex(pattern), "isolated")
    except Exception as exc:  # tokenizers raises a bare Exception for an Oniguruma syntax error
        raise InputError(
            f"the pre-tokenization regex {pattern!r} does not compile in HF tokenizers (Oniguruma), which "
            f"the exported tokenizer.json needs: {exc}",
            "use syntax both Python `regex` and Oniguruma read (\\p{L}, \\p{N}, classes, lookaheads), or " + presets,
        ) from None
    theirs = [piece for piece, _ in split.pre_tokenize_str(REGEX_PROBE)]
    ours = _split_isolated(compiled, REGEX_PROBE)
    if ours != theirs:
        at = next((i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b),
                  min(len(ours), len(theirs)))
        raise InputError(
            f"the pre-tokenization regex {pattern!r} cuts text differently in Python `regex` (training) and "
            f"in HF tokenizers' Oniguruma (the tokenizer.json): {ours[at:at + 3]!r} vs {theirs[at:at + 3]!r}",
            _WORD_CLASS_HINT if regex.search(r"\\[wW]", pattern) else
            "use syntax both engines read alike (\\p{L}, \\p{N}, [...], lookaheads), or " + presets,
        )


@dataclass(frozen=True)
class Pretokenizer:
    """Cuts text into pre-tokens; the one description shared by counting and every export.

    Build it with :meth:`create`. ``pattern`` is the regex actually applied; ``isolate_digits`` is only
    set for a custom regex with ``split_digits`` (presets bake digit splitting into their pattern).

    Args:
        name: preset name, or ``"custom"``.
        pattern: the regex; its ``findall`` matches are the pre-tokens.
        isolate_digits: after the regex, cut every numeric character out as its own pre-token.
        hf_builtin_byte_level: see :class:`PretokenizerPreset`.
    """

    name: str
    pattern: str
    isolate_digits: bool = False
    hf_builtin_byte_level: bool = False
    _compiled: regex.Pattern = field(init=False, repr=False, compare=False)
    _isolating: regex.Pattern | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", compile_pattern(self.pattern))
        # the pattern as one group: its split returns the text between matches and the matches, in order
        isolating = _ISOLATING_FORMS.get(self.pattern)
        object.__setattr__(self, "_isolating", None if isolating is None else regex.compile(isolating))

    @classmethod
    def create(cls, preset: str | None = None, *, regex_pattern: str | None = None,
               split_digits: bool = False) -> Pretokenizer:
        """A preset by name, or a custom regex.

        Args:
            preset: a name from :data:`PRETOKENIZER_PRESETS`; ``None`` means the default unless
                ``regex_pattern`` is given.
            regex_pattern: a custom regex (Python ``regex`` syntax); excludes ``preset``.
            split_digits: every digit becomes its own pre-token.

        Raises:
            InputError: both or an unknown preset, or a regex that does not compile or matches the
                empty string.
        """
        if preset is not None and regex_pattern is not None:
            raise InputError(
                f"both a preset ({preset!r}) and a custom regex were given",
                "pass either a preset name or a regex, not both",
            )
        if regex_pattern is not None:
            check_custom_regex(regex_pattern)
            return cls(name=CUSTOM, pattern=regex_pattern, isolate_digits=split_digits)
        chosen = PRETOKENIZER_PRESETS.get(preset or DEFAULT_PRETOKENIZER)
        return cls(
            name=chosen.name + ("+digits" if split_digits else ""),
            pattern=chosen.digit_pattern if split_digits else chosen.pattern,
            hf_builtin_byte_level=chosen.hf_builtin_byte_level and not split_digits,
        )

    @classmethod
    def for_pattern(cls, pattern: str) -> Pretokenizer:
        """The preset whose regex (or its source's spelling) is ``pattern``, exported in the preset's own
        form; else a custom regex."""
        for name, preset in PRETOKENIZER_PRESETS.items():
            if pattern in (preset.pattern, preset.original):
                return cls.create(name)
        return cls.create(regex_pattern=pattern)

    @property
    def splitter(self) -> Callable[[str], list[str]]:
        """:meth:`split` itself, or the one C call it makes (a preset without split digits: ``findall``),
        which saves a Python call per text where millions of short texts are cut."""
        if self._isolating is None and self.name != CUSTOM and not self.isolate_digits:
            return self._compiled.findall
        return self.split

    @property
    def compiled(self) -> CompiledPretokenizer | None:
        """A compiled matcher that cuts as :meth:`split`, many times faster, where the regex has one (see
        :mod:`tokensmith.train.compiled_pretokenize`), else None."""
        from tokensmith.train.compiled_pretokenize import compiled_pretokenizer

        return None if self.isolate_digits else compiled_pretokenizer(self.pattern)

    def split(self, text: str) -> list[str]:
        """The pre-tokens of ``text``, in order; their concatenation is always ``text``.

        Text between two matches of a custom regex is a pre-token of its own, as in HF's
        ``Split(behavior="Isolated")``; the presets match every character, so for them this is ``findall``.
        """
        if self._isolating is not None:  # the empty strings are the gaps of touching matches
            pieces = list(filter(None, self._isolating.split(text)))
        elif self.name == CUSTOM:
            pieces = _split_isolated(self._compiled, text)
        else:
            pieces = self._compiled.findall(text)
        if not self.isolate_digits:
            return pieces
        return [part for piece in pieces for part in _DIGIT_RUNS.findall(piece)]

    @property
    def tiktoken_pattern(self) -> str:
        """The ``pat_str`` for a ``tiktoken.Encoding`` that cuts text exactly as :meth:`split`.

        Raises:
            InputError: a custom regex with ``split_digits`` has no single-regex form.
        """
        if self.isolate_digits:
            raise InputError(
                "a custom regex with split_digits cannot be written as one tiktoken pattern",
                "put digit isolation into the regex itself (e.g. an alternative \\p{N}) and drop split_digits",
            )
        if self.name == CUSTOM:
            # tiktoken drops text its regex does not match; the second alternative keeps each gap whole.
            return f"(?:{self.pattern})|(?:(?!(?:{self.pattern}))[\\s\\S])+"
        return self.pattern

    @property
    def has_tiktoken_form(self) -> bool:
        """Whether :attr:`tiktoken_pattern` exists and tiktoken's engine (fancy-regex) compiles it (``\\X``,
        for one, compiles in Python ``regex`` and Oniguruma but not there)."""
        return not self.isolate_digits and (self.name != CUSTOM or _tiktoken_compiles(self.tiktoken_pattern))

    def hf_pre_tokenizer(self) -> dict:
        """The tokenizer.json ``pre_tokenizer`` that cuts text as :meth:`split`, then maps bytes to Ġ-style
        characters (GPT-2's byte-level alphabet)."""
        if self.hf_builtin_byte_level:
            return _hf_byte_level(use_regex=True)
        steps = [{"type": "Split", "pattern": {"Regex": self.pattern}, "behavior": "Isolated", "invert": False}]
        if self.isolate_digits:
            steps.append({"type": "Digits", "individual_digits": True})
        steps.append(_hf_byte_level(use_regex=False))
        return {"type": "Sequence", "pretokenizers": steps}


@cache
def _tiktoken_compiles(pattern: str) -> bool:
    import tiktoken

    try:
        tiktoken.Encoding("probe", pat_str=pattern, mergeable_ranks={bytes([b]): b for b in range(256)},
                          special_tokens={})
    except ValueError:  # tiktoken's "Parsing error at position ..."
        return False
    return True


def _split_isolated(compiled: regex.Pattern, text: str) -> list[str]:
    """Matches and the non-empty gaps between them, in order (HF ``Split``, behavior ``Isolated``)."""
    pieces = []
    end = 0
    for match in compiled.finditer(text):
        start, stop = match.span()
        if stop == start:  # HF's Split would cut here, counting would not: refused rather than mismatched
            raise InputError(
                f"the pre-tokenization regex {compiled.pattern!r} matches the empty string "
                f"(before {text[start:start + 20]!r})",
                "make every alternative take at least one character, or pick a preset: "
                + ", ".join(PRETOKENIZER_PRESETS.names()),
            )
        if start > end:
            pieces.append(text[end:start])
        pieces.append(text[start:stop])
        end = stop
    if end < len(text):
        pieces.append(text[end:])
    return pieces


def _hf_byte_level(*, use_regex: bool) -> dict:
    return {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": use_regex}
