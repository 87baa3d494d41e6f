"""Imports of products, orders, invoices and payments through the import pipeline.

The imports app reads the file, keeps the job, its batches, error file and dry runs; the
runners here turn a batch of rows into records, checked by the same services as the web
and the API (``services.check_order``, ``create_invoice``, ``record_payment``,
``create_product``, ``money.parse_amount``…). Customers are found among the cards the
importing user can see, by external id, tax id or card id; any other answers "no such
customer", exactly like a card that does not exist.

Orders are the bulk path (an ERP export has millions of lines): a flat file holds one row per
line, rows with the same order number are the lines of one order. Rows are grouped and
checked without the database (in the import's worker process for a large file), then each
batch's orders, lines and records are inserted with one ``executemany`` per table. Invoices,
payments and products go through their services one row at a time.

Upserts: a row whose key (order or invoice number, payment reference, SKU) exists updates that
record; the lines of an order in a file are the whole order, so an order imported again gets
the file's lines (unchanged when they are the same). Lines of one order that come back later
in the same file, after other orders, are added to it. What a row did is an
``ImportedRecord``, which revert undoes unless the record changed since.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final, NamedTuple

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rapport.accounts.models import User
from rapport.audit.services import record
from rapport.cards.models import Card, CurrentValue
from rapport.cards.values import clean_text, parse_date
from rapport.catalog import selectors as catalog
from rapport.commerce import money, services
from rapport.commerce.models import (
    Allocation,
    CollectionTask,
    ImportedRecord,
    Invoice,
    InvoiceKind,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentKind,
    Product,
)
from rapport.core.errors import PermissionDenied, ValidationError
from rapport.core.text import fold
from rapport.core.visibility import visible_to
from rapport.imports.extensions import ExportKind, ImportKind, KindRevert, Outcome, register_export_kind, register_import_kind
from rapport.imports.mapping import looks_like_formula, normalise_header, parse_loose_date
from rapport.imports.models import ImportJob
from rapport.imports.readers import SourceRow

CUSTOMER_TARGETS = ("customer", "customer_external_id", "customer_tax_id", "customer_id")
CACHE_LIMIT = 200_000  # customers and order numbers remembered per job; past it the cache starts again


def _h(*names: str) -> list[str]:
    return [normalise_header(n) for n in names]


# Header synonyms in the four languages, and the names ERP exports use.
_CUSTOMER = {
    "customer": _h("customer", "client", "account", "cliente", "客户", "客户名称", "购货单位", "client"),
    "customer_external_id": _h("customer external id", "customer id", "customer number", "customer no", "customer code",
                               "account number", "external id", "id cliente", "codigo cliente", "código cliente",
                               "numero de cliente", "número de cliente", "客户编号", "客户代码", "cod client", "id client"),
    "customer_tax_id": _h("customer tax id", "tax id", "vat", "vat number", "nif", "cif", "rfc", "cuit", "cui", "cod fiscal",
                          "税号", "纳税人识别号", "统一社会信用代码"),
    "customer_id": _h("rapport id", "card id", "rapport card id"),
}
_ORDER_NUMBER = _h("order", "order id", "order number", "order no", "sales order", "pedido", "numero de pedido",
                   "número de pedido", "nº pedido", "n pedido", "订单号", "订单编号", "销售订单", "comanda", "comandă",
                   "numar comanda", "număr comandă", "nr comanda", "nr comandă")
_INVOICE_NUMBER = _h("invoice", "invoice number", "invoice no", "factura", "numero de factura", "número de factura",
                     "nº factura", "发票号", "发票号码", "发票编号", "factură", "numar factura", "număr factură", "nr factura")
_AMOUNT = _h("amount", "line amount", "total", "line total", "importe", "importe total", "金额", "总金额", "价税合计",
             "valoare", "suma", "sumă", "total linie")
_CURRENCY = _h("currency", "moneda", "divisa", "币种", "货币", "monedă", "valuta", "valută")
_NOTE = _h("note", "notes", "nota", "observaciones", "备注", "notă", "observatii", "observații")
_KIND = _h("kind", "type", "document type", "tipo", "tipo de documento", "类型", "单据类型", "tip", "tip document")

_SYNONYMS: dict[str, dict[str, list[str]]] = {
    "orders": {
        **_CUSTOMER,
        "order_external_id": _ORDER_NUMBER,
        "ordered_on": _h("order date", "date", "fecha", "fecha pedido", "fecha de pedido", "订单日期", "下单日期", "日期",
                         "data", "data comenzii", "data comanda"),
        "product_sku": _h("sku", "product", "product code", "item code", "article", "codigo producto", "código producto",
                          "referencia", "artículo", "articulo", "产品编码", "产品代码", "物料编码", "商品编码", "cod produs",
                          "produs", "articol"),
        "description": _h("description", "descripción", "descripcion", "concepto", "描述", "品名", "descriere"),
        "quantity": _h("quantity", "qty", "cantidad", "cant", "数量", "cantitate"),
        "unit_price": _h("unit price", "price", "precio", "precio unitario", "单价", "preț unitar", "pret unitar", "pret", "preț"),
        "discount": _h("discount", "discount %", "descuento", "dto", "折扣", "reducere"),
        "amount": _AMOUNT,
        "currency": _CURRENCY,
        "status": _h("status", "estado", "状态", "stare"),
        "delivered_on": _h("delivered on", "delivery date", "fecha de entrega", "交货日期", "发货日期", "data livrarii", "data livrării"),
        "note": _NOTE,
    },
    "invoices": {
        **_CUSTOMER,
        "invoice_number": _INVOICE_NUMBER + _h("number", "numero", "número", "号码", "numar", "număr"),
        "kind": _KIND,
        "issued_on": _h("issued on", "issue date", "invoice date", "date", "fecha", "fecha factura", "fecha de emision",
                        "fecha de emisión", "开票日期", "日期", "data", "data emiterii", "data facturii"),
        "due_on": _h("due on", "due date", "vencimiento", "fecha de vencimiento", "fecha vencimiento", "到期日", "付款期限",
                     "scadenta", "scadență", "data scadentei", "data scadenței"),
        "amount": _AMOUNT,
        "currency": _CURRENCY,
        "order_number": _ORDER_NUMBER,
        "note": _NOTE,
    },
    "payments": {
        **_CUSTOMER,
        "reference": _h("reference", "payment reference", "ref", "payment id", "payment number", "referencia",
                        "referencia de pago", "recibo", "nº recibo", "付款编号", "收款单号", "流水号", "referinta", "referință",
                        "chitanta", "chitanță", "nr chitanta"),
        "kind": _KIND,
        "received_on": _h("received on", "payment date", "date", "fecha", "fecha de pago", "fecha cobro", "收款日期",
                          "付款日期", "日期", "data", "data platii", "data plății", "data incasarii", "data încasării"),
        "amount": _AMOUNT,
        "currency": _CURRENCY,
        "invoice_number": _INVOICE_NUMBER,
        "allocated_amount": _h("allocated", "allocated amount", "applied", "importe aplicado", "核销金额", "suma alocata",
                               "sumă alocată"),
        "method": _h("method", "payment method", "forma de pago", "metodo de pago", "método de pago", "付款方式", "收款方式",
                     "modalitate de plata", "modalitate de plată", "metoda de plata"),
        "note": _NOTE,
    },
    "products": {
        "sku": _h("sku", "product code", "item code", "codigo producto", "código producto", "referencia", "产品编码",
                  "商品编码", "物料编码", "cod produs"),
        "name": _h("name", "product", "product name", "nombre", "producto", "nombre del producto", "产品名称", "品名", "名称",
                   "denumire", "nume", "produs"),
        "names.es": _h("name es", "nombre es", "spanish name", "nombre en español"),
        "names.zh-hans": _h("name zh", "name zh hans", "chinese name", "中文名称"),
        "names.ro": _h("name ro", "romanian name", "denumire ro", "denumire în română"),
        "category": _h("category", "categoría", "categoria", "familia", "类别", "分类", "categorie"),
        "brand": _h("brand", "marca", "品牌"),
        "unit": _h("unit", "uom", "unidad", "单位", "unitate", "um"),
        "is_ours": _h("is ours", "ours", "our product", "own product", "propio", "producto propio", "自有", "自有产品", "propriu"),
        "active": _h("active", "activo", "启用", "activ"),
    },
}


def _labels(kind: str) -> dict[str, str]:
    labels = {
        "customer": _("Customer (external id, tax id or card id)"), "customer_external_id": _("Customer's external id"),
        "customer_tax_id": _("Customer's tax id"), "customer_id": _("Customer's card id"),
        "order_external_id": _("Order number"), "ordered_on": _("Order date"), "product_sku": _("Product SKU"),
        "description": _("Description"), "quantity": _("Quantity"), "unit_price": _("Unit price"), "discount": _("Discount %"),
        "amount": _("Amount"), "currency": _("Currency"), "status": _("Status"), "delivered_on": _("Delivery date"),
        "note": _("Note"), "invoice_number": _("Invoice number"), "kind": _("Kind"), "issued_on": _("Issue date"),
        "due_on": _("Due date"), "order_number": _("Order number"), "reference": _("Payment reference"),
        "received_on": _("Date received"), "allocated_amount": _("Amount allocated to the invoice"),
        "method": _("Payment method"), "sku": _("SKU"), "name": _("Name"), "names.es": _("Name in Spanish"),
        "names.zh-hans": _("Name in Chinese"), "names.ro": _("Name in Romanian"), "category": _("Category"),
        "brand": _("Brand"), "unit": _("Unit"), "is_ours": _("Our product (yes/no)"), "active": _("Active (yes/no)"),
    }
    if kind == "payments":
        labels["invoice_number"] = _("Invoice to allocate to")
    return labels


def _targets(kind: str) -> list[tuple[str, str]]:
    labels = _labels(kind)
    return [("", _("— ignore —"))] + [(target, labels[target]) for target in _SYNONYMS[kind]]


def _suggest(kind: str, headers: list[str]) -> dict[str, str]:
    """A target for each header recognised, the first column winning a target."""
    by_header: dict[str, str] = {}
    for target, names in _SYNONYMS[kind].items():
        by_header.setdefault(normalise_header(target), target)
        for name in names:
            by_header.setdefault(name, target)
    result: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        target = by_header.get(normalise_header(header), "")
        if target in used:
            target = ""
        if target:
            used.add(target)
        result[header] = target
    return result


# --- reading rows ------------------------------------------------------------------------------------


@dataclass
class _Row:
    """One row's values by target, and which column each came from (for the error file)."""

    number: int
    values: dict[str, str]
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (column, reason, value)


