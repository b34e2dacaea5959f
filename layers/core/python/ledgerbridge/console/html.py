"""Markup helpers: every value is escaped unless it is already Markup, so a page cannot forget to."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from urllib.parse import urlencode


class Markup(str):
    """Text that is already HTML."""

    __slots__ = ()


def h(value: object) -> Markup:
    return value if isinstance(value, Markup) else Markup(escape(str(value), quote=True))


def join(parts: Iterable[object]) -> Markup:
    return Markup("".join(h(p) for p in parts))


def tag(element: str, /, *children: object, **attrs: object) -> Markup:
    """<element attrs>children</element>; attribute names use _ for - (aria_label -> aria-label), a trailing _
    for reserved words (class_ -> class); True renders a bare attribute, None/False drops it."""
    rendered = []
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        attr = key.rstrip("_").replace("_", "-")
        rendered.append(f" {attr}" if value is True else f' {attr}="{h(value)}"')
    open_tag = f"<{element}{''.join(rendered)}>"
    if element in ("input", "meta", "link", "br", "img"):
        return Markup(open_tag)
    return Markup(f"{open_tag}{join(children)}</{element}>")


def url(path: str, **params: object) -> str:
    query = urlencode({k: str(v) for k, v in params.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


def table(caption: str, headers: list[str], rows: Iterable[Iterable[object]], empty: str) -> Markup:
    body = [tag("tr", *(tag("td", cell) for cell in row)) for row in rows]
    if not body:
        return tag("p", empty, class_="empty")
    head = tag("tr", *(tag("th", title, scope="col") for title in headers))
    return tag(
        "div",
        tag("table", tag("caption", caption), tag("thead", head), tag("tbody", *body)),
        class_="scroll",
        tabindex="0",
        role="region",
        aria_label=caption,
    )
