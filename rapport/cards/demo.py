"""Multilingual demo data: teams in Spain, Mexico, China, Romania and the US, their users and customers.

Everything is created through the same services the web UI and the API call, so the demo
exercises validation, visibility, facts with provenance and the search index exactly as real
use does. The same seed gives the same data. The phone, name and value makers are also used
by the benchmarks (``bench/``) to build large realistic data sets.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from django.db import transaction
from django.utils import timezone, translation
from faker import Faker

from rapport.accounts.models import Team, User
from rapport.catalog import selectors as catalog
from rapport.catalog.models import InformationItem, ItemType, Sensitivity
from rapport.core.text import has_han, pinyin_words

DEMO_PASSWORD = "rapport-demo"
ADMIN = "admin"


@dataclass(frozen=True)
class Market:
    """One country the demo sells in: its Faker locale, phone region, currency, team and vocabulary."""

    locale: str
    region: str
    currency: str
    team: str
    language: str
    mail_domains: tuple[str, ...]
    tld: str
    org_kinds: dict[str, tuple[str, ...]]  # distributor | dealer | shop -> name patterns
    industries: tuple[str, ...]
    titles: tuple[tuple[str, str, str], ...]  # (title, level, function)
    phrases: tuple[str, ...]  # free-text facts and activity details
    summaries: dict[str, tuple[str, ...]]  # activity kind -> summaries
    # A name that says its trade ("Ferretería {n}") takes one of these industries; other names any.
    trades: dict[str, tuple[str, ...]] = field(default_factory=dict)


MARKETS: tuple[Market, ...] = (
    Market(
        locale="es_ES", region="ES", currency="EUR", team="Norte", language="es",
        mail_domains=("gmail.com", "telefonica.net", "hotmail.es", "yahoo.es"), tld="es",
        org_kinds={
            "distributor": ("Distribuciones {n} S.L.", "Suministros {n} S.A."),
            "dealer": ("Comercial {n}", "Almacenes {n}"),
            "shop": ("Ferretería {n}", "Tienda {n}", "Droguería {n}"),
        },
        industries=("Materiales de construcción", "Alimentación", "Ferretería", "Electrodomésticos"),
        trades={"Ferretería {n}": ("Ferretería",), "Droguería {n}": ("Droguería y limpieza",),
                "Tienda {n}": ("Alimentación", "Electrodomésticos", "Ferretería")},
        titles=(("Gerente", "decision", "user_department"), ("Jefe de compras", "management", "procurement_finance"),
                ("Técnico de almacén", "operational", "technical"), ("Director financiero", "decision", "procurement_finance")),
        phrases=("Venta al por mayor de materiales de construcción", "Quiere reducir el stock en almacén",
                 "Compara precios con dos proveedores cada trimestre", "Le interesa la nueva gama de productos",
                 "Pide plazos de entrega más cortos", "Paga siempre a 60 días"),
        summaries={
            "call": ("Llamada de seguimiento del pedido", "Llamada para confirmar la visita"),
            "visit": ("Visita a la tienda: auditoría de precios", "Visita al almacén: revisión de inventario"),
            "meeting": ("Reunión con el equipo de compras",), "email": ("Envío de la oferta actualizada",),
            "message": ("WhatsApp: confirma la entrega",), "note": ("Prefiere que le llamen por la mañana",),
            "gift": ("Cesta de Navidad",), "event": ("Feria de la construcción en Bilbao",),
        },
    ),
    Market(
        locale="es_MX", region="MX", currency="MXN", team="México Centro", language="es",
        mail_domains=("gmail.com", "hotmail.com", "prodigy.net.mx", "outlook.com"), tld="com.mx",
        org_kinds={
            "distributor": ("Distribuidora {n} S.A. de C.V.", "Grupo {n}"),
            "dealer": ("Comercializadora {n}", "Agencia {n}"),
            "shop": ("Abarrotes {n}", "Tlapalería {n}", "Miscelánea {n}"),
        },
        industries=("Abarrotes", "Materiales de construcción", "Autopartes", "Farmacia"),
        trades={"Abarrotes {n}": ("Abarrotes",), "Miscelánea {n}": ("Abarrotes",),
                "Tlapalería {n}": ("Materiales de construcción", "Tlapalería"), "Agencia {n}": ("Autopartes",)},
        titles=(("Director general", "decision", "user_department"), ("Gerente de compras", "management", "procurement_finance"),
                ("Encargado de almacén", "operational", "technical"), ("Contador", "management", "procurement_finance")),
        phrases=("Distribución de abarrotes en el Bajío", "Busca crédito a 30 días",
                 "El dueño decide todas las compras grandes", "Tiene tres sucursales en Guadalajara",
                 "Quiere exclusividad en su zona", "Se queja de entregas tardías"),
        summaries={
            "call": ("Llamada para cobrar la factura vencida", "Llamada de presentación"),
            "visit": ("Visita a la sucursal centro", "Visita: revisión de exhibidores"),
            "meeting": ("Junta con el director general",), "email": ("Cotización enviada por correo",),
            "message": ("Mensaje: pide catálogo nuevo",), "note": ("Cumpleaños del dueño en mayo",),
            "gift": ("Regalo de fin de año",), "event": ("Expo Ferretera Guadalajara",),
        },
    ),
    Market(
        locale="zh_CN", region="CN", currency="CNY", team="华东", language="zh-hans",
        mail_domains=("qq.com", "163.com", "126.com", "sina.com"), tld="cn",
        org_kinds={
            "distributor": ("{n}商贸有限公司", "{n}贸易有限公司"),
            "dealer": ("{n}经销部", "{n}代理有限公司"),
            "shop": ("{n}五金店", "{n}便利店", "{n}建材店"),
        },
        industries=("建材", "食品批发", "五金", "家电"),
        trades={"{n}五金店": ("五金",), "{n}便利店": ("食品零售",), "{n}建材店": ("建材",)},
        titles=(("总经理", "decision", "user_department"), ("采购经理", "management", "procurement_finance"),
                ("仓库主管", "operational", "technical"), ("财务总监", "decision", "procurement_finance")),
        phrases=("主营建材批发", "希望缩短交货期", "每季度比较三家供应商的价格", "对新产品很感兴趣",
                 "付款习惯六十天", "老板亲自决定大额采购"),
        summaries={
            "call": ("电话跟进订单", "电话确认拜访时间"),
            "visit": ("门店拜访：价格检查", "仓库拜访：库存检查"),
            "meeting": ("与采购部开会",), "email": ("发送最新报价",),
            "message": ("微信：确认送货",), "note": ("喜欢上午联系",),
            "gift": ("中秋月饼",), "event": ("上海建材展",),
        },
    ),
    Market(
        locale="ro_RO", region="RO", currency="RON", team="București", language="ro",
        mail_domains=("gmail.com", "yahoo.ro", "rdslink.ro"), tld="ro",
        org_kinds={
            "distributor": ("{n} Distribuție SRL", "{n} Grup SA"),
            "dealer": ("{n} Comerț SRL", "Dealer {n} SRL"),
            "shop": ("Magazinul {n}", "Feroneria {n}", "Băcănia {n}"),
        },
        industries=("Materiale de construcții", "Alimentar", "Feronerie", "Electrocasnice"),
        trades={"Feroneria {n}": ("Feronerie",), "Băcănia {n}": ("Alimentar",)},
        titles=(("Director general", "decision", "user_department"), ("Șef achiziții", "management", "procurement_finance"),
                ("Gestionar depozit", "operational", "technical"), ("Director financiar", "decision", "procurement_finance")),
        phrases=("Comerț cu ridicata de materiale de construcții", "Vrea termene de livrare mai scurte",
                 "Compară prețurile cu doi furnizori", "Interesat de gama nouă de produse",
                 "Plătește mereu la 60 de zile", "Patronul decide achizițiile mari"),
        summaries={
            "call": ("Apel de urmărire a comenzii", "Apel pentru confirmarea vizitei"),
            "visit": ("Vizită la magazin: audit de prețuri", "Vizită la depozit: verificare stoc"),
            "meeting": ("Întâlnire cu echipa de achiziții",), "email": ("Trimis oferta actualizată",),
            "message": ("Mesaj: confirmă livrarea",), "note": ("Preferă să fie sunat dimineața",),
            "gift": ("Coș de Crăciun",), "event": ("Târgul Construct Expo",),
        },
    ),
    Market(
        locale="en_US", region="US", currency="USD", team="East Coast", language="en",
        mail_domains=("gmail.com", "yahoo.com", "outlook.com", "comcast.net"), tld="com",
        org_kinds={
            "distributor": ("{n} Distribution Inc.", "{n} Supply Co."),
            "dealer": ("{n} Dealers LLC", "{n} Trading"),
            "shop": ("{n} Hardware", "{n} Market", "{n} Home Center"),
        },
        industries=("Building materials", "Grocery wholesale", "Hardware", "Appliances"),
        trades={"{n} Hardware": ("Hardware",), "{n} Market": ("Grocery retail",),
                "{n} Home Center": ("Building materials", "Hardware", "Appliances"),
                "{n} Dealers LLC": ("Appliances", "Building materials", "Hardware")},
        titles=(("General manager", "decision", "user_department"), ("Purchasing manager", "management", "procurement_finance"),
                ("Warehouse lead", "operational", "technical"), ("CFO", "decision", "procurement_finance")),
        phrases=("Wholesale of building materials", "Wants shorter delivery times", "Compares prices with two suppliers",
                 "Interested in the new product line", "Always pays at 60 days", "The owner approves large orders"),
        summaries={
            "call": ("Follow-up call on the order", "Call to confirm the visit"),
            "visit": ("Store visit: price audit", "Warehouse visit: stock check"),
            "meeting": ("Meeting with purchasing",), "email": ("Sent the updated quote",),
            "message": ("Text: confirms delivery",), "note": ("Prefers calls in the morning",),
            "gift": ("Holiday basket",), "event": ("Builders trade show in Boston",),
        },
    ),
)


@dataclass(frozen=True)
class Login:
    username: str
    role: str
    teams: tuple[str, ...] = ()
    manages: tuple[str, ...] = ()
    sensitive: bool = False  # special-category clearance


LOGINS: tuple[Login, ...] = (
    Login(ADMIN, "admin", sensitive=True),
    Login("analyst", "analyst"),
    Login("lucia", "manager", manages=("Norte",)),
    Login("pablo", "rep", teams=("Norte",)),
    Login("carmen", "rep", teams=("Norte",)),
    Login("alejandra", "manager", manages=("México Centro",)),
    Login("diego", "rep", teams=("México Centro",)),
    Login("valeria", "rep", teams=("México Centro",)),
    Login("wei", "manager", manages=("华东",)),
    Login("lina", "rep", teams=("华东",)),
    Login("jun", "rep", teams=("华东",)),
    Login("andrei", "manager", manages=("București",)),
    Login("ioana", "rep", teams=("București",), sensitive=True),
    Login("mihai", "rep", teams=("București",)),
    Login("emily", "manager", manages=("East Coast",)),
    Login("jake", "rep", teams=("East Coast",)),
    Login("olivia", "rep", teams=("East Coast",)),
)

TIERS = (("A", 10), ("B", 30), ("C", 40), ("", 20))
STAGES = (("suspect", 25), ("prospect", 20), ("target", 10), ("customer", 25), ("regular", 10), ("dormant", 5), ("lost", 5))
SIZE_BANDS = ("micro", "small", "medium", "large", "enterprise")


def weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


def ascii_slug(text: str) -> str:
    """'Ferretería López' → 'ferreterialopez', '鑫隆商贸' → 'xinlongshangmao' (for e-mail addresses and web sites)."""
    if has_han(text):
        text = "".join(pinyin_words(text))
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return re.sub(r"[^a-z0-9]", "", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


# --- phones ---------------------------------------------------------------------------------


class PhoneMaker:
    """Valid random phone numbers per region, typed the way people of that country type them."""

    KINDS = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._examples: dict[tuple[str, int], str] = {}

    def number(self, region: str, mobile: bool = True) -> phonenumbers.PhoneNumber:
        kind = self.KINDS[0] if mobile else self.KINDS[1]
        example = self._examples.get((region, kind))
        if example is None:
            found = phonenumbers.example_number_for_type(region, kind)
            if found is None:
                raise ValueError(f"phonenumbers has no example {kind} number for {region}")
            example = self._examples[(region, kind)] = str(found.national_number)
        code = phonenumbers.country_code_for_region(region)
        keep = 3 if len(example) > 9 else 2  # the operator / area prefix stays, the rest is random
        for _ in range(200):
            digits = example[:keep] + "".join(self.rng.choice("0123456789") for _ in range(len(example) - keep))
            candidate = phonenumbers.PhoneNumber(country_code=code, national_number=int(digits))
            if phonenumbers.is_valid_number(candidate):
                return candidate
        return phonenumbers.parse(example, region)

    def typed(self, number: phonenumbers.PhoneNumber, style: str | None = None) -> str:
        """How a user types it: national (most), international with spaces, or E.164."""
        style = style or self.rng.choices(["national", "international", "e164"], weights=[70, 20, 10])[0]
        fmt = {
            "national": phonenumbers.PhoneNumberFormat.NATIONAL,
            "international": phonenumbers.PhoneNumberFormat.INTERNATIONAL,
            "e164": phonenumbers.PhoneNumberFormat.E164,
        }[style]
        return phonenumbers.format_number(number, fmt)


# --- names ------------------------------------------------------------------------------------


def person_name(fake: Faker, market: Market, rng: random.Random) -> dict[str, str]:
    """Given, family and local-script names; Chinese people get their Han name plus pinyin."""
    female = rng.random() < 0.5
    given = fake.first_name_female() if female else fake.first_name_male()
    family = fake.last_name()
    if market.locale != "zh_CN":
        if market.locale.startswith("es") and rng.random() < 0.6:
            family = f"{family} {fake.last_name()}"  # two surnames
        return {"given_name": given, "family_name": family, "local_name": ""}
    from pypinyin import lazy_pinyin

    return {
        "given_name": "".join(lazy_pinyin(given)).capitalize(),
        "family_name": "".join(lazy_pinyin(family)).capitalize(),
        "local_name": family + given,
    }


@dataclass(frozen=True)
class Place:
    """A real city with its region and the range of its postcodes, so an address holds together."""

    city: str
    region: str
    first_postcode: int
    last_postcode: int
    digits: int

    def postcode(self, rng: random.Random) -> str:
        return f"{rng.randint(self.first_postcode, self.last_postcode):0{self.digits}d}"


PLACES: dict[str, tuple[Place, ...]] = {
    # Spain: the first two digits are the province (48 Bizkaia, 39 Cantabria, 33 Asturias…).
    "es_ES": (
        Place("Bilbao", "Bizkaia", 48001, 48015, 5), Place("Santander", "Cantabria", 39001, 39012, 5),
        Place("Oviedo", "Asturias", 33001, 33013, 5), Place("Gijón", "Asturias", 33201, 33213, 5),
        Place("San Sebastián", "Gipuzkoa", 20001, 20018, 5), Place("Vitoria-Gasteiz", "Álava", 1001, 1015, 5),
        Place("Pamplona", "Navarra", 31001, 31016, 5), Place("Logroño", "La Rioja", 26001, 26009, 5),
        Place("Burgos", "Burgos", 9001, 9007, 5), Place("León", "León", 24001, 24010, 5),
        Place("A Coruña", "A Coruña", 15001, 15011, 5), Place("Vigo", "Pontevedra", 36201, 36216, 5),
    ),
    "es_MX": (
        Place("Ciudad de México", "Ciudad de México", 6000, 6900, 5), Place("Puebla", "Puebla", 72000, 72590, 5),
        Place("Querétaro", "Querétaro", 76000, 76250, 5), Place("Toluca", "Estado de México", 50000, 50295, 5),
        Place("Pachuca", "Hidalgo", 42000, 42190, 5), Place("Cuernavaca", "Morelos", 62000, 62590, 5),
        Place("León", "Guanajuato", 37000, 37690, 5), Place("Guadalajara", "Jalisco", 44100, 44990, 5),
    ),
    "zh_CN": (
        Place("上海市", "上海市", 200001, 200080, 6), Place("杭州市", "浙江省", 310001, 310018, 6),
        Place("宁波市", "浙江省", 315000, 315199, 6), Place("南京市", "江苏省", 210001, 210049, 6),
        Place("苏州市", "江苏省", 215000, 215199, 6), Place("无锡市", "江苏省", 214000, 214199, 6),
        Place("合肥市", "安徽省", 230001, 230099, 6), Place("济南市", "山东省", 250001, 250199, 6),
        Place("青岛市", "山东省", 266001, 266199, 6), Place("福州市", "福建省", 350001, 350099, 6),
        Place("厦门市", "福建省", 361001, 361099, 6),
    ),
    # Romania: Bucharest's codes start with 0 (010011–062999); elsewhere the county's prefix.
    "ro_RO": (
        Place("București", "București", 10011, 62999, 6), Place("Ploiești", "Prahova", 100001, 100599, 6),
        Place("Pitești", "Argeș", 110001, 110499, 6), Place("Cluj-Napoca", "Cluj", 400001, 400699, 6),
        Place("Brașov", "Brașov", 500001, 500499, 6), Place("Constanța", "Constanța", 900001, 900749, 6),
        Place("Iași", "Iași", 700001, 700729, 6), Place("Timișoara", "Timiș", 300001, 300699, 6),
        Place("Craiova", "Dolj", 200001, 200749, 6),
    ),
    "en_US": (
        Place("Boston", "MA", 2108, 2136, 5), Place("New York", "NY", 10001, 10040, 5),
        Place("Philadelphia", "PA", 19102, 19154, 5), Place("Baltimore", "MD", 21201, 21239, 5),
        Place("Newark", "NJ", 7102, 7114, 5), Place("Providence", "RI", 2903, 2909, 5),
        Place("Hartford", "CT", 6103, 6120, 5), Place("Richmond", "VA", 23219, 23237, 5),
        Place("Washington", "DC", 20001, 20020, 5),
    ),
}


def organization_for(fake: Faker, market: Market, rng: random.Random, kind: str, place: Place) -> tuple[str, str]:
    """A name in the market's style and an industry that fits the trade the name announces."""
    base = fake.last_name() if market.locale != "zh_CN" else place.city.rstrip("市县") + rng.choice("鑫隆盛达华通")
    pattern = rng.choice(market.org_kinds[kind])
    return pattern.format(n=base), rng.choice(market.trades.get(pattern) or market.industries)


