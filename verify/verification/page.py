"""The scan page (``/v/<token>``) rendered without Flask's request machinery: the same
template (``verify/verdict.html``) from the same loader, with the same filters, given
the same values that ``render_template`` gives it through Flask-Babel and the context
processors, but each looked up once per process and language instead of once per
request: they are the globals of an overlay of the app's Jinja environment, one per
language, in which ``_("words")`` is translated when the template compiles.

The page is what every phone opens on a scan. Through ``render_template`` a third of
its time went to finding the request's translations again for each of the page's
thirty strings (Flask-Babel's context lookups), more than the whole verification
(BENCHMARKS.md, "The scan page"). Only the verdict is read at each request; the
words around it are fixed for a process and a language: the catalogs are compiled at
start-up, and configuration does not change while the process runs.

A page is a function of what it is given and nothing else: the verdict and what was
read with it, the officer's parameters, the warnings, the language, and the time of
the check, which it shows to the minute. So the last pages rendered are kept, each
under everything it was rendered from (``PageInputs``): a scan whose verification
reads the same rows in the same minute gets the same bytes without Jinja. This keeps
no verdict: every scan verifies, and any change to what it read (a revocation, a
suspension, a new warning, another agency) is another key and a fresh render.

The scan page's fast path (``verify.verification.fastpage``) renders with this; the
Flask view keeps ``render_template``, and the tests hold the two to the same bytes
for every verdict, in both languages.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from flask import Flask, url_for
from flask_babel import get_translations
from jinja2 import Environment, pass_context
from jinja2.ext import Extension
from jinja2.lexer import TOKEN_DOT, TOKEN_LPAREN, TOKEN_NAME, TOKEN_PIPE, TOKEN_RPAREN, TOKEN_STRING, Token, TokenStream
from jinja2.runtime import Context
from markupsafe import Markup

from keys.errors import format_message
from registry.platform.config import base_url
from registry.platform.web import LANGUAGES
from verify.core.texts import EXPLANATIONS
from verify.core.verdicts import Verdict
from verify.verification.answers import result_json
from verify.verification.service import Result
from verify.verification.views import TEMPLATE, headline, never_does_lines
from verify.warnings.service import WarningRef

Gettext = Callable[[str], str]
EPOCH = datetime.fromtimestamp(0, UTC)


def jinja_gettext(ugettext: Gettext) -> Callable[..., str]:
    """``_()`` and ``gettext()`` in templates, as Jinja's i18n extension makes them
    from Flask-Babel's callable (``newstyle``: escaped parameters, always %-formatted),
    over a fixed catalog instead of the request's."""

    @pass_context
    def gettext(__context: Context, __string: str, **variables: Any) -> str:
        text: str = ugettext(__string)
        if __context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704  # the catalog's words, as Jinja's i18n extension takes them
        return text % variables

    return gettext


GETTEXT_NAMES = frozenset({"_", "gettext"})
TEMPLATE_CACHE = 50  # the page's few templates, compiled once per language
# pages kept per process (a few KB each): every card of a scam campaign, in both
# languages, over the minute its "checked at" shows; a miss costs one render
RENDERED_PAGES = 256


class FoldedGettext(Extension):
    """Translates ``_("words")`` (no parameters) when a template is compiled, into the
    environment's language (``folded_gettext``): what the call gives at render time,
    ``Markup(ugettext(words)) % {}``, written into the template as safe text, so that
    rendering no longer calls gettext for it. Calls with parameters stay calls."""

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        ugettext: Gettext = getattr(self.environment, "folded_gettext")  # noqa: B009  # set by environment.extend
        tokens = list(stream)
        i = 0
        while i < len(tokens):
            call = tokens[i : i + 4]
            kinds = [token.type for token in call]
            folded = None
            is_call = kinds == [TOKEN_NAME, TOKEN_LPAREN, TOKEN_STRING, TOKEN_RPAREN] and call[0].value in GETTEXT_NAMES
            if is_call and (i == 0 or tokens[i - 1].type != TOKEN_DOT):  # not an attribute named _
                folded = _folded(ugettext, call[2].value)
            if folded is None:
                yield tokens[i]
                i += 1
                continue
            line = call[0].lineno
            yield Token(line, TOKEN_LPAREN, "(")
            yield Token(line, TOKEN_STRING, folded)
            yield Token(line, TOKEN_PIPE, "|")
            yield Token(line, TOKEN_NAME, "safe")
            yield Token(line, TOKEN_RPAREN, ")")
            i += 4


def _folded(ugettext: Gettext, words: str) -> str | None:
    """What ``_(words)`` renders as, or None when only the call itself can say (it
    raises, as a ``%(name)s`` with no parameter does)."""
    try:
        return str(Markup(ugettext(words)) % {})  # noqa: S704  # as jinja_gettext
    except (KeyError, TypeError, ValueError):
        return None


def folded_environment(base: Environment, ugettext: Gettext) -> Environment:
    """``base`` (the app's Jinja environment: its loader, filters and globals) with
    ``_("words")`` translated at compile time, in a template cache of its own."""
    env = base.overlay(extensions=[FoldedGettext], cache_size=TEMPLATE_CACHE)
    env.extend(folded_gettext=ugettext)
    return env


