from django.urls import URLPattern

from rapport.visits.views import audits, reports, route, visit

urlpatterns: list[URLPattern] = [*reports.urlpatterns, *route.urlpatterns, *audits.urlpatterns, *visit.urlpatterns]
