"""The Jinja2 environment of the public pages (``feeds/jinja2/``), and how views render with it.

The public pages are the hot read path (DESIGN section 8): Jinja2 compiles templates to Python
and renders them several times faster than Django's template engine. Views hand the templates
finished values (addresses, formatted dates); the templates only place them.

Translations: the tags ``{% translate "..." %}`` and ``{% blocktranslate with a=x count
counter=n %}...{{ a }}...{% plural %}...{% endblocktranslate %}`` are spelled exactly as in
Django templates and produce the same message ids, so ``makemessages`` (which reads every
``.html`` file with Django's template lexer) extracts them into ``locale/`` as it does for
Django templates, and Django's ``gettext`` translates them at render time in the active
language. As in Django, the translated text is inserted as it is and the values are escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.template import defaultfilters, engines
from django.templatetags.static import static
from django.test.signals import template_rendered
from django.utils import translation
from jinja2 import Environment, nodes, select_autoescape
from jinja2.ext import Extension
from jinja2.parser import Parser
from markupsafe import Markup

ENGINE = "jinja2"


# Translations are our own catalogue's text, inserted as they are (as Django's tags do); the
# values put into them are escaped by Markup's % operator.


def _translate(message: str) -> Markup:
    return Markup(translation.gettext(message))  # noqa: S704 (our catalogue)


def _blocktranslate(singular: str, values: Mapping[str, Any]) -> Markup:
    return Markup(translation.gettext(singular)) % values  # noqa: S704 (our catalogue)


def _blocktranslate_plural(
    singular: str, plural: str, count: int, values: Mapping[str, Any]
) -> Markup:
    text = translation.ngettext(singular, plural, count)
    return Markup(text) % values  # noqa: S704 (our catalogue)


class DjangoTranslationTags(Extension):
    """``translate`` and ``blocktranslate`` as Django templates write them (see the module
    docstring); ``with``, ``count`` and ``plural`` are supported, nothing else."""

    tags = {"translate", "blocktranslate"}

    def parse(self, parser: Parser) -> nodes.Node:
        token = next(parser.stream)
        if token.value == "translate":
            message = parser.stream.expect("string").value
            call = nodes.Call(
                nodes.Name("_translate", "load"), [nodes.Const(message)], [], None, None
            )
            return nodes.Output([call], lineno=token.lineno)
        return self._parse_blocktranslate(parser, token.lineno)

    def _parse_blocktranslate(self, parser: Parser, lineno: int) -> nodes.Node:
        stream = parser.stream
        values: dict[str, nodes.Expr] = {}
        counter: str | None = None
        while stream.current.type != "block_end":
            option = stream.expect("name").value
            if option not in ("with", "count"):
                parser.fail(f"blocktranslate supports 'with' and 'count', not {option!r}", lineno)
            while True:
                name = stream.expect("name").value
                stream.expect("assign")
                values[name] = parser.parse_expression()
                if option == "count":
                    counter = name
                    break
                if not (stream.current.type == "name" and stream.look().type == "assign"):
                    break
        stream.expect("block_end")
        singular, referenced = self._parse_text(parser, allow_plural=counter is not None)
        plural = None
        if stream.current.value == "plural":
            next(stream)
            stream.expect("block_end")
            plural, more = self._parse_text(parser, allow_plural=False)
            referenced += more
        next(stream)  # endblocktranslate
        for name in referenced:
            values.setdefault(name, nodes.Name(name, "load"))
        mapping = nodes.Dict([nodes.Pair(nodes.Const(k), v) for k, v in values.items()])
        if plural is None:
            call = nodes.Call(
                nodes.Name("_blocktranslate", "load"),
                [nodes.Const(singular), mapping],
                [],
                None,
                None,
            )
        else:
            call = nodes.Call(
                nodes.Name("_blocktranslate_plural", "load"),
                [nodes.Const(singular), nodes.Const(plural), values[counter], mapping],
                [],
                None,
                None,
            )
        return nodes.Output([call], lineno=lineno)

    def _parse_text(self, parser: Parser, *, allow_plural: bool) -> tuple[str, list[str]]:
        """The message up to ``plural`` or ``endblocktranslate``: text, and ``{{ name }}`` as
        ``%(name)s`` (a literal ``%`` doubled), as Django's makemessages writes it."""
        stream = parser.stream
        text: list[str] = []
        referenced: list[str] = []
        while True:
            if stream.current.type == "data":
                text.append(stream.current.value.replace("%", "%%"))
                next(stream)
            elif stream.current.type == "variable_begin":
                next(stream)
                name = stream.expect("name").value
                referenced.append(name)
                text.append(f"%({name})s")
                stream.expect("variable_end")
            elif stream.current.type == "block_begin":
                next(stream)
                tag = stream.current.value
                if tag == "endblocktranslate" or (tag == "plural" and allow_plural):
                    break
                parser.fail(f"blocktranslate cannot hold {{% {tag} %}}", stream.current.lineno)
            else:
                parser.fail("unclosed blocktranslate", stream.current.lineno)
        return "".join(text), referenced


@lru_cache(maxsize=256)
def _static(path: str) -> str:
    """``static()`` once per file and process: the storage's answer (the manifest's hashed
    name in production) does not change while the process runs, and asking it cost each page
    more than the rest of its head."""
    return static(path)


@receiver(setting_changed)
def _forget_static(*, setting: str, **_kwargs: Any) -> None:
    if setting in {"STATIC_URL", "STATIC_ROOT", "STORAGES"}:
        _static.cache_clear()


def environment(**options: Any) -> Environment:
    """The environment Django's Jinja2 backend builds (settings.TEMPLATES)."""
    options.pop("autoescape", None)
    options["keep_trailing_newline"] = True  # as Django's engine: templates render as written
    env = Environment(
        # HTML everywhere; robots.txt is plain text.
        autoescape=select_autoescape(disabled_extensions=("txt",), default=True),
        extensions=[DjangoTranslationTags],
        **options,
    )
    # Django's own filters, for the same output as the Django templates they replace (they
    # return SafeString, which Jinja2 takes as already escaped).
    env.filters.update(
        truncatechars=defaultfilters.truncatechars,
        linebreaks=lambda value: defaultfilters.linebreaks_filter(value, autoescape=True),
        linebreaksbr=lambda value: defaultfilters.linebreaksbr(value, autoescape=True),
    )
    env.globals.update(
        static=_static,
        _translate=_translate,
        _blocktranslate=_blocktranslate,
        _blocktranslate_plural=_blocktranslate_plural,
    )
    return env


def render(
    request: HttpRequest,
    template_name: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    content_type: str | None = None,
) -> HttpResponse:
    """An HttpResponse of a Jinja2 template (what ``django.shortcuts.render`` does)."""
    template = engines[ENGINE].get_template(template_name)
    content = template.render(context, request)
    # As Django's own engine does under the test runner: the test client records the template
    # and its context (response.context). Without receivers this costs a few microseconds.
    source = template.template  # jinja2's own Template: it has the .name tests look at
    template_rendered.send(sender=source, template=source, context=context)
    return HttpResponse(content, status=status, content_type=content_type)
