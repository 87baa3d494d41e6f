from django.urls import path

from rapport.funnel import views

urlpatterns = [
    path("cards/<int:card_id>/stage/", views.move_stage, name="funnel-move"),
    path("cards/<int:card_id>/qualification/", views.save_qualification, name="funnel-qualification"),
    path("cards/<int:card_id>/prospecting/", views.save_prospecting, name="funnel-prospecting"),
    path("reports/funnel/", views.funnel_report, name="funnel-report"),
]
