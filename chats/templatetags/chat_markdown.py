"""`{{ message.content|chat_markdown }}`: chat text as Markdown, made safe.

Markdown is rendered with raw HTML turned off (a `<script>` in a message stays
text), then the result goes through nh3 with a short allow-list, so neither the
renderer nor a crafted link can put markup or script on the page. Links open
with rel="noopener noreferrer nofollow"; an image becomes a link to it (a remote
image would tell its host who reads the chat, and the CSP blocks it anyway)."""

from __future__ import annotations

from functools import cache

import nh3
from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

register = template.Library()

ALLOWED_TAGS = {
    "p", "br", "em", "strong", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "a",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow"


def _image_as_link(renderer, tokens, index, options, env) -> str:  # type: ignore[no-untyped-def]
    token = tokens[index]
    label = renderer.renderInlineAsText(token.children or [], options, env) or "image"
    return f'<a href="{escape(token.attrGet("src") or "")}">🖼 {escape(label)}</a>'


@cache
def _renderer() -> MarkdownIt:
    # "breaks": a single newline is a line break, as chat writers expect.
    renderer = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(["strikethrough", "table"])
    renderer.add_render_rule("image", _image_as_link)
    return renderer


def markdown_to_safe_html(text: str) -> str:
    rendered = _renderer().render(text or "")
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
        url_relative="deny",  # a message links out, never to our own pages
    ).strip()


@register.filter(name="chat_markdown")
def chat_markdown(text: str) -> SafeString:
    return mark_safe(markdown_to_safe_html(text))  # noqa: S308 - sanitised by nh3 just above
