"""Column mapping: which target field each column of a file fills, suggested from its header.

A target is one of:

- a core field: ``name`` (organisation), ``full_name``, ``given_name``, ``middle_name``,
  ``family_name``, ``local_name``, ``external_id``, ``website``, ``industry``, ``tier``,
  ``lifecycle_stage``, ``size_band``; for people ``organization`` (employer name) and ``title``;
- ``phone`` or ``phone:<kind>`` (mobile, work, home, fax, other), ``email`` or ``email:<kind>``
  (work, personal, other); without a kind it comes from a sibling type column
  (Google's ``Phone 1 - Type`` next to ``Phone 1 - Value``) or from the card's kind;
- ``address:<group>.<part>`` with part street, city, region, postal_code or country; a group
  named after an address kind (``address:home.city``) sets the kind, any other group
  (``address:1.city``) takes it from a sibling type column;
- ``birth_year`` / ``birth_month`` / ``birth_day`` (Thunderbird), joined into the birth date;
- ``item:<key>``: a catalog item, recorded as a fact whose source is the import;
- empty: the column is ignored.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy

from rapport.cards.bulk import Checked
from rapport.cards.models import AddressKind, EmailKind, Kind, PhoneKind
from rapport.catalog import selectors as catalog
from rapport.catalog.models import InformationItem, ItemType
from rapport.core.errors import ValidationError
from rapport.core.text import fold
from rapport.imports.problems import RowProblem, problem
from rapport.imports.readers import CellProblem

CORE_TARGETS = [
    "rapport_id", "name", "full_name", "given_name", "middle_name", "family_name", "local_name", "external_id", "website",
    "industry", "tier", "lifecycle_stage", "size_band", "organization", "title", "birth_year", "birth_month", "birth_day",
]
ADDRESS_PARTS = ("street", "city", "region", "postal_code", "country")


def normalise_header(header: str) -> str:
    """Case, accents and punctuation folded away; word breaks kept ("birth day" ≠ "birthday")."""
    return re.sub(r"[^0-9a-z\u00c0-\uffff]+", " ", fold(header)).strip()


def _h(*names: str) -> list[str]:
    return [normalise_header(n) for n in names]


# Header synonyms: generic names in our four languages, and the exact headers of Google
# Contacts, Outlook and Thunderbird CSV exports.
_SYNONYMS: dict[str, list[str]] = {
    "external_id": _h("external_id", "external id", "uid", "customer id", "client id", "crm id", "account id", "id cliente", "客户编号", "cod client"),
    "name": _h("company name", "organization name", "organisation name", "account name", "razon social", "empresa", "denumire", "firma", "公司名称", "公司", "单位名称"),
    "full_name": _h("name", "full name", "display name", "nombre completo", "nume complet", "姓名", "联系人", "contact name"),
    "given_name": _h("given_name", "given name", "first name", "firstname", "forename", "nombre", "prenume", "名"),
    "middle_name": _h("middle name", "additional name"),
    "family_name": _h("family_name", "family name", "last name", "lastname", "surname", "apellidos", "apellido", "nume de familie", "姓"),
    "local_name": _h("local_name", "local name", "name in local script", "中文名", "中文姓名"),
    "organization": _h("company", "organization", "organisation", "organization 1 - name", "employer", "compañia", "compania", "companie", "单位"),
    "title": _h("job title", "organization 1 - title", "position", "cargo", "puesto", "functie", "职位", "职务"),
    "website": _h("website", "web site", "web page", "web page 1", "url", "homepage", "home page", "website 1 - value", "website home page", "website work", "sitio web", "pagina web", "网站", "网址"),
    "industry": _h("industry", "sector", "industria", "行业"),
    "tier": _h("tier", "abc", "abc class"),
    "lifecycle_stage": _h("lifecycle_stage", "stage", "lifecycle stage", "status"),
    "size_band": _h("size_band", "size", "size band", "company size"),
    "birth_year": _h("birth year"),
    "birth_month": _h("birth month"),
    "birth_day": _h("birth day"),
    "phone": _h("phones", "phone", "telephone", "tel", "phone number", "teléfono", "telefono", "telefon", "电话", "联系电话", "primary phone"),
    "phone:mobile": _h("mobile", "mobile phone", "mobile number", "cell", "cell phone", "home mobile", "movil", "móvil", "celular", "mobil", "手机", "手机号"),
    "phone:work": _h("business phone", "work phone", "business phone 2", "company main phone", "office phone", "telefono trabajo"),
    "phone:home": _h("home phone", "home phone 2"),
    "phone:fax": _h("fax", "fax number", "business fax", "home fax", "other fax", "传真"),
    "phone:other": _h("other phone", "car phone", "pager", "pager number"),
    "email": _h("emails", "email", "e-mail", "email address", "e-mail address", "primary email", "mail", "correo", "correo electronico", "邮箱", "电子邮件", "电子邮箱"),
    "email:work": _h("email work", "work email", "business email"),
    "email:personal": _h("email home", "home email", "personal email"),
    "email:other": _h("e-mail 2 address", "e-mail 3 address", "secondary email", "email other", "other email"),
    "address:office.street": _h("street", "address", "business street", "work address", "work street", "direccion", "dirección", "adresa", "地址"),
    "address:office.city": _h("city", "business city", "work city", "ciudad", "oras", "oraș", "城市"),
    "address:office.region": _h("state", "region", "province", "business state", "work state", "provincia", "judet", "județ", "省份"),
    "address:office.postal_code": _h("zip", "zip code", "postal code", "postcode", "business postal code", "work zip", "work zipcode", "codigo postal", "cod postal", "邮编"),
    "address:office.country": _h("country", "business country/region", "business country", "work country", "pais", "país", "tara", "țara", "国家"),
    "address:home.street": _h("home street", "home address"),
    "address:home.city": _h("home city"),
    "address:home.region": _h("home state"),
    "address:home.postal_code": _h("home zip", "home zipcode", "home postal code"),
    "address:home.country": _h("home country", "home country/region"),
    "address:other.street": _h("other street"),
    "address:other.city": _h("other city"),
    "address:other.region": _h("other state"),
    "address:other.postal_code": _h("other postal code", "other zip"),
    "address:other.country": _h("other country/region", "other country"),
    "item:birth_date": _h("birthday", "birth date", "date of birth", "dob", "fecha de nacimiento", "data nasterii", "data nașterii", "生日", "出生日期"),
    "item:nickname": _h("nickname", "apodo", "porecla", "昵称"),
    "item:spouse_name": _h("spouse"),
    "item:wedding_anniversary": _h("anniversary"),
    "item:hobbies": _h("hobby", "hobbies", "aficiones"),
    "item:occupation": _h("occupation", "profession", "profesion", "ocupacion"),
    "item:tax_id": _h("tax id", "vat", "vat number", "nif", "cif", "cui", "税号", "统一社会信用代码"),
}
_BY_HEADER: dict[str, str] = {h: target for target, headers in _SYNONYMS.items() for h in headers}
# Google Contacts: "Phone 1 - Value", "E-mail 2 - Value", "Address 1 - City", "Website 1 - Value".
_GOOGLE = re.compile(r"^(phone|e-mail|address|website|relation|organization) (\d+) - (.+)$", re.I)
_GOOGLE_ADDRESS_PARTS = {"street": "street", "city": "city", "region": "region", "postal code": "postal_code", "country": "country"}


_VCARD_FIELDS = {
    "given_name": gettext_lazy("Given name"), "family_name": gettext_lazy("Family name"), "middle_name": gettext_lazy("Middle name"),
    "full_name": gettext_lazy("Full name"), "organization": gettext_lazy("Organisation"), "title": gettext_lazy("Job title"),
    "external_id": gettext_lazy("Identifier (UID)"), "nickname": gettext_lazy("Nickname"), "birth_date": gettext_lazy("Birthday"),
    "note": gettext_lazy("Note"), "website": gettext_lazy("Website"),
}
_VCARD_PARTS = {
    "street": gettext_lazy("street"), "city": gettext_lazy("city"), "region": gettext_lazy("region"), "postal_code": gettext_lazy("postcode"),
    "country": gettext_lazy("country"), "type": gettext_lazy("type"),
}
_VCARD_NUMBERED = re.compile(r"^(phone|email|address)\.(\d{1,2})(?:\.(\w+))?$")


def column_label(name: str) -> str:
    """A column as a person reads it: the vCard reader's field names ("phone.2", "address.1.city")
    in words of the reader's language; any other column (a file's own header) as it is."""
    if name in _VCARD_FIELDS:
        return str(_VCARD_FIELDS[name])
    match = _VCARD_NUMBERED.match(name)
    if not match:
        return name
    what, number, part = match.groups()
    base = {"phone": gettext_lazy("Phone %(n)s"), "email": gettext_lazy("E-mail %(n)s"), "address": gettext_lazy("Address %(n)s")}[what] % {"n": number}
    if part is None:
        return str(base)
    if part not in _VCARD_PARTS:
        return name
    return f"{base}: {_VCARD_PARTS[part]}"


def target_choices(kind: str, *, groups: list[str] | None = None) -> list[tuple[str, str]]:
    """Every target a column may be mapped to, as (value, label) for forms and the API.

    ``groups``: numbered addresses of the file (Google's "Address 1 - City", a vCard's
    second ADR), whose kind comes from their own type column; each gets its five parts."""
    from django.utils.translation import gettext as _

    labels = {
        "rapport_id": _("Rapport card id"), "name": _("Name (organisation)"), "full_name": _("Full name"), "given_name": _("Given name"),
        "middle_name": _("Middle name"), "family_name": _("Family name"), "local_name": _("Name in local script"),
        "external_id": _("External id"), "website": _("Website"), "industry": _("Industry"), "tier": _("Tier"),
        "lifecycle_stage": _("Stage"), "size_band": _("Size"), "organization": _("Organisation (employer)"),
        "title": _("Job title"), "birth_year": _("Birth year"), "birth_month": _("Birth month"), "birth_day": _("Birth day"),
    }
    result = [("", _("— ignore —"))]
    result += [(t, str(labels[t])) for t in CORE_TARGETS if kind == Kind.PERSON or t not in ("organization", "title", "given_name", "middle_name", "family_name", "birth_year", "birth_month", "birth_day")]
    result += [("phone", _("Phone"))] + [(f"phone:{k}", f"{_('Phone')} ({label})") for k, label in PhoneKind.choices]
    result += [("email", _("E-mail"))] + [(f"email:{k}", f"{_('E-mail')} ({label})") for k, label in EmailKind.choices]
    for address_kind, label in AddressKind.choices:
        for part in ADDRESS_PARTS:
            result.append((f"address:{address_kind}.{part}", f"{_('Address')} ({label}): {_part_label(part)}"))
    for group in groups or []:
        for part in ADDRESS_PARTS:
            result.append((f"address:{group}.{part}",
                           _("Address %(number)s (kind from the file): %(part)s") % {"number": group, "part": _part_label(part)}))
    for item in catalog.items().values():
        if item.applies_to in ("any", kind) and item.type != ItemType.PERSON:
            result.append((f"item:{item.key}", f"{item.label}"))
    return result


def _part_label(part: str) -> str:
    from django.utils.translation import gettext as _

    return {"street": _("street"), "city": _("city"), "region": _("region"), "postal_code": _("postal code"),
            "country": _("country")}[part]


def address_groups(mapping: dict[str, str]) -> list[str]:
    """The numbered address groups a mapping uses ("address:2.city" -> "2"), in order."""
    found = {m.group(1) for t in mapping.values() if (m := re.match(r"^address:(\d+)\.", t or ""))}
    return sorted(found, key=int)


def suggest(headers: list[str], kind: str) -> dict[str, str]:
    """A target for each header we recognise; others map to "" (ignored)."""
    items = catalog.items()
    by_label: dict[str, str] = {}
    for item in items.values():
        if item.applies_to in ("any", kind) and item.type != ItemType.PERSON:
            by_label[normalise_header(item.key)] = f"item:{item.key}"
            for label in (item.labels or {}).values():
                by_label.setdefault(normalise_header(label), f"item:{item.key}")
    normalised = {normalise_header(h) for h in headers}
    result: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        key = normalise_header(header)
        target = _google(header) or _BY_HEADER.get(key) or by_label.get(key) or ""
        if header.startswith("item:") and header[5:] in items:
            target = header  # the item columns of our own exports
        if key == "id":
            # Our exports carry the card id next to external_id; elsewhere an "id" is the source system's.
            target = "rapport_id" if "external id" in normalised else "external_id"
        if target.startswith("item:") and target[5:] in items and items[target[5:]].applies_to not in ("any", kind):
            target = ""
        if kind == Kind.ORGANIZATION:
            if target in ("full_name", "organization"):
                target = "name"
            elif target in ("given_name", "family_name", "middle_name", "title") or target.startswith("birth_"):
                target = ""
        if key == "title" and normalise_header("job title") not in normalised:
            target = "title" if kind == Kind.PERSON else ""
        # One column per single-valued target: the first wins (Outlook's "Website Work" after "Web Page").
        single = not target.startswith(("phone", "email", "item:")) and target != ""
        if single and target in used:
            target = ""
        if target:
            used.add(target)
        result[header] = target
    return result


def _google(header: str) -> str:
    match = _GOOGLE.match(header.strip())
    if not match:
        return ""
    what, group, part = match.group(1).lower(), match.group(2), match.group(3).strip().lower()
    if what == "phone" and part == "value":
        return "phone"
    if what == "e-mail" and part == "value":
        return "email"
    if what == "address" and part in _GOOGLE_ADDRESS_PARTS:
        return f"address:{group}.{_GOOGLE_ADDRESS_PARTS[part]}"
    if what == "website" and part == "value" and group == "1":
        return "website"
    if what == "organization" and group == "1":
        return {"name": "organization", "title": "title"}.get(part, "")
    return ""


def vcard_mapping(columns: list[str]) -> dict[str, str]:
    """vCard fields are named by the reader; they map to themselves."""
    result = {}
    for column in columns:
        if column in ("full_name", "given_name", "middle_name", "family_name", "organization", "title", "external_id", "website"):
            result[column] = column
        elif column in ("nickname", "birth_date"):
            result[column] = f"item:{column}"
        elif re.fullmatch(r"phone\.\d+", column):
            result[column] = "phone"
        elif re.fullmatch(r"email\.\d+", column):
            result[column] = "email"
        elif m := re.fullmatch(r"address\.(\d+)\.(street|city|region|postal_code|country)", column):
            result[column] = f"address:{m.group(1)}.{m.group(2)}"
    return result


def validate_mapping(mapping: Any, headers: list[str], kind: str) -> dict[str, str]:
    """The mapping as given (e.g. from MAPPING.json) checked against the file's headers; unknown
    columns or targets are refused, naming each."""
    if not isinstance(mapping, dict):
        raise ValidationError.single("mapping", "Expected an object of column name to target field.")
    errors: dict[str, list[str]] = {}
    valid = {value for value, _label in target_choices(kind)}
    result: dict[str, str] = {}
    header_set = set(headers)
    for column, target in mapping.items():
        if not isinstance(column, str) or column not in header_set:
            errors.setdefault(f"mapping.{column}", []).append("No such column in the file.")
            continue
        if target is None:
            target = ""
        if not isinstance(target, str):
            errors.setdefault(f"mapping.{column}", []).append("Expected a target field name.")
            continue
        if target and target not in valid and not re.fullmatch(r"address:\w{1,20}\.(street|city|region|postal_code|country)", target):
            errors.setdefault(f"mapping.{column}", []).append(f"Unknown target {target!r}.")
            continue
        result[column] = target
    if errors:
        raise ValidationError(errors)
    return result


# --- turning a row into what bulk_create_cards takes -----------------------------------------------


@dataclass
class EmployerFacts:
    """The facts a company column becomes when no organisation card can be found or made for it."""

    facts: list[dict[str, Any]]
    origins: dict[str, str]  # "facts[n]" -> column, for those facts
    checked: list[Any] | None  # the facts validated (``Loader.check_more``), or None: validated when loaded

    def __reduce__(self) -> tuple[Any, ...]:
        return (EmployerFacts, (self.facts, self.origins, self.checked))


@dataclass
class BuiltRow:
    """A row ready for the cards services, and which column each part came from (for errors)."""

    number: int
    data: dict[str, Any]
    origins: dict[str, str] = field(default_factory=dict)  # "phones[0]" -> column
    problems: list[CellProblem] = field(default_factory=list)
    organization_name: str = ""
    keys: list[str] = field(default_factory=list)  # duplicate keys: "x:<external id>", "p:<e164>", "e:<email>"
    left_out: list[RowProblem] = field(default_factory=list)  # problems of values dropped on retry
    checked: Checked | None = None  # validated ahead of loading (``Loader.check``); None when it must be validated then

    def column_of(self, field_name: str) -> str:
        """The source column behind an error key such as ``facts[2].value`` or ``phones[0]``."""
        base = re.match(r"^(\w+(?:\[\d+\])?)", field_name)
        if base and base.group(1) in self.origins:
            return self.origins[base.group(1)]
        top = field_name.split(".")[0].split("[")[0]
        return self.origins.get(top, field_name)


_PHONE_TYPES = {"mobile": "mobile", "cell": "mobile", "móvil": "mobile", "work": "work", "business": "work", "main": "work",
                "home": "home", "fax": "fax", "other": "other", "pager": "other"}
_EMAIL_TYPES = {"home": "personal", "personal": "personal", "work": "work", "business": "work", "other": "other"}
_ADDRESS_TYPES = {"home": "home", "work": "office", "business": "office", "office": "office", "billing": "billing",
                  "shipping": "shipping", "warehouse": "warehouse", "shop": "shop", "other": "other"}


def _type_of(text: str, table: dict[str, str], default: str) -> str:
    words = re.findall(r"[^\W\d_]+", text.lower())
    if "fax" in words and "fax" in table.values():
        return "fax"
    for word in words:
        if word in table:
            return table[word]
    return default


_COUNTRIES = {
    "spain": "ES", "españa": "ES", "espana": "ES", "spania": "ES", "西班牙": "ES", "romania": "RO", "românia": "RO",
    "rumania": "RO", "罗马尼亚": "RO", "china": "CN", "中国": "CN", "prc": "CN", "usa": "US", "united states": "US",
    "united states of america": "US", "estados unidos": "US", "us": "US", "美国": "US", "mexico": "MX", "méxico": "MX",
    "墨西哥": "MX", "germany": "DE", "deutschland": "DE", "alemania": "DE", "germania": "DE", "france": "FR", "francia": "FR",
    "franta": "FR", "franța": "FR", "italy": "IT", "italia": "IT", "united kingdom": "GB", "uk": "GB", "great britain": "GB",
    "reino unido": "GB", "portugal": "PT", "poland": "PL", "polska": "PL", "polonia": "PL", "moldova": "MD",
    "republica moldova": "MD", "hungary": "HU", "bulgaria": "BG", "argentina": "AR", "colombia": "CO", "chile": "CL",
    "peru": "PE", "perú": "PE", "canada": "CA", "netherlands": "NL", "belgium": "BE", "switzerland": "CH", "austria": "AT",
    "taiwan": "TW", "台湾": "TW", "hong kong": "HK", "香港": "HK", "japan": "JP", "日本": "JP", "singapore": "SG",
}
_ISO3 = {"USA": "US", "ESP": "ES", "ROU": "RO", "CHN": "CN", "MEX": "MX", "DEU": "DE", "FRA": "FR", "GBR": "GB", "ITA": "IT", "POL": "PL"}


def country_code(text: str) -> str | None:
    value = text.strip()
    if len(value) == 2 and value.isascii() and value.isalpha():
        return value.upper()
    if value.upper() in _ISO3:
        return _ISO3[value.upper()]
    return _COUNTRIES.get(value.casefold())


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y%m%d", "%Y年%m月%d日", "%d/%m/%y", "%d.%m.%y")
_DATE_FORMATS_MDY = ("%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%d.%m.%Y", "%m-%d-%Y", "%Y%m%d", "%Y年%m月%d日", "%m/%d/%y", "%d.%m.%y")


def parse_loose_date(text: str, *, month_first: bool = False) -> str | None:
    """A date as spreadsheets and address books write it, as ISO ``YYYY-MM-DD``; vCard's
    ``--MMDD`` (year unknown) is not a full date and returns None."""
    value = text.strip()
    if "T" in value and value[:4].isdigit():
        value = value.split("T")[0]
    if len(value) == 10 and value[4] == "-":
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    for fmt in _DATE_FORMATS_MDY if month_first else _DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    return None


class RowBuilder:
    """Turns the cells of one row into a card row, by a mapping fixed for the whole file."""

    def __init__(self, *, mapping: dict[str, str], headers: list[str], kind: str, source: str, provenance: str,
                 month_first: bool = False) -> None:
        self.kind = kind
        self.source = source
        self.provenance = provenance
        self.month_first = month_first
        self.items = catalog.items()
        self.columns = [(c, t) for c, t in mapping.items() if t]
        header_set = set(headers)
        # Sibling type columns: Google's "Phone 1 - Type", the vCard reader's "phone.1.type".
        self.type_column: dict[str, str] = {}
        for column, _target in self.columns:
            # The address patterns first: "address.1.city" takes its kind from "address.1.type",
            # not from a "address.1.city.type" that no file has.
            for candidate in (re.sub(r"^(Address \d+) - .*$", r"\1 - Type", column),
                              re.sub(r"^(address\.\d+)\..*$", r"\1.type", column),
                              re.sub(r" - Value$", " - Type", column), column + ".type"):
                if candidate != column and candidate in header_set:
                    self.type_column[column] = candidate
                    break
        self._choice_keys: dict[str, dict[str, str]] = {}
        # Errors on a core field name the column it comes from, even when that cell was empty.
        self.core_origins: dict[str, str] = {}
        for column, target in self.columns:
            if target in CORE_TARGETS:
                self.core_origins.setdefault(target, column)
        fallback = {"name": ("full_name", "organization", "local_name"), "given_name": ("full_name", "local_name", "family_name"),
                    "family_name": ("full_name",), "local_name": ("full_name",)}
        for target, others in fallback.items():
            for other in others:
                if target not in self.core_origins and other in self.core_origins:
                    self.core_origins[target] = self.core_origins[other]

    def build(self, number: int, cells: dict[str, str]) -> BuiltRow:
        data: dict[str, Any] = {"kind": self.kind}
        row = BuiltRow(number=number, data=data, origins=dict(self.core_origins))
        phones: list[dict[str, str]] = []
        emails: list[str] = []
        addresses: dict[str, dict[str, str]] = {}
        address_columns: dict[str, str] = {}
        facts: list[dict[str, Any]] = []
        names: dict[str, str] = {}
        birth: dict[str, str] = {}
        for column, target in self.columns:
            value = (cells.get(column) or "").strip()
            if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@"):
                value = value[1:]  # our own exports neutralise such cells; a re-import reads them back
            if not value:
                continue
            if looks_like_formula(value):
                row.problems.append(CellProblem(column, problem("cell.formula"), value[:200]))
                continue
            if target.startswith("phone"):
                kind = target[6:] if ":" in target else _type_of(cells.get(self.type_column.get(column, ""), ""), _PHONE_TYPES,
                                                                    "work" if self.kind == Kind.ORGANIZATION else "mobile")
                for part in _split_multi(value):
                    row.origins[f"phones[{len(phones)}]"] = column
                    phones.append({"number": part, "kind": kind})
            elif target.startswith("email"):
                for part in _split_multi(value):
                    row.origins[f"emails[{len(emails)}]"] = column
                    emails.append(part)
            elif target.startswith("address:"):
                group, part = target[8:].split(".", 1)
                address = addresses.setdefault(group, {})
                address_columns.setdefault(group, column)
                if part == "country":
                    code = country_code(value)
                    if code is None:  # keep the name rather than lose it
                        address["region"] = ", ".join(p for p in (address.get("region"), value) if p)
                        continue
                    value = code
                if part == "region" and address.get("region"):
                    value = f"{value}, {address['region']}"
                address[part] = value
                if "kind" not in address:
                    address["kind"] = group if group in AddressKind.values else _type_of(
                        cells.get(self.type_column.get(column, ""), ""), _ADDRESS_TYPES, "office")
            elif target.startswith("item:"):
                self._fact(row, facts, column, target[5:], value)
            elif target.startswith("birth_"):
                birth[target] = value
            else:
                names[target] = value
                row.origins[target] = column
        self._names(row, names)
        if self.kind == Kind.PERSON and not any(data.get(k) for k in ("given_name", "family_name", "local_name")):
            # A contact known only by an address or a number (phone books have many): shown by it.
            if emails and _PLAUSIBLE_EMAIL.match(emails[0]):
                data["given_name"] = emails[0]
                row.origins["given_name"] = row.origins["emails[0]"]
            elif phones and len(re.sub(r"\D", "", phones[0]["number"])) >= 6:
                data["given_name"] = phones[0]["number"]
                row.origins["given_name"] = row.origins["phones[0]"]
        if birth:
            self._birth(row, facts, birth)
        if phones:
            data["phones"] = phones[:20]
        if emails:
            data["emails"] = emails[:20]
        if addresses:
            data["addresses"] = []
            for group, address in list(addresses.items())[:20]:
                if any(address.get(p) for p in ADDRESS_PARTS):
                    row.origins[f"addresses[{len(data['addresses'])}]"] = address_columns[group]
                    data["addresses"].append(address)
        if facts:
            data["facts"] = facts
        if len(phones) > 20 or len(emails) > 20:
            row.problems.append(CellProblem("", problem("row.too_many_points")))
        return row

    def _names(self, row: BuiltRow, names: dict[str, str]) -> None:
        data = row.data
        if names.get("rapport_id", "").isdigit():
            data["_rapport_id"] = int(names["rapport_id"])
        for core in ("external_id", "website", "industry", "tier", "lifecycle_stage", "size_band"):
            if core in names:
                value = names[core]
                data[core] = value.upper() if core == "tier" else value.lower() if core in ("lifecycle_stage", "size_band") else value
        if self.kind == Kind.ORGANIZATION:
            name = names.get("name") or names.get("full_name") or names.get("organization") or names.get("local_name") or ""
            data["name"] = name
            row.origins.setdefault("name", row.origins.get("full_name") or row.origins.get("organization") or "")
            return
        given, family = names.get("given_name", ""), names.get("family_name", "")
        if names.get("middle_name") and given:
            given = f"{given} {names['middle_name']}"
        full = names.get("full_name", "")
        if not (given or family) and full:
            origin = row.origins.get("full_name", "")
            if _is_cjk(full) and " " not in full:
                data["local_name"] = full
                row.origins["local_name"] = origin
            elif " " in full:
                given, family = full.rsplit(" ", 1)
                row.origins["given_name"] = row.origins["family_name"] = origin
            else:
                given = full
                row.origins["given_name"] = origin
        data["given_name"], data["family_name"] = given, family
        if names.get("local_name"):
            data["local_name"] = names["local_name"]
        if names.get("organization"):
            row.organization_name = names["organization"][:300]
            data["_title"] = names.get("title", "")
            row.origins["organization"] = row.origins.get("organization", "")
        elif names.get("title"):
            self._fact(row, row.data.setdefault("facts", []), row.origins.get("title", ""), "formal_position", names["title"])

    def _birth(self, row: BuiltRow, facts: list[dict[str, Any]], birth: dict[str, str]) -> None:
        parts = (birth.get("birth_year", ""), birth.get("birth_month", ""), birth.get("birth_day", ""))
        if all(p.isdigit() for p in parts):
            text = f"{int(parts[0]):04d}-{int(parts[1]):02d}-{int(parts[2]):02d}"
            self._fact(row, facts, "birth_year", "birth_date", text)
        elif any(parts):
            row.problems.append(CellProblem("birth_year", problem("birth.not_numbers"), "/".join(parts)))

    def employer_facts(self, row: BuiltRow, title: str) -> EmployerFacts:
        """The facts the row's company column becomes when no organisation card can be found or
        made for it: the employer and, with a job title, the formal position (not yet validated)."""
        facts = list(row.data.get("facts", []))
        known = len(facts)
        scratch = BuiltRow(number=row.number, data={}, origins={})
        column = row.origins.get("organization", "")
        self._fact(scratch, facts, column, "employer", row.organization_name)
        if title:
            self._fact(scratch, facts, row.origins.get("title", column), "formal_position", title)
        return EmployerFacts(facts[known:], scratch.origins, None)

    def _fact(self, row: BuiltRow, facts: list[dict[str, Any]], column: str, key: str, value: str) -> None:
        item = self.items.get(key)
        if item is None or item.applies_to not in ("any", self.kind):
            return
        converted: Any = value
        if item.type == ItemType.DATE:
            iso = parse_loose_date(value, month_first=self.month_first)
            if iso is None:
                if value.startswith("--"):
                    row.problems.append(CellProblem(column, problem("date.no_year"), value))
                    return
                converted = value  # parse_item_value names the problem
            else:
                converted = iso
        elif item.type in (ItemType.CHOICE, ItemType.MULTI_CHOICE):
            converted = self._choice(item, value)
        for existing in facts:
            if existing["item"] == key:
                return  # the first column for an item wins; a second would only supersede it
        row.origins[f"facts[{len(facts)}]"] = column
        facts.append({"item": key, "value": converted, "source": self.source, "note": f"{self.provenance}, row {row.number}"})

    def _choice(self, item: InformationItem, value: str) -> Any:
        keys = self._choice_keys.get(item.key)
        if keys is None:
            keys = {}
            for choice in item.choices:
                keys[fold(choice["key"])] = choice["key"]
                for label in (choice.get("labels") or {}).values():
                    keys.setdefault(fold(label), choice["key"])
            self._choice_keys[item.key] = keys
        if item.type == ItemType.MULTI_CHOICE:
            return [keys.get(fold(p.strip()), p.strip()) for p in re.split(r"[,;|]", value) if p.strip()]
        return keys.get(fold(value), value)


def _split_multi(value: str) -> list[str]:
    """Several phones or e-mails in one cell: Google writes "a ::: b", our exports "a; b"."""
    for separator in (":::", ";"):
        if separator in value and not re.search(r";\s*ext", value, re.I):
            return [p.strip().lstrip("'") for p in value.split(separator) if p.strip()]
    return [value]


def _is_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


_PLAUSIBLE_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FORMULA = re.compile(r"^[=@]|^[+\-].*(?:[|!]|[A-Za-z_]\s*\()")


def looks_like_formula(value: str) -> bool:
    """A cell a spreadsheet would run: "=…", "@…", or "+…"/"-…" calling something
    ("+cmd|…", "-2+SUM(…)"); a phone such as "+1 (905) 555-1234;ext=102" is not one."""
    return bool(_FORMULA.match(value))
