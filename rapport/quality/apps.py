from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "rapport.quality"
    label = "quality"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from rapport.core.extensions import CardPanel, NavEntry, register_card_panel, register_nav_entry
        from rapport.quality.views import card_panel_context

        register_card_panel(
            CardPanel(key="quality", template="quality/_card_panel.html", column="main", order=5, context=card_panel_context)
        )
        register_nav_entry(NavEntry(key="quality", url_name="quality-team", label=_("Data quality"), order=61))
