"""The embedded demo corpora, built offline from what `make install` obtained from PyPI.

* **Django's gettext catalogues** (every ``locale/<lang>/LC_MESSAGES/*.po`` in the pinned Django
  wheel): a parallel corpus keyed by message id. A language is kept when it translates at least
  :data:`MIN_COVERAGE` of the best-covered language's messages; a message is kept when every kept
  language translates it, so line *i* of every ``<lang>.txt`` is the same message. English is the
  msgid itself.
* **The Python standard library's own source** (top-level modules of the running interpreter's
  stdlib, sorted, up to :data:`CODE_BYTES`): a code corpus, one document per file (JSON lines).

Both are pinned: the Django version must be :data:`DJANGO_VERSION`, every catalogue must match the
sha256 in the wheel's RECORD, and all catalogues together must match :data:`CATALOGUES_SHA256`. The
corpora are built once into the cache (``$TOKENSMITH_CACHE``, else ``$XDG_CACHE_HOME/tokensmith``,
else ``~/.cache/tokensmith``) with a manifest of versions and hashes, then reused.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import os
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from tokensmith.errors import CorpusError, MissingDependencyError

DJANGO_VERSION = "5.2.8"
#: sha256 over (relative path, NUL, bytes, NUL) of every catalogue in sorted order, for Django 5.2.8.
CATALOGUES_SHA256 = "b0e4bed557f1ea56c73231783c91a57db1904b288c712ae11d6da2ce416d6daa"
MIN_COVERAGE = 0.7
CODE_BYTES = 4_000_000
MANIFEST = "manifest.json"
#: Bump when the way the corpora are built changes, so stale caches are rebuilt.
BUILD_VERSION = 1


def cache_dir() -> Path:
    """Where tokensmith caches what it builds (demo corpora)."""
    if os.environ.get("TOKENSMITH_CACHE"):
        return Path(os.environ["TOKENSMITH_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "tokensmith"


def _django_catalogues() -> tuple[Path, list[Path]]:
    """The pinned Django's package folder and its catalogues, each checked against the wheel RECORD."""
    try:
        distribution = importlib.metadata.distribution("django")
    except importlib.metadata.PackageNotFoundError:
        raise MissingDependencyError("the demo corpus (Django's catalogues)", (f"django=={DJANGO_VERSION}",),
                                     "demo") from None
    if distribution.version != DJANGO_VERSION:
        raise CorpusError(
            f"the demo is pinned to Django {DJANGO_VERSION}, but Django {distribution.version} is installed",
            f"pip install django=={DJANGO_VERSION} (or run `make install`)",
        )
    recorded = {}
    for entry in distribution.files or ():
        name = str(entry)
        if name.endswith(".po") and "/locale/" in name and entry.hash is not None:
            recorded[name] = entry
    if not recorded:
        raise CorpusError("the installed Django lists no gettext catalogues in its RECORD", "reinstall Django")
    catalogues = []
    for name in sorted(recorded):
        entry = recorded[name]
        path = Path(entry.locate())
        digest = base64.urlsafe_b64encode(hashlib.sha256(path.read_bytes()).digest()).rstrip(b"=").decode()
        if entry.hash.mode != "sha256" or entry.hash.value != digest:
            raise CorpusError(f"{path} differs from the Django wheel's RECORD", "reinstall Django")
        catalogues.append(path)
    package_root = Path(recorded[sorted(recorded)[0]].locate()).parents[0]
    while package_root.name != "django":
        package_root = package_root.parent
    return package_root, catalogues


