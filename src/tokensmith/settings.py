"""Type checks for the settings of frozen dataclass configurations (trainers, measure), given from Python."""

from __future__ import annotations

import os
import types
import typing
from collections.abc import Collection
from dataclasses import fields

from tokensmith.errors import InputError

#: What a setting of each type must be, for the error that names it.
_KIND_NAMES = {bool: "True or False", int: "a whole number", float: "a number", str: "a string",
               tuple: "a list of strings"}


def check_setting_types(config: object, *, unchecked: Collection[str] = ()) -> None:
    """Refuse a setting of the frozen dataclass ``config`` (a trainer's, measure's) that is not of its field's
    type, and hold numpy scalars as Python ones and lists of strings as tuples; fields named in ``unchecked``
    are left to the caller.

    A dataclass checks nothing itself: ``split_digits="no"`` (a true string) switched digit splitting on,
    ``workers=2.5`` or ``special_tokens=5`` failed deep inside with a TypeError, and a numpy ``vocab_size``
    made the JSON summary fail after the whole run.
    """
    hints = typing.get_type_hints(type(config))
    for setting in fields(config):
        if setting.name not in hints or not setting.init or setting.name in unchecked:
            continue
        value, hint = getattr(config, setting.name), hints[setting.name]
        held = fitted_setting(value, hint)
        if held is UNFIT:
            wanted = described_kinds(hint, _KIND_NAMES)
            raise InputError(f"{type(config).__name__} setting {setting.name} must be {wanted}, not {value!r}",
                             f"pass {setting.name} as {wanted}")
        if held is not value:
            object.__setattr__(config, setting.name, held)


def _kinds(hint: object) -> tuple[list, bool]:
    """The types a hint allows (``int | None`` -> ``[int]``) and whether it allows None."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        arguments = typing.get_args(hint)
        return [kind for kind in arguments if kind is not type(None)], type(None) in arguments
    return [hint], False


def fitted_setting(value: object, hint: object, *, whole_floats: bool = False) -> object:
    """``value`` held as a setting of the type ``hint`` (numpy scalars as Python ones, a list of strings as a
    tuple; with ``whole_floats``, ``3.0`` as the int 3, as JSON may spell it), or :data:`UNFIT`."""
    kinds, takes_none = _kinds(hint)
    if value is None and takes_none:
        return None
    for kind in kinds:
        held = _as_setting(value, typing.get_origin(kind) or kind, whole_floats)
        if held is not UNFIT:
            return held
    return UNFIT


def described_kinds(hint: object, names: dict[type, str]) -> str:
    """What a setting of type ``hint`` must be, in words (``"a whole number or a string"``)."""
    return " or ".join(names.get(typing.get_origin(kind) or kind, str(kind)) for kind in _kinds(hint)[0])


#: What :func:`fitted_setting` returns for a value that does not fit.
UNFIT = object()


def _as_setting(value: object, base: type, whole_floats: bool) -> object:
    """``value`` as a setting of type ``base`` (numpy scalars, paths and lists taken), or :data:`UNFIT`."""
    import numpy as np

    if base is bool:
        return bool(value) if isinstance(value, bool | np.bool_) else UNFIT
    if isinstance(value, bool | np.bool_):
        return UNFIT  # True is an int to Python, never a size or a count
    if base is int:
        if whole_floats and isinstance(value, float) and value.is_integer():
            return int(value)
        return int(value) if isinstance(value, int | np.integer) else UNFIT
    if base is float:
        return float(value) if isinstance(value, int | float | np.integer | np.floating) else UNFIT
    if base is str:  # a path is kept as given (load_tokenizer reads Path("gpt2") as a folder, "gpt2" as a name)
        return value if isinstance(value, str | os.PathLike) else UNFIT
    if base is tuple:
        if isinstance(value, str):
            return value  # the trainer reads it (parity's langs="de,el,ko"; bpe refuses special_tokens="<x>")
        if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
            return tuple(value)
        return UNFIT
    return value
