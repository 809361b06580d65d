"""Formatting SDE values for people: descriptions as safe HTML, numbers, durations.

Shared by the pages and the admin.
"""

import re

from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Markup found in SDE descriptions: <b>, <i>, <br>, <a href=showinfo:34>, <url=showinfo:34>,
# <font color=...>, ... Everything is escaped; only a few tags are turned back into HTML.
_TAG = re.compile(r"<\s*(/?)\s*([a-zA-Z]+)([^>]*)>")
_SHOWINFO = re.compile(r"showinfo:(\d{1,19})")
_SIMPLE_TAGS = {"b": "strong", "i": "em", "u": "u"}


def description_html(text: str) -> SafeString:
    """The SDE's plain-text-with-tags description as safe HTML: text escaped, <br> as a line
    break, bold/italic kept, in-game `showinfo` links pointing to item pages, all else dropped.
    The result still contains newlines, for the `linebreaks` filter."""
    parts: list[str] = []
    open_tags: list[str] = []
    position = 0
    for match in _TAG.finditer(text):
        parts.append(escape(text[position : match.start()]))
        position = match.end()
        closing, name, rest = match.group(1), match.group(2).lower(), match.group(3)
        if name == "br":
            parts.append("\n")
        elif name in _SIMPLE_TAGS or name in {"a", "url"}:
            html_name = _SIMPLE_TAGS.get(name, "a")
            if closing:
                if html_name in open_tags:
                    while open_tags:
                        tag = open_tags.pop()
                        parts.append(f"</{tag}>")
                        if tag == html_name:
                            break
            elif html_name == "a":
                link = _SHOWINFO.search(rest)
                if link and "a" not in open_tags:
                    url = reverse("item", args=[int(link.group(1))])
                    parts.append(f'<a href="{url}">')
                    open_tags.append("a")
            else:
                parts.append(f"<{html_name}>")
                open_tags.append(html_name)
    parts.append(escape(text[position:]))
    parts.extend(f"</{tag}>" for tag in reversed(open_tags))
    # Safe: every piece of text went through escape(); the tags are our own.
    return mark_safe("".join(parts).replace("\r\n", "\n"))


def trimmed_number(value: float | None, places: int = 4) -> str:
    """1234.5 -> "1,234.5", 0.0025 -> "0.0025", 92000.0 -> "92,000" (no trailing zeros)."""
    if value is None:
        return ""
    text = f"{value:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def duration(seconds: int | None) -> str:
    """12000 -> "3h 20m"; 45 -> "45s"."""
    if not seconds:
        return ""
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{days}d" if days else "",
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
    ]
    if not days and not hours:
        parts.append(f"{secs}s" if secs else "")
    return " ".join(p for p in parts if p)
