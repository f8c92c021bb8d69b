"""From what an author types to safe HTML: auto-linked URLs, mentions, hashtags, small Markdown.

Two formats share one pipeline (markdown-it-py, raw HTML disabled, then nh3 as the last word):

- ``text``: paragraphs and line breaks only; everything else is literal.
- ``markdown``: a small subset: emphasis, strong, links, lists, quotes, code. No images, no
  headings, no raw HTML.

URLs, ``@handle`` mentions of colleagues and ``#hashtags`` are found in text (never inside
links or code) in both formats.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

URL_PATTERN = r"https?://[^\s<>\"'`]*[^\s<>\"'`.,;:!?)\]}*_]"
MENTION_PATTERN = r"(?<![\w@/.])@([a-zA-Z0-9](?:[a-zA-Z0-9_.-]{0,28}[a-zA-Z0-9])?)"
HASHTAG_PATTERN = r"(?<![\w#/&])#([^\W\d_][\w]{0,59}|\d+[^\W\d_][\w]{0,58})"
ENTITY_RE = re.compile(
    f"(?P<url>{URL_PATTERN})|(?P<mention>{MENTION_PATTERN})|(?P<tag>{HASHTAG_PATTERN})"
)
MENTION_RE = re.compile(MENTION_PATTERN)

ALLOWED_TAGS = {
    "p",
    "br",
    "a",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "span",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "class"}, "span": {"class"}, "ol": {"start"}}


def mentioned_handles(body: str) -> set[str]:
    """Every @handle in a text, lower-cased (the candidates for mention links)."""
    return {match.group(1).lower() for match in MENTION_RE.finditer(body)}


def hashtags(body: str) -> list[str]:
    """The hashtags of a text, in order, without duplicates (case-insensitively)."""
    seen: dict[str, str] = {}
    for match in ENTITY_RE.finditer(body):
        tag = match.group("tag")
        if tag:
            seen.setdefault(tag[1:].lower(), tag[1:])
    return list(seen.values())


@dataclass(frozen=True)
class Entities:
    """How to link what the text mentions: profile URL per known handle (lower case)."""

    profile_urls: dict[str, str]


def _link_tokens(href: str, text: str, css_class: str) -> list[Token]:
    opening = Token("link_open", "a", 1)
    opening.attrs = {"href": href, "class": css_class}
    content = Token("text", "", 0)
    content.content = text
    return [opening, content, Token("link_close", "a", -1)]


def _span_tokens(text: str, css_class: str) -> list[Token]:
    opening = Token("span_open", "span", 1)
    opening.attrs = {"class": css_class}
    content = Token("text", "", 0)
    content.content = text
    return [opening, content, Token("span_close", "span", -1)]


def _split_text(text: str, entities: Entities) -> list[Token] | None:
    pieces: list[Token] = []
    position = 0
    for match in ENTITY_RE.finditer(text):
        start, end = match.span()
        if match.group("url"):
            new = _link_tokens(match.group("url"), match.group("url"), "u-link")
        elif match.group("mention"):
            handle = match.group("mention")[1:].lower()
            url = entities.profile_urls.get(handle)
            if url is None:
                continue
            new = _link_tokens(url, match.group("mention"), "u-category h-card mention")
        else:
            new = _span_tokens(match.group("tag"), "p-category hashtag")
        if start > position:
            plain = Token("text", "", 0)
            plain.content = text[position:start]
            pieces.append(plain)
        pieces.extend(new)
        position = end
    if not pieces:
        return None
    if position < len(text):
        rest = Token("text", "", 0)
        rest.content = text[position:]
        pieces.append(rest)
    return pieces


def _entity_rule(entities: Entities) -> Callable[[StateCore], None]:
    def rule(state: StateCore) -> None:
        for block in state.tokens:
            if block.type != "inline" or not block.children:
                continue
            children: list[Token] = []
            inside_link = 0
            for token in block.children:
                if token.type == "link_open":
                    inside_link += 1
                elif token.type == "link_close":
                    inside_link -= 1
                if token.type == "text" and not inside_link:
                    replaced = _split_text(token.content, entities)
                    if replaced:
                        children.extend(replaced)
                        continue
                children.append(token)
            block.children = children

    return rule


def _render_span(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    if token.nesting == 1:
        return f'<span class="{token.attrs.get("class", "")}">'
    return "</span>"


def _parser(body_format: str, entities: Entities) -> MarkdownIt:
    if body_format == "markdown":
        parser = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False})
        parser.disable(
            ["image", "heading", "lheading", "hr", "html_block", "html_inline", "reference"]
        )
    else:
        parser = MarkdownIt("zero", {"html": False, "breaks": True}).enable(["newline"])
    parser.core.ruler.push("podium_entities", _entity_rule(entities))
    parser.add_render_rule("span_open", _render_span)
    parser.add_render_rule("span_close", _render_span)
    return parser


def render_body(body: str, body_format: str, entities: Entities) -> str:
    """Sanitised HTML for a post body."""
    html = _parser(body_format, entities).render(body)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def plain_text(body: str, body_format: str) -> str:
    """The body as plain text (for titles, summaries and meta descriptions)."""
    if body_format == "markdown":
        html = MarkdownIt("commonmark", {"html": False}).render(body)
        return " ".join(html_lib.unescape(nh3.clean(html, tags=set())).split())
    return " ".join(body.split())


def excerpt(text: str, length: int) -> str:
    """Cut text at a word boundary to at most ``length`` characters, with an ellipsis."""
    if len(text) <= length:
        return text
    cut = text[: length - 1].rsplit(" ", 1)[0]
    return (cut or text[: length - 1]).rstrip(" ,.;:") + "…"