_FORMULA_START = frozenset("=@+-")


class _Reader:
    def __init__(self, mapping: dict[str, str]) -> None:
        self.columns = [(column, target) for column, target in mapping.items() if target]
        self.column_of = {target: column for column, target in self.columns}

    def read(self, source: SourceRow) -> _Row:
        row = _Row(source.number, {}, [(p.column, p.reason, p.value) for p in source.problems])
        cells = source.cells
        for column, target in self.columns:
            value = cells.get(column)
            if not value:
                continue
            value = value.strip()
            if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@"):
                value = value[1:]  # our own exports neutralise such cells; a re-import reads them back
            if value[:1] in _FORMULA_START and looks_like_formula(value):
                row.problems.append((column, "Looks like a spreadsheet formula: not imported.", value[:200]))
            elif value:
                row.values[target] = value
        return row

    def column(self, target: str) -> str:
        return self.column_of.get(target, target)


def _iso_date(text: str) -> str:
    """A date as ERP exports write it, in ISO form; text that is no date is passed on for
    ``parse_date`` to name the problem."""
    return parse_loose_date(text) or text if text else ""


def _customer_key(values: dict[str, str]) -> tuple[str, str] | None:
    for target in CUSTOMER_TARGETS:
        if values.get(target):
            return target, values[target][:200]
    return None


def _first_error(exc: ValidationError) -> tuple[str, str]:
    key, messages = next(iter(exc.errors.items()))
    return key, " ".join(str(m) for m in messages)


class _Customers:
    """Cards the user can see, by the key a file names them with; any other is None."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.cache: dict[tuple[str, str], int | None] = {}
        self.tax_item = catalog.items().get("tax_id")

    def resolve(self, keys: Iterable[tuple[str, str]]) -> None:
        missing = {k for k in keys if k not in self.cache}
        if not missing:
            return
        if len(self.cache) + len(missing) > CACHE_LIMIT:
            self.cache.clear()
        found: dict[tuple[str, str], int] = {}
        by_target: dict[str, set[str]] = {}
        for target, value in missing:
            by_target.setdefault(target, set()).add(value)
        general = by_target.pop("customer", set())
        for target, values in by_target.items():
            found.update({(target, v): i for v, i in self._find(target, values).items()})
        # A plain "customer" column: an external id first, then a tax id, then a card id.
        for target in CUSTOMER_TARGETS[1:]:
            if not general:
                break
            hits = self._find(target, general)
            found.update({("customer", v): i for v, i in hits.items()})
            general -= set(hits)
        for key in missing:
            self.cache[key] = found.get(key)

    def _find(self, target: str, values: set[str]) -> dict[str, int]:
        visible = visible_to(self.user)
        result: dict[str, int] = {}
        if target == "customer_external_id":
            # The oldest card wins, as for the card import's external ids.
            for external, card_id in visible.filter(external_id__in=_listed(sorted(values))).order_by("-id").values_list("external_id", "id"):
                result[external] = card_id
        elif target == "customer_tax_id" and self.tax_item is not None:
            folded = {v.casefold(): v for v in values}
            rows = (
                CurrentValue.objects.filter(item_id=self.tax_item.id, value_text__in=_listed(sorted(folded)),
                                            card_id__in=visible.values("id"))
                .order_by("-card_id").values_list("value_text", "card_id")
            )
            for text, card_id in rows:
                if text in folded:
                    result[folded[text]] = card_id
        elif target == "customer_id":
            ids = {int(v): v for v in values if v.isdigit() and len(v) < 18}
            if ids:
                for card_id in visible.filter(pk__in=_listed(sorted(ids), "bigint")).values_list("id", flat=True):
                    result[ids[card_id]] = card_id
        return result

    def get(self, key: tuple[str, str] | None) -> int | None:
        return None if key is None else self.cache.get(key)


def _listed(values: list[Any], sql_type: str = "text") -> Any:
    """A subquery yielding ``values``, with the whole list as one parameter (a batch's
    thousands of keys would otherwise cost one placeholder each)."""
    from django.db.models.expressions import RawSQL

    if connection.vendor == "postgresql":
        return RawSQL(f"SELECT unnest(%s::{sql_type}[])", [values])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(values)])


def _may_write_records(user: User) -> None:
    if not services.may_write(user, Card(owner=user)):
        raise PermissionDenied(_("Your role may read the commercial record but not change it."))


def _may_import_products(user: User) -> None:
    if not services.may_manage_catalog(user):
        raise PermissionDenied(_("Only managers and administrators change products, prices and collection thresholds."))


def _note(job: ImportJob, number: int) -> str:
    return f"{job.provenance}, row {number}"[:500]


def _insert(model: Any, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    from rapport.cards.bulk import insert_rows

    insert_rows(model, columns, rows)


def _reserve_ids(model: Any, count: int) -> list[int]:
    """Ids for the rows a batch inserts, so its lines and records can point at them. On SQLite
    the batch's transaction holds the write lock (BEGIN IMMEDIATE): the next ids are free."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count])
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f'SELECT MAX(id) FROM "{table}"')
        top = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        seq = cursor.fetchone()
    first = max(top, seq[0] if seq else 0) + 1
    return list(range(first, first + count))


