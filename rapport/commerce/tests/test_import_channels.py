"""Commerce imports from the web wizard, the API and the command line; products in and out."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rapport.commerce.models import Order, Product
from rapport.commerce.tests.test_import_support import customer, errors_of, product, run_file, xlsx_bytes
from rapport.imports.models import ExportRecord, ImportJob, Status

ORDERS = "customer_external_id,order_external_id,ordered_on,product_sku,quantity,amount,currency\n"


@pytest.fixture(autouse=True)
def _imports_in_the_request(settings: Any, tmp_path: Path) -> None:
    settings.RAPPORT_IMPORTS_IN_BACKGROUND = False
    settings.RAPPORT_IMPORT_DIR = str(tmp_path / "uploads")


@pytest.fixture
def shop(users: Any) -> Any:
    product("DR-1")
    return customer(users["rep_ana"], external_id="C-1")


def test_the_wizard_imports_orders_chosen_in_the_upload_form(ana: Client, shop: Any) -> None:
    content = ORDERS + "C-1,A-1,2026-03-01,DR-1,2,40.00,EUR\nC-1,A-2,2026-03-01,DR-1,1,x,EUR\n"
    assert '<option value="orders">' in ana.get("/imports/").content.decode()
    response = ana.post("/imports/", {"file": SimpleUploadedFile("pedidos.csv", content.encode()), "kind": "orders"})
    assert response.status_code == 302, response.content
    job = ImportJob.objects.get()
    page = ana.get(f"/imports/{job.pk}/").content.decode()
    assert '<option value="order_external_id" selected>' in page and 'name="on_duplicate"' not in page
    form = {"kind": "orders", **{f"col_{i}": target for i, target in enumerate(
        ["customer_external_id", "order_external_id", "ordered_on", "product_sku", "quantity", "amount", "currency"])}}
    preview = ana.post(f"/imports/{job.pk}/", {**form, "preview": "1"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Records to create: <strong>1</strong>" in preview and "<strong>amount</strong>" in preview
    assert not Order.objects.exists()
    assert ana.post(f"/imports/{job.pk}/", {**form, "run": "1"}).status_code == 302
    job.refresh_from_db()
    assert (job.status, job.created_count, job.error_count) == (Status.DONE, 1, 1)
    report = ana.get(f"/imports/{job.pk}/").content.decode()
    assert "Records created: <strong>1</strong>" in report and "Revert this import" in report
    ana.post(f"/imports/{job.pk}/revert/")
    assert not Order.objects.exists()


def test_changing_the_kind_in_the_wizard_suggests_the_columns_again(ana: Client, shop: Any) -> None:
    content = "Cliente,Pedido,Fecha,Cantidad,Importe,Moneda\nC-1,A-1,2026-03-01,1,5,EUR\n"
    ana.post("/imports/", {"file": SimpleUploadedFile("p.csv", content.encode()), "kind": "people"})
    job = ImportJob.objects.get()
    assert job.kind == "person"
    form = {"kind": "orders", "on_duplicate": "skip", "region": "", **{f"col_{i}": "" for i in range(6)}}
    ana.post(f"/imports/{job.pk}/", {**form, "preview": "1"}, HTTP_HX_REQUEST="true")
    job.refresh_from_db()
    assert job.kind == "orders" and job.mapping["Pedido"] == "order_external_id"


def test_the_api_accepts_the_commerce_kinds(users: Any, shop: Any) -> None:
    from rapport.accounts.services import create_token

    api = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(user=users['rep_ana'], name='test')}")
    content = xlsx_bytes([ORDERS.strip().split(","), ["C-1", "A-1", "2026-03-01", "DR-1", 2, 40, "EUR"]])
    response = api.post("/api/v1/imports", {"file": SimpleUploadedFile("o.xlsx", content), "kind": "orders"})
    assert response.status_code == 201, response.content
    job = response.json()
    assert job["kind"] == "orders" and job["mapping"]["order_external_id"] == "order_external_id"
    preview = api.post(f"/api/v1/imports/{job['id']}/preview").json()
    assert [(r["row"], r["name"], r["action"]) for r in preview["rows"]] == [(1, "A-1", "created")]
    done = api.post(f"/api/v1/imports/{job['id']}/run")
    assert done.status_code == 202 and done.json()["created"] == 1
    assert Order.objects.get().total == Decimal("40.00")
    assert api.post(f"/api/v1/imports/{job['id']}/revert").json()["deleted"] == 1
    bad = api.post("/api/v1/imports", {"file": SimpleUploadedFile("o.csv", b"a,b\n1,2\n"), "kind": "orders"})
    assert bad.status_code == 422 and "needs a column for" in bad.json()["errors"]["mapping"][0]


def run_cli(capsys: Any, *argv: str) -> tuple[int, str, str]:
    from rapport.cli import main

    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_command_line_imports_orders_dry_runs_and_reverts(users: Any, shop: Any, tmp_path: Path, capsys: Any) -> None:
    source, errors = tmp_path / "orders.csv", tmp_path / "errors.csv"
    source.write_text(ORDERS + "C-1,A-1,2026-03-01,DR-1,2,40.00,EUR\nC-1,A-2,2026-03-01,GONE,1,1,EUR\n", encoding="utf-8")
    code, out, _ = run_cli(capsys, "import", str(source), "--kind", "orders", "--user", "rep_ana", "--dry-run")
    assert code == 0 and out.startswith("Would import 2 rows of orders.csv as orders: 1 created")
    assert not Order.objects.exists()
    code, out, _ = run_cli(capsys, "import", str(source), "--kind", "orders", "--user", "rep_ana", "--errors", str(errors))
    assert code == 0 and "1 created, 0 updated, 0 unchanged, 1 rows not imported" in out
    rows = list(csv.reader(errors.open(encoding="utf-8-sig")))
    assert rows[1][:3] == ["2", "product_sku", "No product with the SKU or id 'GONE'."]
    job = ImportJob.objects.get()
    code, out, _ = run_cli(capsys, "import", "--revert", str(job.pk), "--user", "rep_ana")
    assert code == 0 and "1 orders deleted" in out and not Order.objects.exists()


def test_an_unknown_kind_is_a_usage_error(users: Any, tmp_path: Path, capsys: Any) -> None:
    source = tmp_path / "x.csv"
    source.write_text(ORDERS, encoding="utf-8")
    code, _, err = run_cli(capsys, "import", str(source), "--kind", "robots", "--user", "rep_ana")
    assert code == 2 and "orders" in err


def test_products_import_by_sku_in_four_languages(users: Any, tmp_path: Path) -> None:
    product("DR-1", "Taladro")
    job = run_file(users["manager_mei"], tmp_path,
                   "Código producto,Nombre,Name ZH,Categoría,Marca,Unidad,Activo\n"
                   "DR-1,Taladro percutor,冲击钻,Herramientas,Bosch,unit,sí\n"
                   "SAW-2,Sierra,锯,Herramientas,,box,no\n"
                   "SAW-2,Sierra bis,,,,,\n"
                   ",Sin código,,,,,\n", name="productos.csv", kind=None)
    assert job.kind == "products" and (job.created_count, job.updated_count) == (1, 1)
    assert [(r, c) for r, c, _t in errors_of(job)] == [(3, "Código producto"), (4, "Código producto")]
    saw = Product.objects.get(sku="SAW-2")
    assert (saw.name, saw.names, saw.unit, saw.active) == ("Sierra", {"zh-hans": "锯"}, "box", False)
    assert Product.objects.get(sku="DR-1").names == {"zh-hans": "冲击钻"}


def test_a_rep_may_not_import_products(users: Any, tmp_path: Path) -> None:
    from rapport.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        run_file(users["rep_ana"], tmp_path, "sku,name\nX-1,Thing\n", name="p.csv", kind="products")


def test_products_export_as_csv_and_xlsx_safe_for_spreadsheets(users: Any, tmp_path: Path, capsys: Any) -> None:
    Product.objects.create(sku="=HYPERLINK(1)", name="-cmd|' /C calc'!A0", names={"es": "Taladro"})
    product("DR-1", "Taladro")
    target = tmp_path / "products.csv"
    code, out, _ = run_cli(capsys, "export", "--kind", "products", "--format", "csv", "--output", str(target), "--user", "rep_ana")
    assert code == 0 and "Exported 2 products" in out
    rows = list(csv.reader(target.open(encoding="utf-8-sig")))
    assert rows[0][:3] == ["sku", "name", "name_es"] and rows[2] == ["DR-1", "Taladro", "", "", "", "", "", "unit", "yes", "yes"]
    assert rows[1][:3] == ["'=HYPERLINK(1)", "'-cmd|' /C calc'!A0", "Taladro"]
    workbook = tmp_path / "products.xlsx"
    assert run_cli(capsys, "export", "--kind", "products", "--format", "xlsx", "--output", str(workbook))[0] == 0
    from openpyxl import load_workbook

    sheet = load_workbook(workbook).worksheets[0]
    assert sheet["A2"].value == "'=HYPERLINK(1)" and sheet["A2"].data_type == "s"
    assert ExportRecord.objects.filter(kind="products").count() == 2
    # What is exported imports back unchanged; a formula never comes in, even from our own file.
    job = run_file(users["admin"], tmp_path, target.read_bytes(), name="again.csv", kind="products")
    assert (job.created_count, job.updated_count, job.skipped_count, job.error_count) == (0, 0, 1, 1)
    assert errors_of(job)[0] == (1, "sku", "Looks like a spreadsheet formula: not imported.")


def test_a_products_xlsx_file_imports(users: Any, tmp_path: Path) -> None:
    content = xlsx_bytes([["SKU", "Name", "Category", "Active"], ["HM-1", "Hammer", "Tools", "yes"], ["HM-2", "Mallet", "", "no"]])
    job = run_file(users["admin"], tmp_path, content, name="products.xlsx", kind="products")
    assert job.created_count == 2, errors_of(job)
    assert list(Product.objects.order_by("sku").values_list("sku", "category", "active")) == [
        ("HM-1", "Tools", True), ("HM-2", "", False)]