def organization_name(fake: Faker, market: Market, rng: random.Random, kind: str) -> str:
    return organization_for(fake, market, rng, kind, rng.choice(PLACES[market.locale]))[0]


def email_for(given: str, family: str, domain: str, rng: random.Random) -> str:
    first, last = ascii_slug(given) or "info", ascii_slug(family.split(" ")[0]) or "mail"
    pattern = rng.choice(["{f}.{l}", "{f}{l}", "{f0}{l}", "{f}.{l}{n}", "{l}{n}"])
    return pattern.format(f=first, l=last, f0=first[0], n=rng.randint(1, 99)) + "@" + domain


def address_for(fake: Faker, market: Market, kind: str, place: Place | None = None, rng: random.Random | None = None) -> dict[str, str]:
    """A street from Faker in a real city of the market, with that city's region and a postcode of its range."""
    rng = rng or random.Random(fake.random.random())
    place = place or rng.choice(PLACES[market.locale])
    return {
        "kind": kind, "street": fake.street_address(), "city": place.city, "region": place.region,
        "postal_code": place.postcode(rng), "country": market.region,
    }


def working_time(rng: random.Random, *, days_ago: int, now: dt.datetime) -> dt.datetime:
    """A moment on a weekday ``days_ago`` days back (or earlier), between 8:30 and 18:30 on the
    clock the team reads, never after ``now``: when salespeople call and visit."""
    local_now = timezone.localtime(now)
    day = local_now.date() - dt.timedelta(days=days_ago)
    while day.weekday() >= 5:  # a Saturday or Sunday moves back to Friday
        day -= dt.timedelta(days=1)
    minutes = rng.randrange(8 * 60 + 30, 18 * 60 + 30, 5)
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60)), timezone.get_current_timezone())
    if moment > now:  # today, later than now: the morning of the previous weekday instead
        return working_time(rng, days_ago=days_ago + 1, now=now)
    return moment