_RECORD_COLUMNS = ["job_id", "row", "model", "object_id", "created", "before"]


# --- orders ------------------------------------------------------------------------------------------

_STATUS_WORDS = {
    **{fold(w): OrderStatus.DRAFT for w in ("draft", "borrador", "草稿", "ciorna", "ciornă")},
    **{fold(w): OrderStatus.CONFIRMED for w in ("confirmed", "confirmado", "confirmada", "已确认", "confirmat", "confirmată")},
    **{fold(w): OrderStatus.DELIVERED for w in ("delivered", "entregado", "entregada", "已交付", "已发货", "livrat", "livrată")},
    **{fold(w): OrderStatus.CANCELLED for w in ("cancelled", "canceled", "cancelado", "anulado", "已取消", "anulat", "anulată")},
}


# A checked line, as it crosses from the worker process: a plain tuple with its numbers as text
# (what the insert takes), since pickling a dataclass of Decimals costs twenty times as much.
# (row, SKU, description, quantity, unit price, discount, amount, priced); priced is False when
# the file gives no price and the product's list price is looked up when written.
Line = tuple[int, str, str, str, str, str, str, bool]
ROW: Final = 0
SKU: Final = 1
DESCRIPTION: Final = 2
QUANTITY: Final = 3
UNIT_PRICE: Final = 4
DISCOUNT: Final = 5
AMOUNT: Final = 6
PRICED: Final = 7


class _OrderIn(NamedTuple):
    """One order of the file, checked: its rows, its customer's key, its lines and their total."""

    number: str
    rows: list[int]
    customer: tuple[str, str] | None
    currency: str
    ordered_on: dt.date
    status: str
    delivered_on: dt.date | None
    note: str
    total: str
    lines: list[Line]


@dataclass
class _Group:
    number: str
    rows: list[_Row] = field(default_factory=list)


@dataclass
class _Staged:
    orders: list[_OrderIn]
    errors: list[tuple[int, str, str, str]]  # (row, column, reason, value): the rows that cannot be imported


FUNNEL_NOW = 5000


