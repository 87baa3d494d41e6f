from django.urls import path

from rapport.agenda import views

urlpatterns = [
    path("today/", views.today, name="agenda-today"),
    path("today/tasks/new/", views.task_new, name="agenda-task-new"),
    path("today/tasks/<int:task_id>/done/", views.task_done, name="agenda-task-done"),
    path("today/tasks/<int:task_id>/snooze/", views.task_snooze, name="agenda-task-snooze"),
    path("today/call/", views.log_call, name="agenda-log-call"),
    path("today/team/", views.team, name="agenda-team"),
    path("today/settings/", views.settings_page, name="agenda-settings"),
    path("calendar/<str:secret>.ics", views.feed, name="agenda-feed"),
]
