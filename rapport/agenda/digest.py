"""The daily e-mail digest: each user's Today in their own language, through Django's mail
settings (``EMAIL_*``). Sent once a day per user; a second run the same day sends nothing."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from rapport.agenda import selectors
from rapport.agenda.models import AgendaProfile

log = logging.getLogger(__name__)


def message_for(user: Any, *, today: dt.date, base_url: str = "") -> EmailMultiAlternatives | None:
    """The digest of one user, or None when there is nothing due (no empty e-mails)."""
    with override(user.language or settings.LANGUAGE_CODE):
        agenda = selectors.today_of(user, days=1, today=today)
        if not agenda.overdue and not agenda.due_today:
            return None
        context = {"user": user, "agenda": agenda, "base_url": base_url.rstrip("/")}
        subject = _("Your day: %(today)s, %(count)s due, %(overdue)s overdue") % {
            "today": today.isoformat(), "count": len(agenda.due_today), "overdue": len(agenda.overdue)}
        text = render_to_string("agenda/digest.txt", context)
        html = render_to_string("agenda/digest.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[user.email])
    message.attach_alternative(html, "text/html")
    return message


def send_digests(*, today: dt.date | None = None, base_url: str = "", usernames: list[str] | None = None) -> dict[str, int]:
    """Sends the day's digest to every active user with an e-mail address who wants it."""
    from rapport.accounts.models import User

    today = today or timezone.localdate()
    counts = {"sent": 0, "empty": 0, "skipped": 0, "failed": 0}
    users = User.objects.filter(is_active=True).exclude(email="").order_by("id")
    if usernames:
        users = users.filter(username__in=usernames)
    connection = get_connection()
    for user in users.iterator(chunk_size=500):
        profile, _created = AgendaProfile.objects.get_or_create(user=user)
        if not profile.digest or profile.last_digest_on == today:
            counts["skipped"] += 1
            continue
        message = message_for(user, today=today, base_url=base_url)
        if message is None:
            counts["empty"] += 1
            continue
        message.connection = connection
        try:
            message.send()
        except OSError as exc:  # the mail server refused or is down: the next run tries again
            log.warning("digest to user %s not sent: %s", user.pk, exc)
            counts["failed"] += 1
            continue
        AgendaProfile.objects.filter(pk=profile.pk).update(last_digest_on=today)
        counts["sent"] += 1
    return counts