class OrderRunner:
    """The flat orders file: one row per line, grouped into orders by their number."""

    def __init__(self, job: ImportJob) -> None:
        self.job = job
        self.user = job.user
        self.reader = _Reader(job.mapping)
        self.customers = _Customers(self.user)
        # Read now, before a worker process forks with a copy: SKUs are looked up in memory.
        self.products: dict[str, int] = dict(Product.objects.values_list("sku", "id"))
        self.placeholder = Card()  # check_order keeps the card it is given; the stage has none yet
        self.carry: _Group | None = None
        # Orders this job wrote or found unchanged: number -> (order id, card id, currency, lines so
        # far, whether an ImportedRecord holds what to revert).
        self.written: dict[str, tuple[int, int, str, int, bool]] = {}
        self.customers_ordering: set[int] = set()  # for the funnel, once the file is in

    # --- stage: no database ------------------------------------------------------------------------

    def stage(self, rows: list[SourceRow]) -> _Staged:
        staged = _Staged([], [])
        groups: dict[str, _Group] = {}
        if self.carry is not None:
            groups[self.carry.number] = self.carry
            self.carry = None
        last = ""
        for source in rows:
            row = self.reader.read(source)
            if row.problems:
                staged.errors.extend((row.number, c, r, v) for c, r, v in row.problems)
                continue
            number = row.values.get("order_external_id", "")
            if not number:
                staged.errors.append((row.number, self.reader.column("order_external_id"),
                                      _("The order number is required: the rows of one order share it."), ""))
                continue
            groups.setdefault(number, _Group(number)).rows.append(row)
            last = number
        # The last order may go on in the next batch: it waits for it (or for the end).
        if last:
            self.carry = groups.pop(last)
        for group in groups.values():
            self._check(group, staged)
        return staged

    def end(self) -> _Staged:
        staged = _Staged([], [])
        if self.carry is not None:
            self._check(self.carry, staged)
            self.carry = None
        return staged

    def _check(self, group: _Group, staged: _Staged) -> None:
        first = group.rows[0].values
        rows = group.rows
        for row in rows[1:]:
            for target in ("currency", "ordered_on"):
                if row.values.get(target, "").upper() != first.get(target, "").upper():
                    what = _("currency") if target == "currency" else _("order date")
                    self._fail(staged, rows, row.number, target, row.values.get(target, ""),
                               _("The lines of order %(number)s differ in %(what)s (row %(row)s has %(value)s).")
                               % {"number": group.number, "what": what, "row": rows[0].number, "value": first.get(target, "")})
                    return
            if _customer_key(row.values) != _customer_key(first):
                self._fail(staged, rows, row.number, self._customer_target(), str((_customer_key(row.values) or ("", ""))[1]),
                           _("Order %(number)s is for another customer in row %(row)s.") % {"number": group.number, "row": rows[0].number})
                return
        customer = _customer_key(first)
        if customer is None:
            self._fail(staged, rows, rows[0].number, self._customer_target(), "", _("A customer is required."))
            return
        lines_in = []
        for row in rows:
            values = row.values
            line: dict[str, Any] = {"quantity": values.get("quantity", "1"), "description": values.get("description", ""),
                                    "discount": values.get("discount", "")}
            if values.get("unit_price"):
                line["unit_price"] = values["unit_price"]
            elif values.get("amount"):
                line["amount"] = values["amount"]
            elif values.get("product_sku"):
                line["unit_price"] = "0"  # the price list's price, looked up when written (``_price``)
            lines_in.append(line)
        status = first.get("status", "")
        data = {
            "currency": first.get("currency", ""), "ordered_on": _iso_date(first.get("ordered_on", "")),
            "external_id": group.number, "status": _STATUS_WORDS.get(fold(status), status) if status else "",
            "delivered_on": _iso_date(first.get("delivered_on", "")), "note": first.get("note", ""), "lines": lines_in,
        }
        if not data["ordered_on"]:
            self._fail(staged, rows, rows[0].number, "ordered_on", "", _("The order date is required."))
            return
        try:
            checked = services.check_order(user=self.user, card=self.placeholder, data=data)
        except ValidationError as exc:
            key, reason = _first_error(exc)
            index, target = _line_key(key)
            row = rows[index] if index is not None and index < len(rows) else rows[0]
            self._fail(staged, rows, row.number, target, row.values.get(target, ""), reason)
            return
        lines: list[Line] = []
        total = Decimal(0)
        for row, raw, checked_line in zip(rows, lines_in, checked.lines):
            amount = checked_line.amount
            if "amount" in raw:
                # The ERP's line total is kept as it is; the unit price derived from it has four
                # decimals and quantity × unit price may miss the total by a fraction of a cent.
                amount = money.round_money(Decimal(raw["amount"].strip()), checked.currency)
            priced = bool(row.values.get("unit_price") or row.values.get("amount")) or not row.values.get("product_sku")
            total += amount
            lines.append((row.number, row.values.get("product_sku", "")[:64], checked_line.description,
                          str(checked_line.quantity), str(checked_line.unit_price), str(checked_line.discount), str(amount),
                          priced))
        staged.orders.append(_OrderIn(
            number=group.number, rows=[r.number for r in rows], customer=customer, currency=checked.currency,
            ordered_on=checked.ordered_on, status=checked.status, delivered_on=checked.delivered_on, note=checked.note,
            total=str(total), lines=lines,
        ))

    def _customer_target(self) -> str:
        return next((t for t in CUSTOMER_TARGETS if t in self.reader.column_of), "customer")

    def _fail(self, staged: _Staged, rows: list[_Row], bad: int, target: str, value: str, reason: str) -> None:
        staged.errors.append((bad, self.reader.column(target) if target else "", reason, value[:200]))
        for row in rows:
            if row.number != bad:
                staged.errors.append((row.number, "", _("Not imported with its order: row %(row)s cannot be imported.")
                                      % {"row": bad}, ""))

    # --- write: the importing process, inside the batch's transaction --------------------------------

    def write(self, staged: _Staged, outcome: Outcome) -> None:
        for row, column, reason, value in staged.errors:
            outcome.error(row, column, reason, value)
        orders = staged.orders
        if not orders:
            return
        self.customers.resolve(o.customer for o in orders if o.customer is not None)
        self._products_for(orders)
        numbers = [o.number for o in orders if o.number not in self.written]
        existing = {o.external_id: o for o in Order.objects.filter(external_id__in=_listed(numbers))} if numbers else {}
        new: list[tuple[_OrderIn, int, list[int | None]]] = []
        for order in orders:
            card_id = self.customers.get(order.customer)
            if card_id is None:
                self._reject(outcome, order, order.rows[0], self._customer_target(), order.customer[1] if order.customer else "",
                             _("No such customer."))
                continue
            resolved = self._line_products(order, outcome)
            if resolved is None:
                continue
            product_ids, order = resolved
            if order.number in self.written:
                self._append(order, card_id, product_ids, outcome)
            elif order.number in existing:
                self._update(order, existing[order.number], card_id, product_ids, outcome)
            else:
                new.append((order, card_id, product_ids))
        if new:
            self._create(new, outcome)
        if len(self.written) > CACHE_LIMIT:
            self.written.clear()  # an order that comes back after this many is found as existing

    def finish(self) -> str:
        """The funnel follows the imported orders (first order → customer, and so on) right
        away for an import of up to FUNNEL_NOW customers; a larger one leaves the moves to the
        nightly ``rapport funnel auto``, which reads the same orders, so the import stays fast."""
        cards = sorted(self.customers_ordering)
        if not cards:
            return ""
        if len(cards) > FUNNEL_NOW:
            return str(_("The funnel stages of these %(n)s customers follow at the next nightly run.") % {"n": len(cards)})
        from rapport.funnel.services import apply_order_evidence

        apply_order_evidence(card_ids=cards)
        return ""

    def _products_for(self, orders: list[_OrderIn]) -> None:
        """SKUs not known when the run started (products created meanwhile): one query per batch."""
        unknown = {ln[SKU] for o in orders for ln in o.lines if ln[SKU] and ln[SKU] not in self.products}
        if unknown:
            self.products.update(Product.objects.filter(sku__in=_listed(sorted(unknown))).values_list("sku", "id"))

    def _line_products(self, order: _OrderIn, outcome: Outcome) -> tuple[list[int | None], _OrderIn] | None:
        """The product of each line (None without a SKU), and the order with the lines that had no
        price priced; None when a SKU is no product or a product has no price."""
        ids: list[int | None] = []
        lines: list[Line] = []
        for line in order.lines:
            sku = line[SKU]
            product_id = self.products.get(sku) if sku else None
            if sku and product_id is None:
                try:
                    product_id = services.find_product(sku, "product_sku").pk  # names the problem
                except ValidationError as exc:
                    self._reject(outcome, order, line[ROW], "product_sku", sku, _first_error(exc)[1])
                    return None
            if not line[PRICED]:
                priced = self._price(order, line, product_id, outcome)
                if priced is None:
                    return None
                line = priced
            ids.append(product_id)
            lines.append(line)
        if lines != order.lines:
            order = order._replace(lines=lines, total=str(sum((Decimal(ln[AMOUNT]) for ln in lines), Decimal(0))))
        return ids, order

    def _price(self, order: _OrderIn, line: Line, product_id: int | None, outcome: Outcome) -> Line | None:
        """A line with a product and no price or amount takes the product's price on the order date."""
        price = services.price_for(Product(pk=product_id), order.currency, order.ordered_on) if product_id else None
        if price is None:
            self._reject(outcome, order, line[ROW], "unit_price", "",
                         _("%(sku)s has no price in %(currency)s valid on %(date)s; give the unit price.")
                         % {"sku": line[SKU], "currency": order.currency, "date": order.ordered_on.isoformat()})
            return None
        quantity, discount = Decimal(line[QUANTITY]), Decimal(line[DISCOUNT])
        amount = money.round_money(quantity * price.list_price * (1 - discount / 100), order.currency)
        return (line[ROW], line[SKU], line[DESCRIPTION], line[QUANTITY], str(price.list_price), line[DISCOUNT], str(amount), True)

    def _reject(self, outcome: Outcome, order: _OrderIn, bad: int, target: str, value: str, reason: str) -> None:
        outcome.error(bad, self.reader.column(target), reason, value[:200])
        for number in order.rows:
            if number != bad:
                outcome.error(number, "", _("Not imported with its order: row %(row)s cannot be imported.") % {"row": bad})

    def _line_rows(self, order_id: int, lines: list[Line], product_ids: list[int | None], start: int) -> list[tuple[Any, ...]]:
        return [(order_id, start + i, product_id, line[DESCRIPTION], line[QUANTITY], line[UNIT_PRICE], line[DISCOUNT], line[AMOUNT])
                for i, (line, product_id) in enumerate(zip(lines, product_ids))]

    _LINE_COLUMNS = ["order_id", "position", "product_id", "description", "quantity", "unit_price", "discount", "amount"]
    _ORDER_COLUMNS = [
        "id", "card_id", "external_id", "status", "currency", "ordered_on", "delivered_on", "accepted_on", "total", "note",
        "approval", "approval_reason", "approved_by_id", "approved_at", "approval_note", "created_by_id", "created_at",
        "updated_at", "import_job_id", "version",
    ]

    def _create(self, new: list[tuple[_OrderIn, int, list[int | None]]], outcome: Outcome) -> None:
        """New orders: imported as the ERP holds them, so without a credit check (the order was
        taken already); one insert per table for the whole batch."""
        ids = _reserve_ids(Order, len(new))
        ops = connection.ops  # looked up once: each lookup goes through the connection handler's thread-local
        now, day = ops.adapt_datetimefield_value(timezone.now()), ops.adapt_datefield_value
        job_id, user_id = self.job.pk, self.user.pk
        orders, lines, records = [], [], []
        for order_id, (order, card_id, product_ids) in zip(ids, new):
            orders.append((order_id, card_id, order.number, order.status, order.currency, day(order.ordered_on),
                           day(order.delivered_on), None, order.total, order.note, "", "", None, None, "", user_id, now, now,
                           job_id, 1))
            lines.extend(self._line_rows(order_id, order.lines, product_ids, 0))
            records.append((job_id, order.rows[0], "order", order_id, True, None))
            self.customers_ordering.add(card_id)
            self.written[order.number] = (order_id, card_id, order.currency, len(order.lines), True)
            outcome.created(order.rows, order.number)
        _insert(Order, self._ORDER_COLUMNS, orders)
        _insert(OrderLine, self._LINE_COLUMNS, lines)
        _insert(ImportedRecord, _RECORD_COLUMNS, records)
        record(action="import", record_type="commerce.order", actor=self.user,
               detail={"job": job_id, "created": len(orders), "lines": len(lines)})

    def _append(self, order: _OrderIn, card_id: int, product_ids: list[int | None], outcome: Outcome) -> None:
        """Lines of an order this job wrote already, further down the file: added to it."""
        order_id, written_card, currency, count, recorded = self.written[order.number]
        if written_card != card_id:
            self._reject(outcome, order, order.rows[0], self._customer_target(), order.customer[1] if order.customer else "",
                         _("Order %(number)s is for another customer earlier in the file.") % {"number": order.number})
            return
        if currency != order.currency:
            self._reject(outcome, order, order.rows[0], "currency", order.currency,
                         _("The order is in %(c)s.") % {"c": currency})
            return
        if not recorded:
            # Found unchanged earlier in the file: what it was is kept now, for revert.
            locked = Order.objects.select_for_update().get(pk=order_id)
            ImportedRecord.objects.create(job=self.job, row=order.rows[0], model="order", object_id=order_id, created=False,
                                          before=_order_state(locked))
            Order.objects.filter(pk=order_id).update(version=F("version") + 1, updated_at=timezone.now())
        _insert(OrderLine, self._LINE_COLUMNS, self._line_rows(order_id, order.lines, product_ids, count))
        Order.objects.filter(pk=order_id).update(total=F("total") + Decimal(order.total))
        self.customers_ordering.add(card_id)
        self.written[order.number] = (order_id, card_id, currency, count + len(order.lines), True)
        outcome.updated(order.rows, order.number)

    def _update(self, order: _OrderIn, existing: Order, card_id: int, product_ids: list[int | None], outcome: Outcome) -> None:
        """An order imported before: it gets the file's lines and dates, unless nothing differs."""
        if existing.card_id != card_id:
            self._reject(outcome, order, order.rows[0], "order_external_id", order.number,
                         _("An order with this number exists for another customer."))
            return
        if existing.currency != order.currency:
            self._reject(outcome, order, order.rows[0], "currency", order.currency,
                         _("Order %(number)s is in %(c)s; a currency cannot change when it is imported again.")
                         % {"number": order.number, "c": existing.currency})
            return
        locked = Order.objects.select_for_update().get(pk=existing.pk)
        current = [(ln.product_id, ln.description, ln.quantity, ln.unit_price, ln.discount, ln.amount)
                   for ln in locked.lines.order_by("position", "id")]
        wanted = [(pid, ln[DESCRIPTION], Decimal(ln[QUANTITY]), Decimal(ln[UNIT_PRICE]), Decimal(ln[DISCOUNT]), Decimal(ln[AMOUNT]))
                  for ln, pid in zip(order.lines, product_ids)]
        fields = {"ordered_on": order.ordered_on, "status": order.status, "delivered_on": order.delivered_on, "note": order.note}
        if current == wanted and all(getattr(locked, k) == v for k, v in fields.items()):
            self.customers_ordering.add(card_id)
            self.written[order.number] = (locked.pk, card_id, order.currency, len(order.lines), False)
            outcome.unchanged(order.rows, order.number)
            return
        self.customers_ordering.add(card_id)
        self.written[order.number] = (locked.pk, card_id, order.currency, len(order.lines), True)
        before = _order_state(locked)
        locked.lines.all().delete()
        _insert(OrderLine, self._LINE_COLUMNS, self._line_rows(locked.pk, order.lines, product_ids, 0))
        for key, value in fields.items():
            setattr(locked, key, value)
        locked.total = Decimal(order.total)
        locked.updated_at = timezone.now()
        locked.version += 1
        locked.save()
        ImportedRecord.objects.create(job=self.job, row=order.rows[0], model="order", object_id=locked.pk, created=False,
                                      before=before)
        record(action="update", record=locked, actor=self.user, detail={"job": self.job.pk, "lines": len(order.lines)})
        outcome.updated(order.rows, order.number)


