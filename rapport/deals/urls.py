from django.urls import URLPattern

from rapport.deals.views import board, deal, proposals, reports

urlpatterns: list[URLPattern] = [*board.urlpatterns, *deal.urlpatterns, *proposals.urlpatterns, *reports.urlpatterns]
