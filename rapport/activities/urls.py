from django.urls import path

from rapport.activities import views

urlpatterns = [
    path("cards/<int:card_id>/activities/", views.log_activity, name="activity-log"),
]
