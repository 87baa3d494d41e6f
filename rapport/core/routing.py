"""URL resolving that does not try every pattern of a long list in turn.

Django resolves a path by trying its patterns one after the other. The API has a few hundred,
and the card endpoints come last (their ``<kind>/<card_id>`` would otherwise catch
``catalog/items`` and the like), so every card read tried some 230 regular expressions before
its own. ``IndexedResolver`` keeps the same list, and so the same answer and the same
``reverse()``, but resolves a path among only the patterns that could match it, in their
original order: those whose first segment is that literal text or not literal, and whose number
of segments is the path's (or not fixed: a converter that may match "/", an include).
"""

from __future__ import annotations

from typing import Any

from django.urls import Resolver404, URLPattern, URLResolver, converters
from django.urls.resolvers import ResolverMatch, RoutePattern
from django.utils.functional import cached_property


def _first_segment(entry: URLPattern | URLResolver) -> str | None:
    """The literal text before the first "/" of a route, or None when a pattern there could
    match more than one text (a converter, a regular expression)."""
    pattern = entry.pattern
    if not isinstance(pattern, RoutePattern):
        return None
    head = str(pattern).split("/", 1)[0]  # a RoutePattern reads as its route
    return None if "<" in head else head


# Django's converters whose values never contain "/".
_ONE_SEGMENT = (converters.IntConverter, converters.StringConverter, converters.UUIDConverter, converters.SlugConverter)


def _segments(entry: URLPattern | URLResolver) -> int | None:
    """How many "/"-separated segments every path the entry matches has, or None when that is
    not fixed (an include, a regular expression, a converter whose values may contain "/")."""
    pattern = entry.pattern
    if not isinstance(pattern, RoutePattern) or not getattr(pattern, "_is_endpoint", False):
        return None
    if not all(type(converter) in _ONE_SEGMENT for converter in pattern.converters.values()):
        return None  # "path", or a converter of unknown values
    return str(pattern).count("/") + 1


class IndexedResolver(URLResolver):
    """A ``URLResolver`` over a list of patterns that resolves by first path segment and number
    of segments."""

    @cached_property
    def _narrowed(self) -> tuple[dict[tuple[str | None, int | None], URLResolver], frozenset[str], int]:
        """A resolver per (first segment, number of segments) the patterns name, with None for
        "any other": (those resolvers, the literal first segments, the most segments)."""
        keyed = [(entry, _first_segment(entry), _segments(entry)) for entry in self.url_patterns]
        heads = frozenset(head for _entry, head, _count in keyed if head is not None)
        longest = max((count for _entry, _head, count in keyed if count is not None), default=0)
        resolvers = {
            (head, count): self._with([e for e, h, c in keyed if h in (head, None) and c in (count, None)])
            for head in (*heads, None) for count in (*range(1, longest + 1), None)
        }
        return resolvers, heads, longest

    def _candidates(self, head: str, count: int) -> URLResolver:
        resolvers, heads, longest = self._narrowed
        return resolvers[(head if head in heads else None, count if count <= longest else None)]

    def _with(self, entries: list[Any]) -> URLResolver:
        return URLResolver(self.pattern, entries, self.default_kwargs, app_name=self.app_name, namespace=self.namespace)

    def resolve(self, path: Any) -> ResolverMatch:
        path = str(path)
        match = self.pattern.match(path)
        if not match:
            raise Resolver404({"path": path})  # as URLResolver.resolve does
        rest = match[0]
        return self._candidates(rest.split("/", 1)[0], rest.count("/") + 1).resolve(path)


def indexed_path(route: str, urls: tuple[list[Any], str, str]) -> IndexedResolver:
    """``path(route, urls)`` for an ``(patterns, app_name, namespace)`` tuple such as a ninja
    API's ``urls``, resolved by first segment."""
    patterns, app_name, namespace = urls
    return IndexedResolver(RoutePattern(route, is_endpoint=False), patterns, app_name=app_name, namespace=namespace)
