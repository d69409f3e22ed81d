"""Real text in languages that ../shared/data lacks: the messages of Django's gettext catalogues, which
`make test` installs (Burmese, Khmer, Kyrgyz, Urdu... beside the major languages)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tokensmith.corpus.po import read_po


def django_messages(locale: str) -> list[tuple[str, str]]:
    """``(msgid, msgstr)`` of every translated message of Django's catalogues for ``locale`` (Django is
    installed by `make test`), each made one line."""
    spec = importlib.util.find_spec("django")
    assert spec is not None and spec.submodule_search_locations, "Django is installed by `make test`"
    root = Path(spec.submodule_search_locations[0])
    catalogues = sorted(root.glob(f"**/locale/{locale}/LC_MESSAGES/*.po"))
    assert catalogues, locale
    return [(" ".join(e.msgid.split("\n")), " ".join(e.msgstr.split("\n")))
            for path in catalogues for e in read_po(path) if e.translated]


def django_translations(locale: str) -> list[str]:
    return [msgstr for _, msgstr in django_messages(locale)]
