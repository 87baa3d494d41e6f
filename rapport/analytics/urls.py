from django.urls import URLPattern

from rapport.analytics import dashboard, pages, views

urlpatterns: list[URLPattern] = [*dashboard.urlpatterns(), *views.urlpatterns, *pages.urlpatterns]
