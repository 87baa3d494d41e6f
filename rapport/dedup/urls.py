from django.urls import path

from rapport.dedup import views

urlpatterns = [
    path("duplicates/", views.queue, name="dedup-queue"),
    path("duplicates/scan/", views.scan, name="dedup-scan"),
    path("duplicates/<int:candidate_id>/", views.review, name="dedup-review"),
    path("duplicates/<int:candidate_id>/merge/", views.merge, name="dedup-merge"),
    path("duplicates/<int:candidate_id>/not-duplicate/", views.not_duplicate, name="dedup-not-duplicate"),
    path("duplicates/<int:candidate_id>/reopen/", views.reopen, name="dedup-reopen"),
    path("duplicates/merges/<int:merge_id>/undo/", views.undo, name="dedup-undo"),
]
