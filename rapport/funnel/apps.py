from django.apps import AppConfig


class FunnelConfig(AppConfig):
    name = "rapport.funnel"
    label = "funnel"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from rapport.core.extensions import CardPanel, NavEntry, register_card_panel, register_nav_entry
        from rapport.funnel import extensions
        from rapport.funnel.views import panel_context

        register_card_panel(CardPanel(key="funnel", template="funnel/_card_panel.html", column="main", order=20, context=panel_context))
        register_nav_entry(NavEntry(key="funnel", url_name="funnel-report", label=_("Funnel"), order=50))
        extensions.register()