def _order_state(order: Order) -> dict[str, Any]:
    """An order's fields and lines before an import changes it, and the version it will have after."""
    return {
        "ordered_on": order.ordered_on.isoformat(), "status": order.status, "note": order.note,
        "delivered_on": order.delivered_on.isoformat() if order.delivered_on else None, "total": str(order.total),
        "lines": [[ln.product_id, ln.description, str(ln.quantity), str(ln.unit_price), str(ln.discount), str(ln.amount)]
                  for ln in order.lines.order_by("position", "id")],
        "version": order.version, "version_after": order.version + 1,
    }


def _line_key(key: str) -> tuple[int | None, str]:
    """The line and the target behind an error key of ``check_order`` (``lines[2].quantity``)."""
    targets = {"external_id": "order_external_id", "lines": "", "product": "product_sku"}
    if key.startswith("lines["):
        index, _sep, rest = key[6:].partition("]")
        name = rest.lstrip(".")
        return (int(index) if index.isdigit() else None), targets.get(name, name)
    return None, targets.get(key, key)


# --- invoices, payments and products: one row, one record ---------------------------------------------

_INVOICE_KINDS = {
    **{fold(w): InvoiceKind.INVOICE for w in ("invoice", "factura", "factură", "发票", "增值税发票", "fra")},
    **{fold(w): InvoiceKind.CREDIT_NOTE for w in ("credit note", "credit_note", "creditnote", "nota de credito", "nota de crédito",
                                                  "abono", "factura rectificativa", "红字发票", "贷项通知单", "nota de credit",
                                                  "notă de credit", "factura storno", "storno")},
}
_PAYMENT_KINDS = {
    **{fold(w): PaymentKind.PAYMENT for w in ("payment", "pago", "cobro", "付款", "收款", "plata", "plată", "incasare", "încasare")},
    **{fold(w): PaymentKind.ADVANCE for w in ("advance", "anticipo", "预付款", "预收款", "avans")},
    **{fold(w): PaymentKind.DEPOSIT for w in ("deposit", "deposito", "depósito", "fianza", "押金", "保证金", "garantie",
                                              "garanție", "depozit")},
}


def _word(words: Mapping[str, str], value: str) -> str:
    return words.get(fold(value), value) if value else ""


@dataclass
class _RecordIn:
    """One row checked without the database: its key, its customer and the values for the service."""

    row: int
    key: str
    customer: tuple[str, str] | None
    data: dict[str, Any]
    link: str = ""  # invoices: the order number; payments: the invoice to allocate to


@dataclass
class _Rows:
    records: list[_RecordIn]
    errors: list[tuple[int, str, str, str]]