# --- fact values --------------------------------------------------------------------------------

# Free-text facts by catalog key and language ("es" serves Spain and Mexico). Keys not listed
# fall back to the market's general phrases.
TEXTS: dict[str, dict[str, tuple[str, ...]]] = {
    "business_scope": {
        "es": ("Venta al por mayor de materiales de construcción", "Distribución de bebidas y abarrotes", "Ferretería y herramientas para profesionales"),
        "zh": ("建材批发", "食品饮料批发与配送", "五金工具零售"),
        "ro": ("Comerț cu ridicata de materiale de construcții", "Distribuție de băuturi și alimente", "Feronerie și scule profesionale"),
        "en": ("Wholesale of building materials", "Beverage and grocery distribution", "Hardware and professional tools"),
    },
    "main_suppliers": {
        "es": ("Cementos Molins y dos mayoristas locales", "Proveedor nacional, contrato anual"), "zh": ("海螺水泥和两家本地批发商", "一家全国性供应商，年度合同"),
        "ro": ("Holcim și doi angrosiști locali", "Un furnizor național, contract anual"), "en": ("Two regional wholesalers", "One national supplier on a yearly contract"),
    },
    "decision_process": {
        "es": ("El dueño aprueba todo lo que pasa de 5.000", "Compras propone, dirección firma"), "zh": ("超过五千元需老板批准", "采购部提议，总经理签字"),
        "ro": ("Patronul aprobă tot ce depășește 5.000", "Achizițiile propun, directorul semnează"), "en": ("The owner signs anything above 5,000", "Purchasing proposes, the GM signs"),
    },
    "hobbies": {
        "es": ("Pesca y fotografía", "Le encanta el flamenco", "Coleccionista de vinos"), "zh": ("钓鱼和摄影", "喜欢书法", "收藏茶叶"),
        "ro": ("Pescuit și fotografie", "Îi place drumețiile la munte", "Colecționează vinuri"), "en": ("Fishing and photography", "Plays jazz piano", "Collects vintage cars"),
    },
    "sports": {
        "es": ("Aficionado del Athletic", "Juega al pádel los sábados", "Fan de las Chivas"), "zh": ("喜欢打乒乓球", "每周打羽毛球", "关注中超联赛"),
        "ro": ("Suporter Steaua", "Joacă tenis duminica"), "en": ("Red Sox fan", "Plays golf on Fridays"),
    },
    "food_preferences": {
        "es": ("Marisco; no bebe alcohol", "Tacos al pastor en El Califa"), "zh": ("喜欢川菜，不喝酒", "爱吃本帮菜"),
        "ro": ("Sarmale și vin roșu", "Vegetarian"), "en": ("Steakhouses; no alcohol", "Vegetarian, likes Thai food"),
    },
    "pets": {"es": ("Dos perros labradores", "Un gato persa"), "zh": ("养了一只金毛", "有一只猫"), "ro": ("Un ciobănesc german",), "en": ("Two labradors", "A rescue cat")},
    "education": {
        "es": ("Ingeniería industrial, Universidad de Oviedo", "MBA por el IPADE"), "zh": ("浙江大学工商管理", "同济大学土木工程"),
        "ro": ("Politehnica București, construcții", "ASE, marketing"), "en": ("BBA, Boston University", "Civil engineering, Penn State"),
    },
    "children": {"es": ("Lucía (8) y Pablo (12)",), "zh": ("一个儿子，十岁",), "ro": ("Două fete, 6 și 9 ani",), "en": ("Two boys, 7 and 10",)},
    "psychological_type": {
        "es": ("Cauteloso, pide datos antes de decidir", "Decide rápido, odia las reuniones largas"), "zh": ("谨慎，决定前要看数据", "决策快，不喜欢长会"),
        "ro": ("Prudent, cere cifre înainte de decizie",), "en": ("Cautious, wants numbers before deciding", "Decides fast, dislikes long meetings"),
    },
    "best_time_to_contact": {"es": ("Mañanas antes de las 11", "Martes por la tarde"), "zh": ("上午十点前", "周二下午"), "ro": ("Dimineața devreme",), "en": ("Mornings before 11", "Tuesday afternoons")},
    "gift_preferences": {"es": ("Vino de Rioja; límite de 50 € por política interna",), "zh": ("好茶叶；公司规定礼品不超过两百元",), "ro": ("Vin bun; limită de 200 lei",), "en": ("Good coffee; company limit of $50",)},
    "health": {"es": ("Operado de la rodilla en primavera",), "zh": ("春天做过膝盖手术",), "ro": ("Operat la genunchi în primăvară",), "en": ("Knee surgery last spring",)},
    "accessibility_needs": {"es": ("Prefiere reuniones en planta baja",), "zh": ("希望在一楼开会",), "ro": ("Preferă întâlniri la parter",), "en": ("Prefers ground-floor meeting rooms",)},
    "individual_needs": {
        "es": ("Reformar la cocina antes del verano", "Busca un proveedor con entrega en 24 h"), "zh": ("夏天前装修厨房", "需要二十四小时送货"),
        "ro": ("Renovează bucătăria până în vară",), "en": ("Remodel the kitchen before summer", "Needs next-day delivery"),
    },
    "procurement_policy": {
        "es": ("Tres presupuestos para compras de más de 10.000", "Solo proveedores homologados"), "zh": ("超过一万元需三家报价", "只用合格供应商名单"),
        "ro": ("Trei oferte pentru achiziții peste 10.000", "Doar furnizori agreați"), "en": ("Three quotes above 10,000", "Approved-supplier list only"),
    },
    "current_purchase_plans": {
        "es": ("Renovar la flota de reparto este año", "Ampliar el almacén en otoño"), "zh": ("今年更新送货车队", "秋天扩建仓库"),
        "ro": ("Își reînnoiește flota anul acesta",), "en": ("Replacing the delivery fleet this year", "Expanding the warehouse in the autumn"),
    },
    "products_carried": {
        "es": ("Cemento, yeso, azulejos", "Bebidas, conservas, limpieza"), "zh": ("水泥、石膏、瓷砖", "饮料、罐头、清洁用品"),
        "ro": ("Ciment, gips, gresie", "Băuturi, conserve, detergenți"), "en": ("Cement, drywall, tiles", "Beverages, canned food, cleaning"),
    },
    "goods_receiving_hours": {"es": ("Lunes a viernes de 8 a 14",), "zh": ("周一至周五 8:00–14:00",), "ro": ("Luni–vineri 8–14",), "en": ("Mon–Fri 8 am–2 pm",)},
    "vacation_plans": {"es": ("Agosto en Cádiz",), "zh": ("国庆节去三亚",), "ro": ("August la Mamaia",), "en": ("Two weeks in Florida in July",)},
    "achievements": {"es": ("Premio al mejor distribuidor regional 2022",), "zh": ("2022年优秀经销商",), "ro": ("Premiul pentru cel mai bun distribuitor 2022",), "en": ("Regional dealer of the year 2022",)},
    "likes_dislikes": {
        "es": ("Valora la puntualidad; odia las llamadas en frío",), "zh": ("重视守时，不喜欢陌生电话",),
        "ro": ("Apreciază punctualitatea; nu suportă apelurile la rece",), "en": ("Values punctuality; hates cold calls",),
    },
    "attitude_to_suppliers": {
        "es": ("Leal a su proveedor actual desde hace diez años",), "zh": ("十年来一直忠于现有供应商",),
        "ro": ("Loial furnizorului actual de zece ani",), "en": ("Loyal to the current supplier for ten years",),
    },
    "career_prospects": {"es": ("Candidato a director comercial",), "zh": ("可能升任销售总监",), "ro": ("Candidat la postul de director comercial",), "en": ("Tipped to become sales director",)},
    "economic_situation": {"es": ("Ingresos estables, hipoteca reciente",), "zh": ("收入稳定，刚买房",), "ro": ("Venit stabil, credit ipotecar recent",), "en": ("Stable income, recent mortgage",)},
    "special_circumstances": {"es": ("Se muda en septiembre",), "zh": ("九月搬家",), "ro": ("Se mută în septembrie",), "en": ("Moving house in September",)},
    "preferred_brands": {"es": ("Bosch, Makita",), "zh": ("美的、格力",), "ro": ("Bosch, Arctic",), "en": ("DeWalt, Milwaukee",)},
}
NATIONALITY = {"ES": "española", "MX": "mexicana", "CN": "中国", "RO": "română", "US": "American"}
# Text items with a plausible generator besides TEXTS (see ValueMaker.text).
GENERATED_TEXT = {
    "spouse_name", "nickname", "employer", "customer_base", "main_competitors", "owners_shareholders", "occupation",
    "formal_position", "previous_jobs", "birth_place", "markets_served", "frequented_places", "tax_id", "nationality",
    "loyalty_card",
}
NOT_IN_DEMO = {"ethnicity", "sexual_orientation", "political_opinions", "religion", "trade_union_membership"}