def catalogues_digest(root: Path, catalogues: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in catalogues:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def bcp47(django_locale: str) -> str:
    """Django's locale folder name as a BCP 47 tag (``pt_BR`` -> ``pt-BR``, ``zh_Hans`` -> ``zh-Hans``)."""
    return django_locale.replace("_", "-")


def _one_line(text: str) -> str:
    # Line i must stay message i: newlines and other line breaks inside a message become spaces.
    return " ".join(text.splitlines()).strip()


def build_parallel_catalogues(root: Path, catalogues: list[Path], out_dir: Path) -> dict[str, Any]:
    """Write ``<lang>.txt`` files, line-aligned by message, and return what was kept."""
    from tokensmith.corpus.po import read_po

    by_lang: dict[str, dict[tuple, str]] = {}
    sources: dict[tuple, str] = {}
    for path in catalogues:
        relative = path.relative_to(root)
        lang = relative.parts[relative.parts.index("locale") + 1]
        domain = "/".join(relative.parts[: relative.parts.index("locale")]) + ":" + path.stem
        for entry in read_po(path):
            if not entry.translated or entry.msgid_plural is not None:
                continue  # plural forms differ in number per language; they would break alignment
            key = (domain, entry.msgctxt or "", entry.msgid)
            by_lang.setdefault(lang, {})[key] = _one_line(entry.msgstr)
            sources[key] = _one_line(entry.msgid)
    best = max(len(messages) for messages in by_lang.values())
    kept = sorted(lang for lang, messages in by_lang.items() if len(messages) >= MIN_COVERAGE * best)
    shared = set.intersection(*(set(by_lang[lang]) for lang in kept))
    keys = sorted(k for k in shared if sources[k] and all(by_lang[lang][k] for lang in kept))
    out_dir.mkdir(parents=True)
    files = {"en": [sources[k] for k in keys]}
    for lang in kept:
        if lang != "en":
            files[bcp47(lang)] = [by_lang[lang][k] for k in keys]
    for lang, lines in files.items():
        (out_dir / f"{lang}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"languages": sorted(files), "messages": len(keys), "min_coverage": MIN_COVERAGE,
            "dropped_languages": sorted(bcp47(lang) for lang in set(by_lang) - set(kept))}


def build_stdlib_code(out_file: Path) -> dict[str, Any]:
    """Write top-level stdlib modules (sorted, up to :data:`CODE_BYTES`) as JSON lines, one per file."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    modules = sorted(p for p in stdlib.glob("*.py") if p.is_file())
    if not modules:
        raise CorpusError(f"no Python modules found in {stdlib}", "the demo needs CPython's standard library sources")
    digest = hashlib.sha256()
    total = 0
    used = []
    with open(out_file, "w", encoding="utf-8") as handle:
        for path in modules:
            text = path.read_text(encoding="utf-8", errors="replace")
            size = len(text.encode("utf-8"))
            if total + size > CODE_BYTES and used:
                break
            handle.write(json.dumps({"text": text, "file": path.name}, ensure_ascii=False) + "\n")
            digest.update(path.name.encode() + b"\0" + text.encode("utf-8") + b"\0")
            total += size
            used.append(path.name)
    return {"python": sys.version.split()[0], "stdlib": str(stdlib), "files": len(used), "bytes": total,
            "sha256": digest.hexdigest()}


def demo_corpora(*, rebuild: bool = False) -> dict[str, Any]:
    """Build (once) and return the demo corpora: ``{"parallel": dir, "code": file, "manifest": {...}}``."""
    root, catalogues = _django_catalogues()
    digest = catalogues_digest(root, catalogues)
    if digest != CATALOGUES_SHA256:
        raise CorpusError(
            f"Django {DJANGO_VERSION}'s catalogues hash to {digest}, not the pinned {CATALOGUES_SHA256}",
            f"reinstall django=={DJANGO_VERSION} from PyPI",
        )
    python = sys.version.split()[0]
    target = cache_dir() / "demo" / f"django-{DJANGO_VERSION}-py{python}-v{BUILD_VERSION}"
    manifest_path = target / MANIFEST
    if manifest_path.is_file() and not rebuild:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("catalogues_sha256") == digest:
            return {"parallel": target / "django", "code": target / "python-stdlib.jsonl", "manifest": manifest}
    target.parent.mkdir(parents=True, exist_ok=True)
    # Build beside the target and rename, so an interrupted build never looks like a finished one.
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent))
    try:
        parallel = build_parallel_catalogues(root, catalogues, staging / "django")
        code = build_stdlib_code(staging / "python-stdlib.jsonl")
        manifest = {
            "build_version": BUILD_VERSION,
            "django_version": DJANGO_VERSION,
            "catalogues": len(catalogues),
            "catalogues_sha256": digest,
            "parallel": parallel,
            "code": code,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return {"parallel": target / "django", "code": target / "python-stdlib.jsonl", "manifest": manifest}