class _RowRunner:
    """What the invoice, payment and product runners share: rows checked in ``stage``, each row
    written in ``write`` in a savepoint of its own, so a refused row leaves nothing behind."""

    kind = ""
    key_target = ""
    # Service error keys -> the target whose column the error file names.
    error_targets: dict[str, str] = {}
    fallbacks: dict[str, str] = {}

    def __init__(self, job: ImportJob) -> None:
        self.job = job
        self.user = job.user
        self.reader = _Reader(job.mapping)
        self.customers = _Customers(self.user)
        self.seen: dict[str, int] = {}  # key -> the row that had it first

    def stage(self, rows: list[SourceRow]) -> _Rows:
        staged = _Rows([], [])
        for source in rows:
            row = self.reader.read(source)
            if row.problems:
                staged.errors.extend((row.number, c, r, v) for c, r, v in row.problems)
                continue
            try:
                checked = self.check(row)
            except ValidationError as exc:
                key, reason = _first_error(exc)
                target = self.target_of(key)
                staged.errors.append((row.number, self.reader.column(target), reason, row.values.get(target, "")[:200]))
                continue
            first = self.seen.setdefault(checked.key, row.number)
            if first != row.number:
                staged.errors.append((row.number, self.reader.column(self.key_target),
                                      _("%(key)s appears twice in the file (row %(row)s first).") % {"key": checked.key, "row": first},
                                      checked.key[:200]))
                continue
            staged.records.append(checked)
        return staged

    def end(self) -> _Rows:
        return _Rows([], [])

    def target_of(self, key: str) -> str:
        """The target whose column an error of the services names; a target the file does not
        have falls back to the one the kind names instead (``fallbacks``)."""
        target = self.error_targets.get(key, key)
        if target not in self.reader.column_of:
            target = self.fallbacks.get(target, target)
        return target

    def check(self, row: _Row) -> _RecordIn:
        raise NotImplementedError

    def prepare(self, records: list[_RecordIn]) -> None:
        """Batch look-ups before the rows are written."""

    def write_one(self, item: _RecordIn, outcome: Outcome) -> None:
        raise NotImplementedError

    def write(self, staged: _Rows, outcome: Outcome) -> None:
        for row, column, reason, value in staged.errors:
            outcome.error(row, column, reason, value)
        if not staged.records:
            return
        self.customers.resolve(r.customer for r in staged.records if r.customer is not None)
        self.prepare(staged.records)
        for item in staged.records:
            try:
                with transaction.atomic():
                    self.write_one(item, outcome)
            except ValidationError as exc:
                key, reason = _first_error(exc)
                target = self.target_of(key)
                value = item.data.get(key, item.key if target == self.key_target else "")
                outcome.error(item.row, self.reader.column(target), reason, str(value if value is not None else "")[:200])

    def customer_target(self) -> str:
        return next((t for t in CUSTOMER_TARGETS if t in self.reader.column_of), "customer")

    def card(self, item: _RecordIn) -> Card:
        card_id = self.customers.get(item.customer)
        if card_id is None:
            raise ValidationError.single(self.customer_target(), _("No such customer."))
        return Card.objects.get(pk=card_id)

    def created(self, item: _RecordIn, model: str, obj: Any, outcome: Outcome) -> None:
        ImportedRecord.objects.create(job=self.job, row=item.row, model=model, object_id=obj.pk, created=True)
        outcome.created([item.row], item.key)

    def updated(self, item: _RecordIn, model: str, obj: Any, before: dict[str, Any], outcome: Outcome) -> None:
        obj.refresh_from_db(fields=["version"])
        before["version_after"] = obj.version
        ImportedRecord.objects.create(job=self.job, row=item.row, model=model, object_id=obj.pk, created=False, before=before)
        record(action="update", record=obj, actor=self.user, detail={"job": self.job.pk, "row": item.row})
        outcome.updated([item.row], item.key)


def _required(values: dict[str, str], target: str, message: str) -> str:
    if not values.get(target):
        raise ValidationError.single(target, message)
    return values[target]


def _dated(values: dict[str, str], target: str) -> dt.date:
    return parse_date(target, _iso_date(values.get(target, "")))


class InvoiceRunner(_RowRunner):
    kind = "invoices"
    key_target = "invoice_number"
    error_targets = {"external_id": "invoice_number", "order": "order_number"}

    def check(self, row: _Row) -> _RecordIn:
        values = row.values
        number = clean_text("invoice_number", _required(values, "invoice_number", _("The invoice number is required.")),
                                     max_length=100)
        kind = services._invoice_kind(_word(_INVOICE_KINDS, values.get("kind", "")))
        currency = money.parse_currency(values.get("currency"))
        amount = money.parse_amount(values.get("amount"), currency)
        _required(values, "issued_on", _("The issue date is required."))
        issued_on = _dated(values, "issued_on")
        due_on = _dated(values, "due_on") if values.get("due_on") else issued_on
        if due_on < issued_on:
            raise ValidationError.single("due_on", _("Due before it was issued."))
        data = {"kind": kind, "external_id": number, "currency": currency, "amount": amount, "issued_on": issued_on,
                "due_on": due_on, "note": clean_text("note", values.get("note", ""), max_length=500)}
        # Credit notes and invoices are numbered apart: the key holds both.
        key = number if kind == InvoiceKind.INVOICE else f"{number} ({InvoiceKind(kind).label})"
        return _RecordIn(row.number, key, _customer_key(values), data, values.get("order_number", "")[:100])

    def prepare(self, records: list[_RecordIn]) -> None:
        numbers = sorted({r.data["external_id"] for r in records})
        self.existing = {(i.kind, i.external_id): i for i in Invoice.objects.filter(external_id__in=_listed(numbers))}
        links = sorted({r.link for r in records if r.link})
        self.orders = {o.external_id: o for o in Order.objects.filter(external_id__in=_listed(links))} if links else {}

    def write_one(self, item: _RecordIn, outcome: Outcome) -> None:
        card = self.card(item)
        data = item.data
        order = None
        if item.link:
            order = self.orders.get(item.link)
            if order is None or order.card_id != card.pk:
                raise ValidationError.single("order", _("No order %(number)s for this customer.") % {"number": item.link})
        existing = self.existing.get((data["kind"], data["external_id"]))
        if existing is None:
            invoice = services.create_invoice(user=self.user, card=card, data=data, order=order)
            Invoice.objects.filter(pk=invoice.pk).update(import_job=self.job)
            self.created(item, "invoice", invoice, outcome)
            return
        if existing.card_id != card.pk:
            raise ValidationError.single("external_id", _("An invoice with this number exists for another customer."))
        locked = Invoice.objects.select_for_update().get(pk=existing.pk)
        if locked.currency != data["currency"]:
            raise ValidationError.single("currency", _("Invoice %(number)s is in %(c)s; a currency cannot change when it is imported again.")
                                         % {"number": item.key, "c": locked.currency})
        fields = {"issued_on": data["issued_on"], "due_on": data["due_on"], "amount": data["amount"]}
        if order is not None:
            fields["order_id"] = order.pk
            if order.currency != locked.currency:
                raise ValidationError.single("currency", _("The invoice's currency differs from its order's (%(c)s).") % {"c": order.currency})
        if data["note"]:
            fields["note"] = data["note"]
        changed = {k: v for k, v in fields.items() if getattr(locked, k) != v}
        if not changed:
            outcome.unchanged([item.row], item.key)
            return
        if locked.cancelled:
            raise ValidationError.single("external_id", _("The invoice was cancelled."))
        settled = locked.amount - locked.open_amount
        if data["amount"] < settled:
            raise ValidationError.single("amount", _("%(settled)s of %(number)s is paid or credited already; its amount cannot go below that.")
                                         % {"settled": money.format_money(settled, locked.currency), "number": item.key})
        before = _invoice_state(locked)
        for key, value in changed.items():
            setattr(locked, key, value)
        locked.open_amount = locked.amount - settled
        locked.is_open = locked.open_amount > 0
        locked.version += 1
        locked.save()
        self.updated(item, "invoice", locked, before, outcome)


