from django.urls import path

from rapport.audit import views

urlpatterns = [
    path("audit/", views.audit_list, name="audit-list"),
]
