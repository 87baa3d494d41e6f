from django.urls import path

from rapport.segments import views

urlpatterns = [
    path("segments/", views.segment_list, name="segment-list"),
    path("segments/new/", views.segment_edit, name="segment-create"),
    path("segments/count/", views.segment_count, name="segment-count"),
    path("segments/<int:segment_id>/", views.segment_detail, name="segment-detail"),
    path("segments/<int:segment_id>/edit/", views.segment_edit, name="segment-edit"),
    path("segments/<int:segment_id>/delete/", views.segment_delete, name="segment-delete"),
    path("segments/<int:segment_id>/export.csv", views.segment_export, name="segment-export"),
]
