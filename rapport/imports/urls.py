from django.urls import path

from rapport.imports import views

urlpatterns = [
    path("imports/", views.import_list, name="import-list"),
    path("imports/<int:job_id>/", views.import_detail, name="import-detail"),
    path("imports/<int:job_id>/progress/", views.import_progress, name="import-progress"),
    path("imports/<int:job_id>/errors.csv", views.import_errors, name="import-errors"),
    path("imports/<int:job_id>/revert/", views.import_revert, name="import-revert"),
    path("exports/<str:kind>/", views.export_download, name="export-download"),
    path("exports/files/<int:job_id>/", views.export_file, name="export-file"),
]