class StaticUrls:
    """``url_for`` in the page's templates, as Flask's own gives it in a request with
    no SCRIPT_NAME (the fast path serves no other): static files computed once by
    Flask's ``url_for``, other pages (a warning, the receipt's PDF) built from the URL
    map, query included, without a request."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.known: dict[str, str] = {}
        self.adapter = app.url_map.bind("localhost", script_name="/")

    def __call__(self, endpoint: str, **values: Any) -> str:
        if endpoint != "static":
            return str(self.adapter.build(endpoint, values))
        if set(values) != {"filename"}:
            raise LookupError("the scan page links static files by name only")  # the caller answers through Flask
        filename = str(values["filename"])
        known = self.known.get(filename)
        if known is None:
            with self.app.test_request_context("/"):
                known = self.known[filename] = url_for("static", filename=filename)
        return known


@dataclass(frozen=True, slots=True)
class Words:
    """Everything of one language that the page says besides the verdict's data."""

    env: Environment  # the page's templates, their words translated, their globals set
    headlines: Mapping[Verdict, str]
    explanations: Mapping[Verdict, str]  # templates naming {host} and {server}
    server: str

    def headline(self, result: Result) -> str:
        return self.headlines[result.verdict]

    def explanation(self, result: Result) -> str:
        """As ``views.explanation``: ``translate`` leaves ``host`` and ``server`` as given."""
        params = {"host": result.foreign_host or "", "server": self.server}
        return format_message(self.explanations[result.verdict], params)


def _words(app: Flask, lang: str, static_urls: StaticUrls) -> Words:
    """``lang``'s words, and its environment, whose globals are what the template's
    context processors give it in a request in that language."""
    with app.test_request_context(f"/?lang={lang}"):
        ugettext = get_translations().ugettext
        words = Words(
            env=folded_environment(app.jinja_env, ugettext),
            headlines={verdict: headline(Result(verdict, EPOCH)) for verdict in Verdict},
            explanations={verdict: str(ugettext(text)) for verdict, text in EXPLANATIONS.items()},
            server=base_url(),
        )
        gettext = jinja_gettext(ugettext)
        words.env.globals = {  # the overlay's own: the app's environment keeps its own
            **app.jinja_env.globals,
            "gettext": gettext,
            "_": gettext,
            "url_for": static_urls,
            "current_lang": lang,
            "languages": LANGUAGES,
            "headline": words.headline,
            "explanation": words.explanation,
            "never_does_lines": tuple(_as_jinja_shows(line) for line in never_does_lines()),
        }
        return words


def _as_jinja_shows(line: Any) -> Any:
    """A default line is a lazy string, which Jinja does not escape (``__html__``):
    its text now, in this language, as that markup; a configured line is plain text."""
    return Markup(line.__html__()) if hasattr(line, "__html__") else line  # noqa: S704


@dataclass(frozen=True, slots=True)
class PageInputs:
    """Everything a scan page is rendered from, hashable: the verdict as read
    (``result``, its time cut to the minute the page shows), the language, the
    request's parameters, the warnings, the receipt's token. The verified claims are
    carried, not compared: they are the payload of ``result.token``, the very text
    compared (``verify_token`` gives them with the token they were parsed from), so
    equal inputs have equal claims."""

    result: Result  # claims None, checked_at to the minute
    lang: str
    args: tuple[tuple[str, str], ...]
    public_warnings: tuple[WarningRef, ...]
    receipt_token: str
    has_claims: bool
    claims: dict[str, Any] | None = field(compare=False, hash=False)

    @classmethod
    def of(
        cls,
        result: Result,
        lang: str,
        args: Mapping[str, str],
        receipt_token: str | None,
        public_warnings: tuple[WarningRef, ...],
    ) -> PageInputs:
        minute = result.checked_at.replace(second=0, microsecond=0)  # vn_datetime shows no more
        return cls(
            result=replace(result, claims=None, checked_at=minute),
            lang=lang,
            args=tuple(sorted(args.items())),
            public_warnings=public_warnings,
            receipt_token=receipt_token or result.token or "",
            has_claims=result.claims is not None,
            claims=result.claims,
        )


class VerdictPage:
    """Renders ``verify/verdict.html`` for a verdict, a language and the officer's
    agency, as ``render_template`` renders it in the Flask view."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.static_urls = StaticUrls(app)
        self._words: dict[str, Words] = {}
        self._lock = threading.Lock()
        # thread-safe, bounded; keyed by all that a page is made of (module docstring)
        self._rendered = lru_cache(maxsize=RENDERED_PAGES)(self._render)

    def words(self, lang: str) -> Words:
        found = self._words.get(lang)
        if found is None:
            with self._lock:
                found = self._words.get(lang) or _words(self.app, lang, self.static_urls)
                self._words[lang] = found
        return found

    def render(
        self,
        result: Result,
        lang: str,
        args: Mapping[str, str],
        *,
        receipt_token: str | None = None,
        public_warnings: tuple[WarningRef, ...] = (),
    ) -> str:
        """The page's HTML; ``args`` are the request's query parameters (first values),
        the rest as ``views.verdict_page_body`` gives them."""
        if lang not in LANGUAGES:
            raise ValueError(f"no such language: {lang}")
        return self._rendered(PageInputs.of(result, lang, args, receipt_token, public_warnings))

    def kept(self) -> Any:
        """How the kept pages fare: hits, misses, size (``functools`` CacheInfo)."""
        return self._rendered.cache_info()

    def _render(self, inputs: PageInputs) -> str:
        """The page made from ``inputs`` by Jinja, and from nothing else."""
        result = replace(inputs.result, claims=inputs.claims)
        words = self.words(inputs.lang)
        template = words.env.get_template(TEMPLATE)
        return template.render(
            result=result,
            data=result_json(result, words.server),
            ok=result.verdict is Verdict.VALID,
            request=QueryOnly(dict(inputs.args)),
            public_warnings=inputs.public_warnings,
            receipt_token=inputs.receipt_token,
        )


@dataclass(frozen=True, slots=True)
class QueryOnly:
    """What the page's templates read of the request: its query parameters."""

    args: Mapping[str, str]
