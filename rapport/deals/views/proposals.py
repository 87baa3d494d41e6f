"""Pages of deals (proposals)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
