from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "rapport.jobs"
    label = "jobs"

    def ready(self) -> None:
        from rapport.core.extensions import NavEntry, register_nav_entry

        # Administrators watch every run, scheduled ones included; a rep reaches their own runs
        # from the import or duplicate page that started them.
        register_nav_entry(NavEntry(key="jobs", url_name="job-list", label=_("Background work"), order=90, roles=("admin",)))
