"""Roles of special tokens: from what a file declares, else guessed from the token's text.

A token often plays several roles at once (Qwen's ``<|endoftext|>`` is both eos and pad), while a
:class:`~tokensmith.tokenizers.base.SpecialToken` carries one. :func:`assign_roles` keeps the most
telling role on the token and every role in a separate ``role -> id`` map.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from tokensmith.tokenizers.base import SPECIAL_ROLES, SpecialToken

#: When one token plays several roles, the first of these is the one its SpecialToken shows.
ROLE_PRIORITY = ("bos", "eos", "unk", "cls", "sep", "mask", "pad", "chat", "other")

#: Text patterns of well-known control tokens, tried in order; the first match gives the role.
_ROLE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (role, re.compile(pattern, re.IGNORECASE))
    for role, pattern in (
        ("bos", r"^(<s>|<bos>|\[BOS\]|<\|begin_of_text\|>|<\|startoftext\|>|<｜begin▁of▁sentence｜>)$"),
        ("eos", r"^(</s>|<eos>|\[EOS\]|<\|end_of_text\|>|<\|endoftext\|>|<｜end▁of▁sentence｜>)$"),
        ("unk", r"^(<unk>|\[UNK\]|<\|unk\|>)$"),
        ("pad", r"^(<pad>|\[PAD\]|<\|pad\|>|<\|padding\|>|<｜▁pad▁｜>)$"),
        ("mask", r"^(<mask>|\[MASK\])$"),
        ("sep", r"^(<sep>|\[SEP\])$"),
        ("cls", r"^(<cls>|\[CLS\])$"),
        (
            "chat",
            r"im_start|im_end|start_of_turn|end_of_turn|start_header_id|end_header_id|eot_id|"
            r"^\[/?INST\]$|^\[/?SYSTEM_PROMPT\]$|^<\|(user|assistant|system|end)\|>$|^<\|?(User|Assistant)\|?>$",
        ),
    )
)


def guess_role(text: str) -> str:
    """Role of a control token judged by its text alone (``'<|im_start|>'`` -> ``'chat'``)."""
    for role, pattern in _ROLE_PATTERNS:
        if pattern.search(text):
            return role
    return "other"


def assign_roles(
    controls: Iterable[tuple[int, str]],
    declared: Mapping[str, int] | None = None,
) -> tuple[tuple[SpecialToken, ...], dict[str, int]]:
    """Build the special tokens of a vocabulary and its full ``role -> id`` map.

    Args:
        controls: ``(id, text)`` of every control token, in any order.
        declared: roles the file states (``{"eos": 2, "pad": 2}``); they win over guesses.

    Returns:
        The special tokens sorted by id, each with its most telling role, and every role's id
        (declared roles, then guessed ones for roles nothing declared).
    """
    declared = dict(declared or {})
    unknown_roles = set(declared) - set(SPECIAL_ROLES)
    if unknown_roles:
        raise ValueError(f"unknown special-token roles {sorted(unknown_roles)}; known: {SPECIAL_ROLES}")
    roles_by_id: dict[int, list[str]] = {}
    for role, token_id in declared.items():
        roles_by_id.setdefault(token_id, []).append(role)
    role_ids = dict(declared)
    specials = []
    for token_id, text in sorted(dict(controls).items()):
        roles = roles_by_id.get(token_id)
        if not roles:
            guessed = guess_role(text)
            roles = [guessed]
            if guessed not in ("chat", "other"):
                role_ids.setdefault(guessed, token_id)
        primary = min(roles, key=ROLE_PRIORITY.index)
        specials.append(SpecialToken(token_id, text, primary))
    return tuple(specials), role_ids