def language_of(market: Market) -> str:
    return {"es_ES": "es", "es_MX": "es", "zh_CN": "zh", "ro_RO": "ro"}.get(market.locale, "en")


def tax_id(rng: random.Random, region: str) -> str:
    """A registration number in the country's usual shape (not a real, checksummed one)."""
    digits = lambda n: "".join(rng.choice("0123456789") for _ in range(n))
    letters = lambda n: "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(n))
    return {
        "ES": f"B{digits(8)}", "MX": f"{letters(3)}{digits(6)}{letters(2)}{digits(1)}", "CN": f"91{digits(6)}{letters(2)}{digits(8)}",
        "RO": f"RO{digits(8)}", "US": f"{digits(2)}-{digits(7)}",
    }.get(region, digits(9))


class ValueMaker:
    """A plausible value for any catalog item, of the item's type, in the market's language."""

    def __init__(self, rng: random.Random, phones: PhoneMaker) -> None:
        self.rng = rng
        self.phones = phones

    def value(self, item: InformationItem, market: Market, *, fake: Faker | None = None, person_ids: list[int] | None = None) -> Any:
        rng, key = self.rng, item.key
        kind = item.type
        if kind == ItemType.CHOICE:
            return rng.choice(item.choices)["key"]
        if kind == ItemType.MULTI_CHOICE:
            keys = [c["key"] for c in item.choices]
            return rng.sample(keys, k=rng.randint(1, min(3, len(keys))))
        if kind == ItemType.MONEY:
            scale = 1_000_000 if any(w in key for w in ("volume", "turnover", "asset", "capital", "budget")) else 20_000
            factor = {"MXN": 18, "CNY": 7, "RON": 4.6}.get(market.currency, 1)
            return {"amount": f"{rng.randint(1, 500) * scale * factor / 100:.2f}", "currency": market.currency}
        if kind == ItemType.NUMBER:
            if "year" in key:
                return rng.randint(1950, 2022)
            if "share" in key or "percent" in key:
                return rng.randint(1, 60)
            if "employee" in key:
                return rng.choice([4, 8, 12, 25, 40, 80, 150, 400, 1200])
            if "household" in key:
                return rng.randint(1, 6)
            return rng.randint(1, 40)
        if kind == ItemType.DATE:
            today = timezone.localdate()
            if "birth" in key:
                return dt.date(rng.randint(1955, 2000), rng.randint(1, 12), rng.randint(1, 28)).isoformat()
            if "end" in key or "next" in key:
                return (today + dt.timedelta(days=rng.randint(10, 400))).isoformat()
            return (today - dt.timedelta(days=rng.randint(30, 20 * 365))).isoformat()
        if kind == ItemType.URL:
            slug = ascii_slug(fake.last_name() if fake else "")[:20] or f"portal{rng.randint(1, 999)}"
            return f"https://www.{slug}.{market.tld}/"
        if kind == ItemType.PHONE:
            return self.phones.typed(self.phones.number(market.region, mobile="direct" in key), "e164")
        if kind == ItemType.EMAIL:
            local = ascii_slug(fake.first_name() if fake else "")[:12] or f"contacto{rng.randint(1, 999)}"
            return f"{local}@{rng.choice(market.mail_domains)}"
        if kind == ItemType.PERSON:
            return rng.choice(person_ids) if person_ids else None
        return self.text(key, market, fake)

    def text(self, key: str, market: Market, fake: Faker | None) -> str:
        rng = self.rng
        samples = TEXTS.get(key, {}).get(language_of(market))
        if samples:
            return rng.choice(samples)
        if fake is not None:
            if key in ("spouse_name", "nickname"):
                return fake.first_name()
            if key in ("employer", "customer_base", "main_competitors", "owners_shareholders"):
                return fake.company()
            if key in ("occupation", "formal_position", "previous_jobs"):
                return rng.choice(market.titles)[0] if key == "formal_position" else fake.job()
            if key in ("birth_place", "markets_served", "frequented_places"):
                return fake.city()
        if key == "tax_id":
            return tax_id(rng, market.region)
        if key == "nationality":
            return NATIONALITY[market.region]
        if key == "loyalty_card":
            return "".join(rng.choice("0123456789") for _ in range(12))
        return rng.choice(market.phrases)