def _invoice_state(invoice: Invoice) -> dict[str, Any]:
    return {"issued_on": invoice.issued_on.isoformat(), "due_on": invoice.due_on.isoformat(), "amount": str(invoice.amount),
            "open_amount": str(invoice.open_amount), "is_open": invoice.is_open, "order_id": invoice.order_id,
            "note": invoice.note, "version": invoice.version}


class PaymentRunner(_RowRunner):
    kind = "payments"
    key_target = "reference"
    error_targets = {"external_id": "reference", "allocations": "allocated_amount", "allocations[0].amount": "allocated_amount",
                     "allocations[0].invoice": "invoice_number", "invoice": "invoice_number"}
    fallbacks = {"allocated_amount": "invoice_number"}  # an allocation refused for the invoice's open amount

    def check(self, row: _Row) -> _RecordIn:
        values = row.values
        reference = clean_text("reference", _required(values, "reference", _("The payment reference is required.")),
                                        max_length=100)
        kind = services._payment_kind(_word(_PAYMENT_KINDS, values.get("kind", "")))
        currency = money.parse_currency(values.get("currency"))
        amount = money.parse_amount(values.get("amount"), currency)
        _required(values, "received_on", _("The date received is required."))
        data: dict[str, Any] = {
            "kind": kind, "external_id": reference, "currency": currency, "amount": amount,
            "received_on": _dated(values, "received_on"),
            "method": clean_text("method", values.get("method", ""), max_length=40),
            "note": clean_text("note", values.get("note", ""), max_length=500),
        }
        invoice = values.get("invoice_number", "")[:100]
        if values.get("allocated_amount"):
            if not invoice:
                raise ValidationError.single("allocated_amount", _("An allocated amount needs the invoice it goes to."))
            data["allocated"] = money.parse_amount(values["allocated_amount"], currency, "allocated_amount")
        elif invoice:
            data["allocated"] = amount
        if data.get("allocated", Decimal(0)) > amount:
            raise ValidationError.single("allocations", _("The allocations add up to more than the payment."))
        return _RecordIn(row.number, reference, _customer_key(values), data, invoice)

    def prepare(self, records: list[_RecordIn]) -> None:
        references = sorted({r.key for r in records})
        self.existing = {p.external_id: p for p in Payment.objects.filter(external_id__in=_listed(references))}
        links = sorted({r.link for r in records if r.link})
        self.invoices = ({i.external_id: i for i in Invoice.objects.filter(kind=InvoiceKind.INVOICE, external_id__in=_listed(links))}
                         if links else {})

    def write_one(self, item: _RecordIn, outcome: Outcome) -> None:
        card = self.card(item)
        data = item.data
        invoice = None
        if item.link:
            invoice = self.invoices.get(item.link)
            if invoice is None or invoice.card_id != card.pk:
                raise ValidationError.single("invoice", _("No invoice %(number)s for this customer.") % {"number": item.link})
        existing = self.existing.get(item.key)
        if existing is None:
            payment_data = {k: v for k, v in data.items() if k != "allocated"}
            if invoice is not None:
                payment_data["allocations"] = [{"invoice": invoice.pk, "amount": data["allocated"]}]
            payment = services.record_payment(user=self.user, card=card, data=payment_data)
            Payment.objects.filter(pk=payment.pk).update(import_job=self.job)
            if invoice is not None:
                invoice.refresh_from_db()  # its open amount, for a later row of the batch
            self.created(item, "payment", payment, outcome)
            return
        if existing.card_id != card.pk:
            raise ValidationError.single("external_id", _("A payment with this reference exists for another customer."))
        locked = Payment.objects.select_for_update().get(pk=existing.pk)
        if locked.currency != data["currency"]:
            raise ValidationError.single("currency", _("Payment %(ref)s is in %(c)s; a currency cannot change when it is imported again.")
                                         % {"ref": item.key, "c": locked.currency})
        fields = {k: data[k] for k in ("kind", "received_on", "amount", "method", "note") if data[k] not in ("", None)}
        changed = {k: v for k, v in fields.items() if getattr(locked, k) != v}
        allocate = invoice is not None and not locked.allocations.filter(invoice=invoice).exists()
        if not changed and not allocate:
            outcome.unchanged([item.row], item.key)
            return
        before = {"kind": locked.kind, "received_on": locked.received_on.isoformat(), "amount": str(locked.amount),
                  "unallocated": str(locked.unallocated), "method": locked.method, "note": locked.note,
                  "version": locked.version, "allocations": list(locked.allocations.values_list("id", flat=True))}
        if changed:
            allocated = locked.amount - locked.unallocated
            if data["amount"] < allocated:
                raise ValidationError.single("amount", _("%(allocated)s of payment %(ref)s is allocated already; its amount cannot go below that.")
                                             % {"allocated": money.format_money(allocated, locked.currency), "ref": item.key})
            for key, value in changed.items():
                setattr(locked, key, value)
            locked.unallocated = locked.amount - allocated
            locked.version += 1
            locked.save()
        if allocate:
            assert invoice is not None
            services.allocate_payment(user=self.user, payment=locked, invoice=invoice, amount=data["allocated"])
        self.updated(item, "payment", locked, before, outcome)


_PRODUCT_FIELDS = ("sku", "name", "category", "brand", "unit", "is_ours", "active")


class ProductRunner(_RowRunner):
    kind = "products"
    key_target = "sku"

    def check(self, row: _Row) -> _RecordIn:
        values = row.values
        sku = clean_text("sku", _required(values, "sku", _("The SKU is required.")), max_length=64)
        data: dict[str, Any] = {k: values[k] for k in _PRODUCT_FIELDS if k in values}
        data["sku"] = sku
        names = {k[6:]: values[k] for k in values if k.startswith("names.")}
        if names:
            data["names"] = names
        return _RecordIn(row.number, sku, None, data)

    def prepare(self, records: list[_RecordIn]) -> None:
        self.existing = {p.sku: p for p in Product.objects.filter(sku__in=_listed(sorted(r.key for r in records)))}

    def write_one(self, item: _RecordIn, outcome: Outcome) -> None:
        existing = self.existing.get(item.key)
        if existing is None:
            product = services.create_product(user=self.user, data=item.data)
            self.existing[item.key] = product
            self.created(item, "product", product, outcome)
            return
        data = dict(item.data)
        if "names" in data:
            data["names"] = {**existing.names, **data["names"]}
        before = {**{k: getattr(existing, k) for k in _PRODUCT_FIELDS}, "names": existing.names, "version": existing.version}
        product = services.update_product(user=self.user, product=existing, data=data)
        self.existing[item.key] = product
        if product.version == before["version"]:
            outcome.unchanged([item.row], item.key)
            return
        self.updated(item, "product", product, before, outcome)


# --- revert ------------------------------------------------------------------------------------------


