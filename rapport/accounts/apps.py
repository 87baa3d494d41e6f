from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "rapport.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from rapport.accounts.models import Team, User
        from rapport.accounts.services import forget_users

        # API requests take their user, role and teams from a per-process cache
        # (services.token_for): whatever this process changes of them counts at its next request.
        for model in (User, Team):
            post_save.connect(forget_users, sender=model, dispatch_uid=f"forget-users-save-{model.__name__}")
            post_delete.connect(forget_users, sender=model, dispatch_uid=f"forget-users-delete-{model.__name__}")
        for through in (User.teams.through, User.managed_teams.through):
            m2m_changed.connect(forget_users, sender=through, dispatch_uid=f"forget-users-{through.__name__}")
