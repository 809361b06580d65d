"""`{% kept a b ... %}...{% endkept %}`: a template fragment rendered once per process for the
same values of its arguments, then served from memory (config/page_cache.fragment).
`{% kept shared a b ... %}` also offers it to the other processes through the store
(config/page_cache.shared): for a fragment that costs a render, is read by many processes
and has few values (an item page's SDE parts, per item), not for one per search (each would
be a file written in the embedded default's store).

For the parts of a page that cost a render and change rarely: the item filters' selects
(hundreds of options, by the submitted values and the SDE build) and the boards' grid (by
the boards' rows). The key is the page's template name, the tag's place and a digest of the
arguments' values. The fragment may read only its arguments and what never changes between
requests (constants, URLs): anything else it reads must be an argument.
"""

from __future__ import annotations

from django import template
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.template.context import Context
from django.utils.safestring import SafeString, mark_safe

from config import page_cache

register = template.Library()


class KeptNode(template.Node):
    def __init__(
        self, nodelist: NodeList, args: list[FilterExpression], where: str, shared: bool
    ) -> None:
        self.nodelist = nodelist
        self.args = args
        self.where = where  # the tag's template and place in it
        self.shared = shared  # offered to the other processes through the store

    def render(self, context: Context) -> SafeString:
        values = [arg.resolve(context) for arg in self.args]
        page = context.template.name if context.template is not None else ""
        key = (page, self.where, page_cache.digest(values))

        def render() -> str:
            # Shared: after a new snapshot a page is rendered by whichever process is asked
            # first, which may never have rendered this fragment.
            if self.shared:
                return page_cache.shared(("fragment", key), lambda: self.nodelist.render(context))
            return self.nodelist.render(context)

        return mark_safe(page_cache.fragment(key, render))


@register.tag
def kept(parser: Parser, token: Token) -> KeptNode:
    bits = token.split_contents()[1:]
    shared = bits[:1] == ["shared"]
    args = [parser.compile_filter(bit) for bit in bits[shared:]]
    if not args:
        raise template.TemplateSyntaxError("{% kept %} needs the values its fragment shows")
    nodelist = parser.parse(("endkept",))
    parser.delete_first_token()
    # The tag's place in its template: its number there (Django gives tokens a position in
    # debug mode only, so two tags of one template would otherwise share their fragments).
    number = getattr(parser, "kept_tags", 0) + 1
    parser.kept_tags = number  # type: ignore[attr-defined]
    origin = getattr(parser, "origin", None)
    return KeptNode(nodelist, args, f"{getattr(origin, 'name', '')}:{number}", shared)
