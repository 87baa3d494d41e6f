"""Root URL configuration: web pages, the REST API and the admin."""

from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic.base import RedirectView

from rapport.core.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("favicon.ico", RedirectView.as_view(url=static("rapport/favicon.svg"), permanent=True)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("rapport.accounts.urls")),
    path("", include("rapport.cards.urls")),
    path("", include("rapport.activities.urls")),
    path("", include("rapport.search.urls")),
]
