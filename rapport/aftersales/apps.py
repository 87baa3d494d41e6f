from django.apps import AppConfig


class AftersalesConfig(AppConfig):
    name = "rapport.aftersales"
    label = "aftersales"
    verbose_name = "After-sales"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from rapport.aftersales.selectors import timeline_entries
        from rapport.aftersales.views import panel_context
        from rapport.aftersales.services import schedule_on_delivery
        from rapport.cards.selectors import register_timeline_source
        from rapport.commerce.services import register_delivery_follower
        from rapport.core.extensions import CardPanel, NavEntry, register_card_panel, register_nav_entry

        register_card_panel(
            CardPanel(key="aftersales", template="aftersales/_card_panel.html", column="main", order=25, context=panel_context)
        )
        register_nav_entry(NavEntry(key="aftersales", url_name="aftersales-due", label=_("After-sales"), order=47))
        register_timeline_source(timeline_entries)
        register_delivery_follower(schedule_on_delivery)