def revert(job: ImportJob, user: User) -> KindRevert:
    """Undoes what the job's rows did: records it created are deleted, records it updated get
    their earlier fields (and an order its earlier lines) back. A record changed since (its
    version moved: an edit, an approval, a payment allocated to an invoice, a price set on a
    product) is left as it is, and so is one that other records now depend on (an order with
    invoices, an invoice with payments, a product on other orders)."""
    report = KindRevert()
    kept: dict[str, int] = {}
    for model in ("payment", "invoice", "order", "product"):
        entries = list(ImportedRecord.objects.filter(job=job, model=model).order_by("-id"))
        if not entries:
            continue
        undo = {"payment": _revert_payment, "invoice": _revert_invoice, "order": _revert_order, "product": _revert_product}[model]
        for entry in entries:
            outcome = undo(entry)
            if outcome == "kept":
                kept[model] = kept.get(model, 0) + 1
            elif outcome == "deleted":
                report.deleted += 1
            elif outcome == "restored":
                report.restored += 1
    report.kept = sum(kept.values())
    if kept:
        what = ", ".join(f"{n} {model}{'s' if n > 1 else ''}" for model, n in kept.items())
        report.message = (f"Kept because they changed since the import or other records depend on them: {what}.")
    record(action="delete", record_type="imports.importjob", record_id=job.pk, actor=user,
           detail={"reverted": job.kind, "deleted": report.deleted, "restored": report.restored, "kept": report.kept})
    return report


def _after(entry: ImportedRecord) -> int:
    return 1 if entry.created else int((entry.before or {}).get("version_after", -1))


def _revert_payment(entry: ImportedRecord) -> str:
    payment = Payment.objects.select_for_update().filter(pk=entry.object_id).first()
    if payment is None:
        return "gone"
    if payment.version != _after(entry):
        return "kept"
    before = entry.before or {}
    keep = set(before.get("allocations", []))
    for allocation in payment.allocations.exclude(pk__in=keep).select_related("invoice"):
        invoice = Invoice.objects.select_for_update().get(pk=allocation.invoice_id)
        invoice.open_amount += allocation.amount
        invoice.is_open = not invoice.cancelled and invoice.open_amount > 0
        invoice.version += 1
        invoice.save(update_fields=["open_amount", "is_open", "version"])
        allocation.delete()
    if entry.created:
        payment.delete()
        return "deleted"
    payment.kind, payment.method, payment.note = before["kind"], before["method"], before["note"]
    payment.received_on = dt.date.fromisoformat(before["received_on"])
    payment.amount, payment.unallocated = Decimal(before["amount"]), Decimal(before["unallocated"])
    payment.version += 1
    payment.save()
    return "restored"


def _revert_invoice(entry: ImportedRecord) -> str:
    invoice = Invoice.objects.select_for_update().filter(pk=entry.object_id).first()
    if invoice is None:
        return "gone"
    depends = (Allocation.objects.filter(Q(invoice=invoice) | Q(credit_note=invoice)).exists()
               or CollectionTask.objects.filter(invoice=invoice).exists() or invoice.payment_plans.exists())
    if invoice.version != _after(entry) or (entry.created and depends):
        return "kept"
    if entry.created:
        invoice.delete()
        return "deleted"
    before = entry.before or {}
    invoice.issued_on, invoice.due_on = dt.date.fromisoformat(before["issued_on"]), dt.date.fromisoformat(before["due_on"])
    invoice.amount, invoice.open_amount = Decimal(before["amount"]), Decimal(before["open_amount"])
    invoice.is_open, invoice.order_id, invoice.note = before["is_open"], before["order_id"], before["note"]
    invoice.version += 1
    invoice.save()
    return "restored"


def _revert_order(entry: ImportedRecord) -> str:
    order = Order.objects.select_for_update().filter(pk=entry.object_id).first()
    if order is None:
        return "gone"
    if order.version != _after(entry) or (entry.created and order.invoices.exists()):
        return "kept"
    if entry.created:
        order.delete()
        return "deleted"
    before = entry.before or {}
    order.lines.all().delete()
    OrderLine.objects.bulk_create([
        OrderLine(order=order, position=i, product_id=p, description=d, quantity=Decimal(q), unit_price=Decimal(u),
                  discount=Decimal(di), amount=Decimal(a))
        for i, (p, d, q, u, di, a) in enumerate(before["lines"])
    ])
    order.ordered_on, order.status, order.note = dt.date.fromisoformat(before["ordered_on"]), before["status"], before["note"]
    order.delivered_on = dt.date.fromisoformat(before["delivered_on"]) if before["delivered_on"] else None
    order.total = Decimal(before["total"])
    order.updated_at = timezone.now()
    order.version += 1
    order.save()
    return "restored"


def _revert_product(entry: ImportedRecord) -> str:
    product = Product.objects.select_for_update().filter(pk=entry.object_id).first()
    if product is None:
        return "gone"
    if product.version != _after(entry):
        return "kept"
    if entry.created:
        if product.order_lines.exists() or product.prices.exists():
            return "kept"
        product.delete()
        return "deleted"
    before = entry.before or {}
    for key in (*_PRODUCT_FIELDS, "names"):
        setattr(product, key, before[key])
    product.updated_at = timezone.now()
    product.version += 1
    product.save()
    return "restored"


# --- export ------------------------------------------------------------------------------------------

PRODUCT_COLUMNS = ["sku", "name", "name_es", "name_zh_hans", "name_ro", "category", "brand", "unit", "is_ours", "active"]


def export_products(user: User, writer: Any) -> int:
    """The product catalog, in columns a products import maps back by itself. Products are not
    customer data: everyone who may sign in may export them."""
    writer.header(PRODUCT_COLUMNS)
    count = 0
    for product in Product.objects.order_by("sku").iterator(chunk_size=2000):
        names = product.names or {}
        writer.row([product.sku, product.name, names.get("es", ""), names.get("zh-hans", ""), names.get("ro", ""),
                    product.category, product.brand, product.unit, "yes" if product.is_ours else "no",
                    "yes" if product.active else "no"])
        count += 1
    return count


# --- registration ------------------------------------------------------------------------------------


def _kind(key: str, label: Any, runner: Any, may_import: Any, required: tuple[tuple[str, ...], ...],
          signature: frozenset[str]) -> ImportKind:
    return ImportKind(
        key=key, label=label, targets=lambda: _targets(key), suggest=lambda headers: _suggest(key, headers), runner=runner,
        revert=revert, may_import=may_import, required=required, signature=signature,
    )


def register() -> None:
    """Registers the commerce import kinds (and the product export) with the imports app."""
    for kind in (
        _kind("orders", gettext_lazy("Orders (one row per line)"), OrderRunner, _may_write_records,
              (CUSTOMER_TARGETS, ("order_external_id",), ("ordered_on",), ("currency",), ("quantity", "amount", "unit_price")),
              frozenset({"order_external_id", "quantity"})),
        _kind("invoices", gettext_lazy("Invoices and credit notes"), InvoiceRunner, _may_write_records,
              (CUSTOMER_TARGETS, ("invoice_number",), ("issued_on",), ("amount",), ("currency",)),
              frozenset({"invoice_number", "issued_on"})),
        _kind("payments", gettext_lazy("Payments"), PaymentRunner, _may_write_records,
              (CUSTOMER_TARGETS, ("reference",), ("received_on",), ("amount",), ("currency",)),
              frozenset({"reference", "received_on"})),
        _kind("products", gettext_lazy("Products"), ProductRunner, _may_import_products, (("sku",),),
              frozenset({"sku", "name"})),
    ):
        register_import_kind(kind)
    register_export_kind(ExportKind(key="products", label=gettext_lazy("Products"), formats=("csv", "xlsx"), write=export_products))
