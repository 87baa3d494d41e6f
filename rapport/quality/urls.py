from django.urls import path

from rapport.quality import views

urlpatterns = [
    path("quality/", views.team, name="quality-team"),
    path("cards/<int:card_id>/conflicts/<slug:item>/resolve/", views.resolve, name="quality-resolve"),
]
