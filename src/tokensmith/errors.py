"""User-facing errors. Each says what is wrong and what to do; the CLI prints it and exits with code 2."""

from __future__ import annotations

import difflib
import signal

#: Exit codes of the command line: a user error (one message on stderr); Ctrl-C (128 + SIGINT) and SIGTERM
#: (128 + SIGTERM), as shells report them.
USER_ERROR = 2
INTERRUPTED = 128 + signal.SIGINT
TERMINATED = 128 + signal.SIGTERM


class TokensmithError(Exception):
    """Base of every error a user can fix by changing their input.

    Args:
        message: what is wrong, naming the file, flag or value.
        hint: what to do about it (a flag to pass, a package to install...).
    """

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


class InputError(TokensmithError):
    """A file, corpus or argument the user gave cannot be used as it is."""


class TokenizerFormatError(InputError):
    """A tokenizer file is malformed or of an unsupported kind."""


class CorpusError(InputError):
    """A corpus is missing, empty, not text, or misaligned."""


class OutputExistsError(InputError):
    """The output path exists and --force was not given."""

    def __init__(self, path: object) -> None:
        super().__init__(f"output {path} already exists", "pass --force to overwrite it, or choose another path")


class MissingDependencyError(TokensmithError):
    """An optional package is needed for this feature and is not installed."""

    def __init__(self, feature: str, packages: list[str], extra: str | None = None) -> None:
        pip = "pip install " + " ".join(packages)
        hint = f"run `{pip}`" + (f" (or `pip install 'tokensmith[{extra}]'`)" if extra else "")
        super().__init__(f"{feature} needs {', '.join(packages)}, which is not installed", hint)
        self.packages = packages


class UnknownNameError(TokensmithError, KeyError):
    """A registry was asked for a name it does not have."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        close = difflib.get_close_matches(name, known, n=1)
        suggestion = f"did you mean {close[0]!r}? " if close else ""
        super().__init__(f"unknown {kind} {name!r}", f"{suggestion}known: {', '.join(known)}")

    __str__ = TokensmithError.__str__


def lone_surrogate_error(text: str, position: int, holder: str = "a text") -> InputError:
    """The error for text that has no UTF-8: only a lone surrogate (from bytes decoded with
    ``errors="surrogateescape"``) has none. Named by code point and position, never by quoting the text."""
    return InputError(
        f"{holder} holds a lone surrogate (U+{ord(text[position]):04X} at character {position}), which is not "
        "Unicode text and has no UTF-8",
        "decode the bytes with errors='replace' (not 'surrogateescape'), or read them with tokensmith.corpus, "
        "or drop the surrogates",
    )
