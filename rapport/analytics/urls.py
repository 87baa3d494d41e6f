from django.urls import URLPattern

from rapport.analytics import pages, views

urlpatterns: list[URLPattern] = [*views.urlpatterns, *pages.urlpatterns]
