"""The API's URL resolver narrows the patterns it tries by first segment, with the same answers."""

from __future__ import annotations

import re

import pytest
from django.urls import Resolver404, URLResolver, resolve, reverse
from django.urls.resolvers import RoutePattern

from rapport.core.api import api
from rapport.core.routing import IndexedResolver, indexed_path


def _sample_paths() -> list[str]:
    """One path per API pattern, each converter filled with a value it accepts, plus variants
    whose first segment is a word some other pattern's converter would take."""
    patterns, _app, _namespace = api.urls
    paths = []
    for entry in patterns:
        route = str(entry.pattern) if isinstance(entry.pattern, RoutePattern) else ""
        paths.append(re.sub(r"<(?:int:)?[^>]+>", "7", route))
        paths.append(re.sub(r"<(?:int:)?([^>]+)>", lambda m: "people" if m.group(1) == "kind" else "7", route))
    extra = [p + "/" for p in paths] + [p + "/more" for p in paths] + ["/".join(p.split("/")[:-1]) for p in paths]
    return sorted(set(paths + extra)) + ["nothing/here", "people/7/nothing", "7/7", "", "/", "//", "people//7"]


def test_every_api_path_resolves_to_the_view_the_plain_resolver_picks() -> None:
    urls = api.urls  # each reading builds new views: both resolvers get the same ones
    patterns, app_name, namespace = urls
    indexed = indexed_path("api/v1/", urls)
    plain = URLResolver(RoutePattern("api/v1/", is_endpoint=False), patterns, app_name=app_name, namespace=namespace)
    checked = 0
    for path in _sample_paths():
        try:
            expected = plain.resolve("api/v1/" + path)
        except Resolver404:
            with pytest.raises(Resolver404):
                indexed.resolve("api/v1/" + path)
            continue
        found = indexed.resolve("api/v1/" + path)
        assert (found.func, found.kwargs, found.route, found.url_name, found.namespaces) == (
            expected.func, expected.kwargs, expected.route, expected.url_name, expected.namespaces,
        ), path
        checked += 1
    assert checked > 150  # nearly every pattern was reached


def test_the_site_resolves_api_paths_through_the_indexed_resolver() -> None:
    match = resolve("/api/v1/people/12")
    assert match.url_name == "get_card" and match.kwargs == {"kind": "people", "card_id": "12"}
    assert resolve("/api/v1/catalog/items").url_name != "get_card"  # not caught by "<kind>/<card_id>"
    assert reverse("api:get_card", kwargs={"kind": "people", "card_id": 12}) == "/api/v1/people/12"
    assert any(isinstance(p, IndexedResolver) for p in __import__("rapport.urls").urls.urlpatterns)


def test_a_card_read_tries_only_the_patterns_of_its_first_segment_and_length() -> None:
    indexed = indexed_path("api/v1/", api.urls)
    tried = indexed._candidates("people", 2).url_patterns
    assert [str(p.pattern) for p in tried][-1] == "<kind>/<card_id>"
    assert all(str(p.pattern).count("/") == 1 for p in tried)
    assert len(tried) <= 4
    assert indexed.resolve("api/v1/people/7").url_name == "get_card"


def test_a_path_outside_the_api_is_not_the_api_resolvers_to_answer() -> None:
    with pytest.raises(Resolver404):
        indexed_path("api/v1/", api.urls).resolve("cards/7/")
    assert resolve("/favicon.ico").route == "favicon.ico"
