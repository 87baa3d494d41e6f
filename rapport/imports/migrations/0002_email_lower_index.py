from django.db import migrations

# The duplicate check of imports looks e-mails up case-insensitively (the local part is stored
# as typed). Without an index on lower(address) every batch would scan every stored e-mail.
# Both SQLite and PostgreSQL support expression indexes with this exact syntax.
CREATE = "CREATE INDEX IF NOT EXISTS imports_email_lower ON cards_email (lower(address))"
DROP = "DROP INDEX IF EXISTS imports_email_lower"


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0001_initial"),
        ("cards", "0001_initial"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
