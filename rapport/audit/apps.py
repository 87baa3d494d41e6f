from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "rapport.audit"
    label = "audit"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from rapport.audit import signals  # noqa: F401  (sign-in events)
        from rapport.core.extensions import NavEntry, register_nav_entry

        register_nav_entry(NavEntry(key="audit", url_name="audit-list", label=_("Audit log"), order=90, roles=("admin",)))
