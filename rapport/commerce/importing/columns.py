"""Columns of the commerce import files: header names in four languages, reading rows, finding
customers among the cards the importing user can see, and the bulk-insert helpers the runners share."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from rapport.accounts.models import User
from rapport.cards.models import Card, CurrentValue
from rapport.catalog import selectors as catalog
from rapport.commerce import services
from rapport.core.errors import PermissionDenied, ValidationError
from rapport.core.visibility import visible_to
from rapport.imports.mapping import looks_like_formula, normalise_header, parse_loose_date
from rapport.imports.models import ImportJob
from rapport.imports.readers import SourceRow

CUSTOMER_TARGETS = ("customer", "customer_external_id", "customer_tax_id", "customer_id")
CACHE_LIMIT = 200_000  # customers and order numbers remembered per job; past it the cache starts again
PADDED_WIDTH = 20  # a number that may have lost its leading zeros is looked for padded up to this width


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
        # A header spelt as a target is that target: "customer_id" is the card id, although
        # "Customer ID" (the same once normalised) is taken for the ERP's customer number.
        exact = header.strip().lower()
        target = exact if exact in _SYNONYMS[kind] else by_header.get(normalise_header(header), "")
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


def _english(reason: Any) -> str:
    """A reader's problem as text: the reader keeps codes (``Problem``), this importer keeps text."""
    from rapport.imports.problems import Problem

    return reason.english() if isinstance(reason, Problem) else str(reason)


class _Reader:
    def __init__(self, mapping: dict[str, str]) -> None:
        self.columns = [(column, target) for column, target in mapping.items() if target]
        self.column_of = {target: column for column, target in self.columns}

    def read(self, source: SourceRow) -> _Row:
        row = _Row(source.number, {}, [(p.column, _english(p.reason), p.value) for p in source.problems])
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
        # Keys not found that a card's external id matches once leading zeros are put back
        # ("1" for "00001": a spreadsheet turned the id into a number): the external id found.
        self.padded: dict[tuple[str, str], str] = {}
        self.tax_item = catalog.items().get("tax_id")

    def resolve(self, keys: Iterable[tuple[str, str]]) -> None:
        missing = {k for k in keys if k not in self.cache}
        if not missing:
            return
        if len(self.cache) + len(missing) > CACHE_LIMIT:
            self.cache.clear()
            self.padded.clear()
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
            if target == "customer_id":
                # A number that is an external id with its leading zeros lost is not taken for
                # the card id it happens to equal: it is refused, naming the external id.
                padded = self._padded({v for v in general if v.isdigit()})
                self.padded.update({("customer", v): e for v, e in padded.items()})
                general -= set(padded)
            hits = self._find(target, general)
            found.update({("customer", v): i for v, i in hits.items()})
            general -= set(hits)
        lost = {v for (target, v) in missing if target == "customer_external_id" and v.isdigit()
                and ("customer_external_id", v) not in found}
        self.padded.update({("customer_external_id", v): e for v, e in self._padded(lost).items()})
        for key in missing:
            self.cache[key] = found.get(key)

    def _padded(self, numbers: set[str]) -> dict[str, str]:
        """For numbers no card has as its external id, the external id (of a card the user can
        see) that is the number with leading zeros: what a spreadsheet leaves of ``00001``."""
        candidates = {"0" * zeros + n: n for n in numbers for zeros in range(1, PADDED_WIDTH - len(n) + 1)}
        if not candidates:
            return {}
        result: dict[str, str] = {}
        for external in (visible_to(self.user).filter(external_id__in=_listed(sorted(candidates)))
                         .order_by("external_id").values_list("external_id", flat=True)):
            result.setdefault(candidates[external], external)
        return result

    def missing(self, key: tuple[str, str] | None) -> str:
        """Why the customer of ``key`` was not found."""
        external = self.padded.get(key) if key is not None else None
        if external:
            return _("No such customer. %(id)s is the external id %(external)s without its leading zeros: the "
                     "spreadsheet turned it into a number. Format the column as text, keeping the zeros, and "
                     "import it again.") % {"id": key[1] if key else "", "external": external}
        return _("No such customer.")

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