# --- the demo -----------------------------------------------------------------------------------


@dataclass
class DemoResult:
    skipped: bool = False
    organizations: int = 0
    people: int = 0
    facts: int = 0
    activities: int = 0
    duplicates: int = 0
    users: dict[str, User] = field(default_factory=dict)


def demo_exists() -> bool:
    return User.objects.filter(username=ADMIN).exists()


def generate(*, organizations: int = 60, people: int = 300, seed: int = 42, password: str = DEMO_PASSWORD) -> DemoResult:
    """Creates the demo teams, users and customers, unless user "admin" already exists."""
    if demo_exists():
        return DemoResult(skipped=True)
    with transaction.atomic():  # one commit: much faster on SQLite, and no half demo after a crash
        return _Demo(seed, password).run(organizations, people)


class _Demo:
    def __init__(self, seed: int, password: str) -> None:
        self.rng = random.Random(seed)
        self.password = password
        self.fakers = {}
        for i, market in enumerate(MARKETS):
            fake = Faker(market.locale)
            fake.seed_instance(seed * 100 + i)
            self.fakers[market.locale] = fake
        self.phones = PhoneMaker(self.rng)
        self.values = ValueMaker(self.rng, self.phones)
        self.result = DemoResult()
        self.now = timezone.now()

    # users ---------------------------------------------------------------------------------------

    def _users(self) -> dict[str, User]:
        from rapport.accounts.services import create_user

        market_of_team = {m.team: m for m in MARKETS}
        users = {}
        for login in LOGINS:
            market = market_of_team.get((login.teams or login.manages or ("",))[0])
            user = create_user(
                username=login.username, role=login.role, password=self.password, teams=list(login.teams),
                manages=list(login.manages), email=f"{login.username}@rapport.example", validate=False,
                language=market.language if market else "en",
            )
            if login.sensitive:
                # No clearance use-case in accounts.services yet; the demo sets the one flag.
                User.objects.filter(pk=user.pk).update(can_see_special=True)
                user.can_see_special = True
            users[login.username] = user
        self.result.users = users
        return users

    def _reps(self, market: Market) -> list[User]:
        return [self.result.users[l.username] for l in LOGINS if market.team in l.teams and l.role == "rep"]

    # cards ---------------------------------------------------------------------------------------

    def run(self, organizations: int, people: int) -> DemoResult:
        from rapport.cards import services

        self._users()
        orgs: list[tuple[Any, Market, User]] = []
        for i in range(organizations):
            market = MARKETS[i % len(MARKETS)]
            fake = self.fakers[market.locale]
            owner = self.rng.choice(self._reps(market))
            kind = self.rng.choice(["distributor", "dealer", "shop"])
            place = self.rng.choice(PLACES[market.locale])
            name, industry = organization_for(fake, market, self.rng, kind, place)
            slug = ascii_slug(name)[:24] or f"org{i}"
            addresses = [address_for(fake, market, "office", place, self.rng)]
            if kind == "distributor":  # the warehouse usually lies in the same city or the next one
                addresses.append(address_for(fake, market, "warehouse", rng=self.rng))
            card = services.create_organization(user=owner, data={
                "name": name,
                "website": f"https://www.{slug}.{market.tld}",
                "phones": [{"number": self.phones.typed(self.phones.number(market.region, mobile=False)), "kind": "work"}],
                "emails": [f"info@{slug}.{market.tld}"],
                "addresses": addresses,
                "industry": industry,
                "size_band": self.rng.choice(SIZE_BANDS),
                "tier": weighted(self.rng, TIERS),
                "lifecycle_stage": weighted(self.rng, STAGES),
                "region": market.region,
            })
            orgs.append((card, market, owner))
            self._facts(card, market, owner)
        persons: list[tuple[Any, Market, User]] = []
        for i in range(people):
            market = MARKETS[i % len(MARKETS)]
            persons.append(self._person(market, [o for o in orgs if o[1] is market]))
        self._activities(orgs + persons)
        from rapport.relationships.demo import add_decision_units

        add_decision_units(organizations=orgs)
        self._shares(orgs + persons)
        self._duplicates(persons)
        from rapport.funnel.demo import enrich  # how cards were found, referrals, stage history

        enrich(self.rng.randint(0, 2**31))
        from rapport.commerce.demo import add_commerce  # products, orders, invoices, payments, collection work

        add_commerce(self.rng.randint(0, 2**31))
        from rapport.analytics.demo import add_promotions  # two promotions over the demo's orders

        add_promotions()
        from rapport.deals.demo import add_deals  # a dozen deals over the six steps, one won and one lost

        add_deals(self.rng.randint(0, 2**31))
        from rapport.visits.demo import add_visits  # sites, start points, ten weeks of visits, today's plan

        with translation.override(translation.get_language()):  # it switches to each team's language
            add_visits(self.rng.randint(0, 2**31))
        from rapport.dedup.demo import queue_duplicates  # the deliberate duplicates in the review queue

        queue_duplicates()
        self.result.organizations = organizations
        self.result.people = people
        return self.result

    def _person(self, market: Market, market_orgs: list[tuple[Any, Market, User]]) -> tuple[Any, Market, User]:
        from rapport.cards import services

        fake = self.fakers[market.locale]
        rng = self.rng
        employer = rng.choice(market_orgs) if market_orgs and rng.random() < 0.7 else None
        owner = employer[2] if employer else rng.choice(self._reps(market))
        names = person_name(fake, market, rng)
        domain = ascii_slug(employer[0].display_name)[:24] + "." + market.tld if employer else rng.choice(market.mail_domains)
        data: dict[str, Any] = {
            **names,
            "phones": [self.phones.typed(self.phones.number(market.region))],
            "emails": [email_for(names["given_name"], names["family_name"], domain, rng)],
            "tier": weighted(rng, TIERS),
            "lifecycle_stage": weighted(rng, STAGES),
            "region": market.region,
        }
        if not employer:
            data["addresses"] = [address_for(fake, market, "home", rng=self.rng)]
        card = services.create_person(user=owner, data=data)
        if employer:
            title, level, function = rng.choice(market.titles)
            started = self.now.date() - dt.timedelta(days=rng.randint(60, 3650))
            services.add_employment(user=owner, person=card, data={
                "organization": employer[0].id, "title": title, "level": level, "function": function,
                "started_on": started.isoformat(),
            })
            self._link_role(owner, employer[0], card, level, function)
            others = [o for o in market_orgs if o[0].id != employer[0].id and o[2].id == owner.id]
            if others and rng.random() < 0.15:  # a previous job, ended before this one began
                before = rng.choice(others)[0]
                services.add_employment(user=owner, person=card, data={
                    "organization": before.id, "title": rng.choice(market.titles)[0],
                    "started_on": (started - dt.timedelta(days=rng.randint(400, 2000))).isoformat(),
                    "ended_on": (started - dt.timedelta(days=rng.randint(1, 60))).isoformat(),
                })
        self._facts(card, market, owner)
        return card, market, owner

    # facts ---------------------------------------------------------------------------------------

    def _facts(self, card: Any, market: Market, owner: User) -> None:
        from rapport.cards import services

        rng = self.rng
        admin = self.result.users[ADMIN]
        # Real-world sources only; "import", "api" and "demo" describe how data arrived, not where it came from.
        sources = [k for k in catalog.sources() if k not in ("import", "api", "demo")]
        items = [
            i for i in catalog.items().values()
            if i.applies_to in ("any", card.kind) and i.key not in NOT_IN_DEMO
            and (i.type != ItemType.TEXT or i.key in TEXTS or i.key in GENERATED_TEXT)
            and (i.sensitivity != Sensitivity.SPECIAL or rng.random() < 0.05)
        ]
        if not items or not sources:
            return
        for item in rng.sample(items, k=min(len(items), rng.randint(3, 8))):
            # Special-category items need clearance the reps lack: the privacy officer records them.
            writer = admin if item.sensitivity == Sensitivity.SPECIAL else owner
            if item.type == ItemType.PERSON:
                continue  # decision makers and buyers are linked once the people exist (see _person)
            fake = self.fakers[market.locale]
            value = self.values.value(item, market, fake=fake)
            if value is None:
                continue
            observed = self.now - dt.timedelta(days=rng.randint(1, 700))
            source = rng.choice(sources)
            services.add_fact(
                user=writer, card=card, item_key=item.key, value=value, source_key=source,
                observed_at=observed, confidence=rng.choice([None, 40, 60, 80, 95]),
                verified=rng.random() < 0.1, legal_basis=_demo_consent(item, observed),
            )
            self.result.facts += 1
            if rng.random() < 0.15:
                # Another source says something else: the conflicts the card flags for checking.
                other = self.values.value(item, market, fake=fake)
                if other is not None and other != value:
                    services.add_fact(
                        user=writer, card=card, item_key=item.key, value=other, legal_basis=_demo_consent(item, observed),
                        source_key=rng.choice([s for s in sources if s != source] or sources),
                        observed_at=min(observed + dt.timedelta(days=rng.randint(1, 60)), self.now),
                        confidence=rng.choice([30, 50, 70]),
                    )
                    self.result.facts += 1

    def _link_role(self, owner: User, org: Any, person: Any, level: str, function: str) -> None:
        """The organisation's decision maker and buyer are facts pointing at person cards."""
        from rapport.cards import services

        items = catalog.items()
        for key, wanted in (("main_decision_maker", level == "decision"), ("purchasing_contact", function == "procurement_finance")):
            if wanted and key in items and key not in (org.profile or {}):
                services.add_fact(user=owner, card=org, item_key=key, value=person.id, source_key="rep_observation"
                                  if "rep_observation" in catalog.sources() else next(iter(catalog.sources())))
                self.result.facts += 1

    # activities, shares, duplicates ----------------------------------------------------------------

    def _activities(self, cards: list[tuple[Any, Market, User]]) -> None:
        from rapport.activities.models import ActivityKind
        from rapport.activities.services import log_activity

        rng = self.rng
        kinds = list(ActivityKind.values)
        for n, (card, market, owner) in enumerate(cards):
            count = rng.choice([0, 1, 1, 2, 3, 4]) if n >= len(kinds) else 1
            for j in range(count):
                kind = kinds[n] if n < len(kinds) and j == 0 else rng.choice(kinds)  # every kind at least once
                summaries = market.summaries.get(kind) or (kind,)
                participants = [card.id]
                if card.kind == "person" and rng.random() < 0.5:
                    employer = card.employments.filter(ended_on__isnull=True).values_list("organization_id", flat=True).first()
                    if employer:
                        participants.append(employer)
                log_activity(user=owner, data={
                    "kind": kind,
                    "summary": rng.choice(summaries),
                    "details": rng.choice(market.phrases),
                    "occurred_at": working_time(rng, days_ago=rng.randint(0, 365), now=self.now).isoformat(),
                    "cards": participants,
                })
                self.result.activities += 1

    def _shares(self, cards: list[tuple[Any, Market, User]]) -> None:
        from rapport.cards.services import share_card

        rng = self.rng
        teams = {t.name: t for t in Team.objects.all()}
        for card, market, owner in cards:
            if rng.random() < 0.05:
                other = rng.choice([m for m in MARKETS if m is not market])
                share_card(user=owner, card=card, with_team=teams[other.team])

    def _duplicates(self, persons: list[tuple[Any, Market, User]]) -> None:
        """The same person entered twice: a typo in the name, the phone typed another way."""
        from rapport.cards import services

        rng = self.rng
        for card, market, owner in rng.sample(persons, k=min(len(persons), max(1, len(persons) // 60))):
            phone = card.phones.first()
            email = card.emails.first()
            family = card.family_name
            if len(family) > 3:
                i = rng.randint(1, len(family) - 2)
                family = family[:i] + family[i + 1] + family[i] + family[i + 2 :]  # two letters swapped
            data: dict[str, Any] = {
                "given_name": card.given_name, "family_name": family, "local_name": card.local_name,
                "tier": card.tier, "lifecycle_stage": card.lifecycle_stage, "region": market.region,
            }
            if phone:
                number = phonenumbers.parse(phone.e164)
                data["phones"] = [self.phones.typed(number, "international" if not phone.raw.startswith("+") else "national")]
            if email and rng.random() < 0.5:
                data["emails"] = [email.address.upper()]
            services.create_person(user=owner, data=data)
            self.result.duplicates += 1


def _demo_consent(item: Any, observed: dt.datetime) -> dict[str, str] | None:
    """Special-category items are recorded with the person's explicit consent (DESIGN.md C10)."""
    if item.sensitivity != Sensitivity.SPECIAL:
        return None
    return {
        "basis": "explicit_consent",
        "obtained_at": observed.date().isoformat(),
        "wording": "I agree that my account manager records this to serve me better.",
    }
