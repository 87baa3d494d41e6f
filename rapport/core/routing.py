"""URL resolving that does not try every pattern of a long list in turn.

Django resolves a path by trying its patterns one after the other. The API has a few hundred,
and the card endpoints come last (their ``<kind>/<card_id>`` would otherwise catch
``catalog/items`` and the like), so every card read tried some 230 regular expressions before
its own. ``IndexedResolver`` keeps the same list, and so the same answer and the same
``reverse()``, but resolves a path among only the patterns that could match it: those whose
first segment is that literal text, and those whose first segment is not literal, in their
original order.
"""

from __future__ import annotations

from typing import Any

from django.urls import Resolver404, URLPattern, URLResolver
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


class IndexedResolver(URLResolver):
    """A ``URLResolver`` over a list of patterns that resolves by first path segment."""

    @cached_property
    def _narrowed(self) -> tuple[dict[str, URLResolver], URLResolver]:
        entries = list(self.url_patterns)
        heads = [_first_segment(entry) for entry in entries]
        groups: dict[str, URLResolver] = {}
        for head in dict.fromkeys(h for h in heads if h is not None):
            groups[head] = self._with([e for e, h in zip(entries, heads) if h in (head, None)])
        return groups, self._with([e for e, h in zip(entries, heads) if h is None])

    def _with(self, entries: list[Any]) -> URLResolver:
        return URLResolver(self.pattern, entries, self.default_kwargs, app_name=self.app_name, namespace=self.namespace)

    def resolve(self, path: Any) -> ResolverMatch:
        path = str(path)
        match = self.pattern.match(path)
        if not match:
            raise Resolver404({"path": path})  # as URLResolver.resolve does
        groups, rest = self._narrowed
        head = match[0].split("/", 1)[0]
        return groups.get(head, rest).resolve(path)


def indexed_path(route: str, urls: tuple[list[Any], str, str]) -> IndexedResolver:
    """``path(route, urls)`` for an ``(patterns, app_name, namespace)`` tuple such as a ninja
    API's ``urls``, resolved by first segment."""
    patterns, app_name, namespace = urls
    return IndexedResolver(RoutePattern(route, is_endpoint=False), patterns, app_name=app_name, namespace=namespace)
