"""``rapport import`` and ``rapport export`` from the command line."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from rapport.cards.models import Card
from rapport.cli import main
from rapport.imports.models import ExportRecord, ImportJob

FILE = "Empresa,Teléfono,Sector\r\nFrutas SL,912 345 678,retail\r\n=1+2,912 345 679,retail\r\nVerduras SA,bad,retail\r\n"


def run(capsys: Any, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_import_reports_counts_writes_the_error_file_and_can_be_reverted(users: Any, tmp_path: Path, capsys: Any) -> None:
    source, errors = tmp_path / "orgs.csv", tmp_path / "errors.csv"
    source.write_text(FILE, encoding="utf-8")
    code, out, _ = run(capsys, "import", str(source), "--kind", "organizations", "--user", "rep_ana", "--errors", str(errors))
    assert code == 0
    assert "2 created" in out and "1 rows not imported" in out
    lines = list(csv.reader(errors.open(encoding="utf-8-sig")))
    problems = {(row[0], row[1], row[4]) for row in lines[1:]}
    assert ("2", "Empresa", "row not imported") in problems and ("3", "Teléfono", "value left out") in problems
    assert Card.objects.count() == 2
    job = ImportJob.objects.get()
    code, out, _ = run(capsys, "import", "--revert", str(job.pk), "--user", "rep_ana")
    assert code == 0 and "2 cards deleted" in out
    assert Card.objects.count() == 0


def test_a_dry_run_leaves_no_trace(users: Any, tmp_path: Path, capsys: Any) -> None:
    source = tmp_path / "orgs.csv"
    source.write_text(FILE, encoding="utf-8")
    code, out, _ = run(capsys, "import", str(source), "--kind", "organizations", "--user", "rep_ana", "--dry-run")
    assert code == 0 and out.startswith("Would import 3 rows")
    assert Card.objects.count() == 0 and ImportJob.objects.count() == 0


def test_a_mapping_file_chooses_the_columns(users: Any, tmp_path: Path, capsys: Any) -> None:
    source, mapping = tmp_path / "orgs.csv", tmp_path / "mapping.json"
    source.write_text(FILE, encoding="utf-8")
    mapping.write_text(json.dumps({"Empresa": "name", "Teléfono": "", "Sector": "industry"}))
    code, _, _ = run(capsys, "import", str(source), "--kind", "organizations", "--user", "rep_ana", "--mapping", str(mapping))
    assert code == 0
    assert not Card.objects.filter(phones__isnull=False).exists()


def test_user_errors_exit_2_with_one_line(users: Any, tmp_path: Path, capsys: Any) -> None:
    code, _, err = run(capsys, "import", str(tmp_path / "missing.csv"), "--user", "rep_ana")
    assert code == 2 and "No such file" in err
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x00\x01\x02" * 1000)
    code, _, err = run(capsys, "import", str(junk), "--user", "rep_ana")
    assert code == 2 and "not a text file" in err
    code, _, err = run(capsys, "export", "--kind", "people", "--format", "csv", "--output", str(tmp_path / "x.csv"), "--segment", "3")
    assert code == 2 and "segment: Unknown segment." in err
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "x.csv.part").exists()


def test_export_writes_what_the_user_sees_and_records_it(users: Any, tmp_path: Path, capsys: Any, make_org: Any) -> None:
    make_org(owner="rep_ana", name="Frutas SL")
    make_org(owner="rep_bo_other_team", name="Sur SA")
    target = tmp_path / "orgs.csv"
    code, out, _ = run(capsys, "export", "--kind", "organizations", "--format", "csv", "--output", str(target), "--user", "rep_ana")
    assert code == 0 and "Exported 1 organizations" in out
    assert [r["name"] for r in csv.DictReader(target.open(encoding="utf-8-sig"))] == ["Frutas SL"]
    assert ExportRecord.objects.get().channel == "cli"
