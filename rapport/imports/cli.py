"""``rapport import`` and ``rapport export``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rapport.cli import EXIT_OK, UsageError, err, out


def _user(username: str | None) -> Any:
    from rapport.accounts.models import User
    from rapport.accounts.services import get_user

    if username:
        return get_user(username)
    admins = User.objects.filter(role="admin", is_active=True).order_by("id")
    user = admins.first()
    if user is None:
        raise UsageError("No admin user exists: pass --user USERNAME (create one with `rapport user create`).")
    return user


def terminal_language() -> str:
    """The language of the terminal (LANGUAGE, LC_ALL, LC_MESSAGES, LANG: ``es_ES.UTF-8`` -> es,
    ``zh_CN`` -> zh-hans), among those Rapport speaks; English otherwise."""
    import os

    from django.conf import settings

    codes = [code for code, _name in settings.LANGUAGES]
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        for raw in os.environ.get(variable, "").split(":"):
            tag = raw.split(".")[0].split("@")[0].replace("_", "-").lower()
            if not tag or tag in ("c", "posix"):
                continue
            if tag.startswith("zh"):
                tag = "zh-hans"
            for candidate in (tag, tag.split("-")[0]):
                if candidate in codes:
                    return candidate
    return "en"


def cmd_import(args: argparse.Namespace) -> int:
    from django.utils import translation

    with translation.override(terminal_language()):
        return _import(args)


def _import(args: argparse.Namespace) -> int:
    from django.db import transaction
    from django.utils.translation import gettext as _

    from rapport.imports import extensions, services
    from rapport.imports.models import Status

    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"No such file: {path}")
    mapping = None
    if args.mapping:
        try:
            mapping = json.loads(Path(args.mapping).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"The mapping file cannot be read as JSON: {exc}") from None
    user = _user(args.user)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"), TimeElapsedColumn(),
        console=err, transient=False,
    ) as bar:
        task = bar.add_task(f"Importing {path.name}" + (" (dry run)" if args.dry_run else ""), total=None)

        def progress(job: Any) -> None:
            bar.update(task, completed=job.rows_read)

        error_file = Path(args.errors) if args.errors else None
        options = dict(
            user=user, path=path, file_name=path.name, kind=args.kind, mapping=mapping, on_duplicate=args.on_duplicate,
            region=args.region or "", strict=args.strict, keep_going=args.keep_going,
        )
        if args.dry_run:
            # The job is checked and made in a transaction that is rolled back at once (nothing is
            # committed); the run then writes each batch in its own rolled-back transaction, so
            # the database stays open to other writers while the file is read.
            with transaction.atomic():
                job = services.create_job(**options)
                transaction.set_rollback(True)
            report = services.run_import(job=job, dry_run=True, progress=progress, error_file=error_file)
            job = report.job
        else:
            job = services.create_job(**options)
            report = services.run_import(job=job, progress=progress, error_file=error_file)
            job = report.job
        bar.update(task, completed=job.rows_read, total=job.rows_read)
    counts = {"rows": job.rows_read, "file": path.name, "kind": job.kind, "created": job.created_count,
              "updated": job.updated_count, "skipped": job.skipped_count, "errors": job.error_count}
    if extensions.import_kind(job.kind) is not None:
        line = (_("Would import %(rows)s rows of %(file)s as %(kind)s: %(created)s created, %(updated)s updated, "
                  "%(skipped)s unchanged, %(errors)s rows not imported.") if args.dry_run else
                _("Imported %(rows)s rows of %(file)s as %(kind)s: %(created)s created, %(updated)s updated, "
                  "%(skipped)s unchanged, %(errors)s rows not imported."))
    else:
        line = (_("Would import %(rows)s rows of %(file)s as %(kind)s cards: %(created)s created, %(updated)s updated, "
                  "%(skipped)s duplicates skipped, %(errors)s rows not imported.") if args.dry_run else
                _("Imported %(rows)s rows of %(file)s as %(kind)s cards: %(created)s created, %(updated)s updated, "
                  "%(skipped)s duplicates skipped, %(errors)s rows not imported."))
    out.print(line % counts, markup=False)
    if job.left_out_count:
        out.print(_("%(count)s rows imported without some of their values (listed in the error file).")
                  % {"count": job.left_out_count}, markup=False)
    if job.phones_left_out:
        out.print(_("%(count)s phone numbers were not kept: valid in no country tried (listed in the error file).")
                  % {"count": job.phones_left_out}, markup=False)
    if job.organizations_created:
        out.print(_("%(count)s organisations created for the people's companies.") % {"count": job.organizations_created},
                  markup=False)
    if job.status == Status.FAILED:
        err.print(_("The import stopped: %(reason)s") % {"reason": job.message_text}, markup=False)
    if job.problem_count:
        if error_file:
            out.print(_("Errors (row, column, reason): %(file)s") % {"file": error_file}, markup=False)
        elif not args.dry_run:
            out.print(_("See the errors with --errors FILE, or download them from import #%(job)s in the web app.")
                      % {"job": job.pk}, markup=False)
    if not args.dry_run:
        out.print(_("Import #%(job)s; undo it with `rapport import --revert %(job)s`.") % {"job": job.pk}, markup=False)
    return EXIT_OK if job.status != Status.FAILED else 1


def cmd_revert(args: argparse.Namespace) -> int:
    from rapport.imports import extensions, services

    user = _user(args.user)
    job = services.get_job(user, args.revert)
    report = services.revert_import(user=user, job=job)
    if extensions.import_kind(job.kind) is not None:
        out.print(
            f"Reverted import #{job.pk}: {report.deleted} {job.kind} deleted, {report.restored} restored, "
            f"{report.kept} changed since and kept.",
            markup=False,
        )
        if job.message:
            out.print(job.message_text, markup=False)
        return EXIT_OK
    out.print(
        f"Reverted import #{job.pk}: {report.deleted} cards deleted, {report.restored} restored, "
        f"{report.facts_removed} facts removed, {report.kept} changed since and kept.",
        markup=False,
    )
    return EXIT_OK


def cmd_import_or_revert(args: argparse.Namespace) -> int:
    if args.revert is not None:
        return cmd_revert(args)
    if not args.file:
        raise UsageError("Give the FILE to import (or --revert JOB_ID).")
    return cmd_import(args)


def cmd_export(args: argparse.Namespace) -> int:
    from rapport.cards.selectors import CardFilter
    from rapport.imports import services

    user = _user(args.user)
    if args.kind not in ("organizations", "people"):
        return _export_records(args, user)
    flt = CardFilter(q=args.q or "", tier=args.tier or "", stage=args.stage or "", industry=args.industry or "",
                     item=args.item or "", value=args.value, archived=args.archived)
    target = Path(args.output)
    partial = target.with_name(target.name + ".part")
    try:
        with partial.open("wb") as stream:
            result = services.export_cards(
                user=user, kind=args.kind, flt=flt, fmt=args.format, stream=stream, channel="cli", segment=args.segment
            )
        partial.replace(target)  # a failed export leaves no half-written file behind
    finally:
        partial.unlink(missing_ok=True)
    out.print(f"Exported {result.rows} {args.kind} to {target} ({args.format}).", markup=False)
    return EXIT_OK


def _export_records(args: argparse.Namespace, user: Any) -> int:
    """``--kind`` of another app (products…): its records as CSV or XLSX; the card filters do not apply."""
    from rapport.imports import services

    target = Path(args.output)
    partial = target.with_name(target.name + ".part")
    try:
        with partial.open("wb") as stream:
            result = services.export_records(user=user, kind=args.kind, fmt=args.format, stream=stream, channel="cli")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    out.print(f"Exported {result.rows} {args.kind} to {target} ({args.format}).", markup=False)
    return EXIT_OK


def register(subparsers: Any, command: Any) -> None:
    p = command("import", cmd_import_or_revert,
                "Import organisations or people from CSV, XLSX or vCard, or the kinds other apps add such as "
                "products, orders, invoices and payments from CSV or XLSX (or revert an import).")
    p.add_argument("file", nargs="?", help="the CSV, XLSX or vCard file")
    # Free text: the kinds other apps register are known only once Django is set up.
    p.add_argument("--kind", metavar="KIND",
                   help="organizations, people, or a registered kind (products, orders, invoices, payments); "
                        "default: guessed from the columns (vCard: people)")
    p.add_argument("--mapping", metavar="MAPPING.json", help='{"column": "target"}; default: suggested from the headers')
    p.add_argument("--dry-run", action="store_true", help="check every row and report, commit nothing")
    p.add_argument("--on-duplicate", choices=["skip", "merge", "create"], default="skip",
                   help="a row with the phone or e-mail of a card you can see (same external id always updates)")
    p.add_argument("--region", metavar="CC", help="country where phone numbers without +code were written (e.g. ES)")
    p.add_argument("--strict", action="store_true",
                   help="a row with any bad value is not imported (default: the bad values are left out and listed)")
    p.add_argument("--keep-going", action="store_true",
                   help="after a line that is not CSV (an unclosed quote), go on reading instead of stopping there")
    p.add_argument("--errors", metavar="FILE", help="write the rows that were not imported to this CSV")
    p.add_argument("--user", metavar="USERNAME", help="who imports (owns the new cards); default: the first admin")
    p.add_argument("--revert", metavar="JOB_ID", help="undo a whole import instead")

    e = command("export", cmd_export,
                "Export the organisations or people a user may see as CSV, XLSX or vCard 4.0 (or a registered kind such as products).")
    e.add_argument("--kind", metavar="KIND", required=True, help="organizations, people, or a registered kind (products)")
    e.add_argument("--format", choices=["csv", "xlsx", "vcard"], required=True)
    e.add_argument("--output", required=True, metavar="FILE")
    e.add_argument("--segment", metavar="ID", help="only the members of this saved segment")
    e.add_argument("--user", metavar="USERNAME", help="whose view to export; default: the first admin")
    e.add_argument("--q", metavar="PREFIX", help="name prefix")
    e.add_argument("--tier")
    e.add_argument("--stage")
    e.add_argument("--industry")
    e.add_argument("--item", metavar="KEY", help="catalog item the cards hold")
    e.add_argument("--value", help="value of --item")
    e.add_argument("--archived", action="store_true", help="archived cards instead of live ones")
