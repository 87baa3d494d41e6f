"""Pages of deals (deal)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
