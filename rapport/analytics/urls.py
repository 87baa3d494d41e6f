from django.urls import URLPattern

from rapport.analytics import views

urlpatterns: list[URLPattern] = [*views.urlpatterns]
