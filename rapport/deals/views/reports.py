"""Pages of deals (reports)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
