"""Messages of the command-line client in Vietnamese (the default) and English.

The catalog is ``locale/vi/LC_MESSAGES/messages.po`` next to this file, compiled in
memory with Babel when first needed: nothing to build, nothing written to disk.
English is the msgid itself. The language comes from ``--lang``, else ``LANG``/
``LC_ALL``/``LC_MESSAGES``, else Vietnamese.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("vi", "en")
DEFAULT_LANG = "vi"  # the public side is Vietnamese first
CATALOG = Path(__file__).resolve().parent / "locale" / "vi" / "LC_MESSAGES" / "messages.po"
ENV_ORDER = ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")


@lru_cache(maxsize=2)
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog for ``lang`` (English: no translation)."""
    if lang != "vi":
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with CATALOG.open("rb") as fh:
        catalog = read_po(fh, locale="vi")
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def translator(lang: str) -> Callable[[str], str]:
    return translations(lang).gettext


def _lang_from_env(environ: Mapping[str, str]) -> str | None:
    for name in ENV_ORDER:
        value = environ.get(name, "").strip().lower()
        if value and value not in ("c", "posix", "c.utf-8"):
            code = value.split(":")[0][:2]
            return code if code in LANGUAGES else None
    return None


def choose_lang(argv: Sequence[str], environ: Mapping[str, str]) -> str:
    """``--lang X`` or ``--lang=X`` from the arguments, else the environment, else vi."""
    for i, arg in enumerate(argv):
        value = None
        if arg == "--lang" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
        if value in LANGUAGES:
            return value
    return _lang_from_env(environ) or DEFAULT_LANG
