"""Every catalog is complete and consistent: each message translated, placeholders
kept, and every _() in the code and templates has a Vietnamese translation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from factories import ROOT

CATALOGS = sorted(ROOT.glob("translations/*/vi/LC_MESSAGES/messages.po"))
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w+\}")


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.parts[-4])
def test_catalog_complete(path):
    with path.open("rb") as fh:
        catalog = read_po(fh, locale="vi")
    assert not catalog.fuzzy, f"{path}: header marked fuzzy"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        msgstr = message.string if isinstance(message.string, str) else (message.string or ("",))[0]
        if not msgstr:
            problems.append(f"untranslated: {msgid!r}")
        elif sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(msgstr)):
            problems.append(f"placeholders differ: {msgid!r}")
        if message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
    assert not problems, "\n".join(problems)


def test_every_message_in_the_code_is_translated():
    from babel.messages.extract import extract_from_dir

    known: set[str] = set()
    for path in CATALOGS:
        with path.open("rb") as fh:
            known |= {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    method_map = [("**.html", "jinja2"), ("**.py", "python")]
    missing = []
    for sub in ("keys", "registry", "verify", "templates"):
        for filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT / sub,
            method_map=method_map,
            keywords={"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2), "N_": None},
        ):
            msgid = message if isinstance(message, str) else message[0]
            if "client" in Path(filename).parts:  # the offline client has its own catalog
                continue
            if msgid and msgid not in known:
                missing.append(f"{sub}/{filename}: {msgid!r}")
    assert not missing, "\n".join(missing)
