"""Root URL configuration: web pages, the REST API and the admin."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path

from rapport.core.api import api
from rapport.core.routing import indexed_path


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    # Resolved per request: the hashed static name exists only after collectstatic.
    return HttpResponsePermanentRedirect(static("rapport/favicon.svg"))


urlpatterns = [
    indexed_path("api/v1/", api.urls),  # a card read no longer tries 230 patterns first
    path("admin/", admin.site.urls),
    path("favicon.ico", favicon),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("rapport.accounts.urls")),
    path("", include("rapport.cards.urls")),
    path("", include("rapport.activities.urls")),
    path("", include("rapport.search.urls")),
    path("", include("rapport.relationships.urls")),
    path("", include("rapport.dedup.urls")),
    path("", include("rapport.quality.urls")),
    path("", include("rapport.audit.urls")),
    path("", include("rapport.privacy.urls")),
    path("", include("rapport.imports.urls")),
    path("", include("rapport.funnel.urls")),
    path("", include("rapport.segments.urls")),
    path("", include("rapport.commerce.urls")),
    path("", include("rapport.aftersales.urls")),
    path("", include("rapport.deals.urls")),
    path("", include("rapport.visits.urls")),
    path("", include("rapport.analytics.urls")),
    path("", include("rapport.agenda.urls")),
    path("", include("rapport.screenpop.urls")),
    path("", include("rapport.jobs.urls")),
]
