"""Behaviour shared by every format loader on top of the :class:`Tokenizer` protocol."""

from __future__ import annotations

from tokensmith.tokenizers.base import Tokenizer

#: What ``backend=`` accepts: the fastest backend proven identical, or the format's reference library.
BACKEND_CHOICES = ("auto", "reference")


class LoadedTokenizer(Tokenizer):
    """A tokenizer read from files; knows every role of its special tokens.

    Subclasses set :attr:`role_ids` next to :attr:`special_tokens` in ``__init__``.
    """

    #: Every role -> id, including roles shared by one token (pad == eos) that a SpecialToken cannot show.
    role_ids: dict[str, int]

    def special_id(self, role: str) -> int | None:
        """Id of the token playing ``role`` (bos, eos, pad, unk...), or None."""
        if role in self.role_ids:
            return self.role_ids[role]
        return super().special_id(role)


def check_backend(backend: str) -> str:
    """Validate a ``backend=`` argument."""
    from tokensmith.errors import InputError

    if backend not in BACKEND_CHOICES:
        raise InputError(f"unknown backend {backend!r}", f"choose one of: {', '.join(BACKEND_CHOICES)}")
    return backend
