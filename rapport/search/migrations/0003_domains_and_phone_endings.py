"""Search by domain and by the last digits of a phone number.

- An index on each phone number reversed (``cards_phone``, an expression index: the database
  keeps it on every write), so that the last digits are one range of it.
- The domain terms that cards indexed before this lacked: each website's domain, and the parent
  domains of e-mail domains ("ventas.ariza.es" -> "ariza.es").
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

from rapport.search.services import OTHER_WEIGHT, domains_of, reversed_e164_sql, website_domain

INDEX = "phone_e164_reversed"
CHUNK = 2000


def create_index(apps: Any, schema_editor: Any) -> None:
    expression = reversed_e164_sql(schema_editor.connection.vendor)
    schema_editor.execute(f"CREATE INDEX {INDEX} ON cards_phone ({expression}, card_id)")


def drop_index(apps: Any, schema_editor: Any) -> None:
    schema_editor.execute(f"DROP INDEX {INDEX}")


def index_domains(apps: Any, schema_editor: Any) -> None:
    Card = apps.get_model("cards", "Card")
    Email = apps.get_model("cards", "Email")
    Term = apps.get_model("search", "Term")
    wanted: dict[int, set[str]] = {}

    def flush() -> None:
        ids = list(wanted)
        have = set(Term.objects.filter(card_id__in=ids).values_list("card_id", "term"))
        rows = []
        for card_id, kind, archived_at, owner_id, team_id in Card.objects.filter(pk__in=ids).values_list(
            "id", "kind", "archived_at", "owner_id", "team_id"
        ):
            for domain in sorted(wanted[card_id]):
                if (card_id, domain) not in have:
                    rows.append(Term(term=domain[:64], card_id=card_id, weight=OTHER_WEIGHT, kind=kind,
                                     archived=archived_at is not None, owner_id=owner_id, team_id=team_id))
        Term.objects.bulk_create(rows, batch_size=CHUNK)
        wanted.clear()

    for card_id, website in Card.objects.exclude(website="").values_list("id", "website").iterator(chunk_size=CHUNK):
        found = domains_of(website_domain(website))
        if found:
            wanted.setdefault(card_id, set()).update(found)
            if len(wanted) >= CHUNK:
                flush()
    # Only domains with a parent ("a.b.c") need anything new.
    for card_id, address in Email.objects.filter(address__regex=r"@[^@]+\.[^@]+\.").values_list("card_id", "address").iterator(
        chunk_size=CHUNK
    ):
        parents = domains_of(address.rpartition("@")[2])[1:]
        if parents:
            wanted.setdefault(card_id, set()).update(parents)
            if len(wanted) >= CHUNK:
                flush()
    if wanted:
        flush()


class Migration(migrations.Migration):
    dependencies = [
        ("cards", "0009_segment_index_seeks_method_and_date"),
        ("search", "0002_term_carries_card_scope"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index),
        migrations.RunPython(index_domains, migrations.RunPython.noop),
    ]
