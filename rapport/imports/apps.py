from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "rapport.imports"
    label = "imports"

    def ready(self) -> None:
        from rapport.core.extensions import NavEntry, register_nav_entry

        register_nav_entry(
            NavEntry(key="imports", url_name="import-list", label=_("Import"), order=80, roles=("rep", "manager", "admin"))
        )
