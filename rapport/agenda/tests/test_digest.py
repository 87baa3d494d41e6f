"""The daily digest, sent through Django's mail settings to a real SMTP server on localhost,
in each user's language, once a day."""

from __future__ import annotations

import datetime as dt
import email
import socket
from collections.abc import Iterator
from email.header import decode_header, make_header
from typing import Any

import pytest
from django.utils import timezone

from rapport.agenda import digest


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server: Any, conversation: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.original_content))
        return "250 OK"


@pytest.fixture
def inbox(settings: Any) -> Iterator[Inbox]:
    from aiosmtpd.controller import Controller

    handler = Inbox()
    with socket.socket() as probe:  # a free port: the controller checks it is up by connecting to it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.EMAIL_USE_TLS = False
        settings.DEFAULT_FROM_EMAIL = "agenda@rapport.test"
        yield handler
    finally:
        controller.stop()


def _body(message: email.message.Message, kind: str = "text/plain") -> str:
    for part in message.walk():
        if part.get_content_type() == kind:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    return ""


def _subject(message: email.message.Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def test_each_user_gets_their_day_by_e_mail_in_their_language(inbox: Inbox, users: Any, task: Any) -> None:
    ana = users["rep_ana"]
    ana.email, ana.language = "ana@example.com", "es"
    ana.save()
    task(title="Llamar a Ferretería Ruiz")
    task(title="Enviar muestras", due_on=(timezone.localdate() - dt.timedelta(days=2)).isoformat())
    counts = digest.send_digests(base_url="https://crm.example.com")
    assert counts["sent"] == 1 and len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "ana@example.com"
    assert "Tu día" in _subject(message) or "Su día" in _subject(message)
    text = _body(message)
    assert "Llamar a Ferretería Ruiz" in text and "Enviar muestras" in text and "Para hoy" in text
    assert "https://crm.example.com/today/" in text
    assert "Llamar a Ferretería Ruiz" in _body(message, "text/html")


def test_a_second_run_the_same_day_sends_nothing(inbox: Inbox, users: Any, task: Any) -> None:
    users["rep_ana"].email = "ana@example.com"
    users["rep_ana"].save()
    task(title="Call")
    digest.send_digests()
    assert digest.send_digests()["sent"] == 0 and len(inbox.messages) == 1


def test_nothing_due_means_no_e_mail_and_a_user_may_turn_it_off(inbox: Inbox, users: Any, task: Any) -> None:
    from rapport.agenda import services

    users["rep_ana"].email = "ana@example.com"
    users["rep_ana"].save()
    users["rep_ben"].email = "ben@example.com"
    users["rep_ben"].save()
    task(user="rep_ben", title="Ben's call")
    services.update_settings(user=users["rep_ben"], data={"digest": False})
    counts = digest.send_digests()
    assert counts["sent"] == 0 and counts["empty"] == 1 and inbox.messages == []


def test_a_mail_server_that_is_down_is_counted_and_tried_again_next_run(settings: Any, users: Any, task: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    users["rep_ana"].email = "ana@example.com"
    users["rep_ana"].save()
    task(title="Call")
    assert digest.send_digests()["failed"] == 1
    from rapport.agenda.models import AgendaProfile

    assert AgendaProfile.objects.get(user=users["rep_ana"]).last_digest_on is None
