from django.urls import path

from rapport.screenpop import views

urlpatterns = [
    path("pop/", views.pop, name="screenpop"),
    path("pop/cards/<int:card_id>/", views.pop_card, name="screenpop-card"),
]
