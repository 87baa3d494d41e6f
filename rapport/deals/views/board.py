"""Pages of deals (board)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
