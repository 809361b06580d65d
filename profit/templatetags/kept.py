"""`{% kept a b ... %}...{% endkept %}`: a template fragment rendered once per process for the
same values of its arguments, then served from memory (config/page_cache.fragment).

A profit page renders up to a thousand rows of ten cells, and most of a row's cost is the
template itself (tens of filters per row); the same row comes back on every page that shows
it (another sort, filter or page size) until the snapshot changes it. So each row is kept by
what it shows: the page's template name, and the arguments' values (the row's own fields,
digested). The fragment may read only its arguments and what never changes between requests
(constants such as the flags' titles, URLs): anything else it reads must be an argument.
"""

from __future__ import annotations

import hashlib

from django import template
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.template.context import Context
from django.utils.safestring import SafeString, mark_safe

from config import page_cache

register = template.Library()


class KeptNode(template.Node):
    def __init__(self, nodelist: NodeList, args: list[FilterExpression], where: str) -> None:
        self.nodelist = nodelist
        self.args = args
        self.where = where  # the tag's template and place in it

    def render(self, context: Context) -> SafeString:
        # repr (1.6x faster than sorted JSON on a row): equal plain data (dicts built in the
        # same order, numbers, text) gives equal text; a dict built in another order misses
        values = repr([arg.resolve(context) for arg in self.args])
        digest = hashlib.blake2b(values.encode(), digest_size=16).digest()
        page = context.template.name if context.template is not None else ""
        key = (page, self.where, digest)
        return mark_safe(page_cache.fragment(key, lambda: self.nodelist.render(context)))


@register.tag
def kept(parser: Parser, token: Token) -> KeptNode:
    args = [parser.compile_filter(bit) for bit in token.split_contents()[1:]]
    if not args:
        raise template.TemplateSyntaxError("{% kept %} needs the values its fragment shows")
    nodelist = parser.parse(("endkept",))
    parser.delete_first_token()
    origin = getattr(parser, "origin", None)
    return KeptNode(nodelist, args, f"{getattr(origin, 'name', '')}:{token.position}")
