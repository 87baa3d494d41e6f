"""CSV files in the encodings and delimiters people actually send."""

from __future__ import annotations

import codecs
from typing import Any

import pytest

from rapport.cards.models import Card
from rapport.imports.readers import detect_encoding

ROWS = [("Şerban", "Dumitrescu", "+40 721 123 456"), ("Łukasz", "Żółć", "+48 601 234 567"), ("José", "Pérez", "+34 612 345 678")]


def csv_text(delimiter: str = ",") -> str:
    lines = [delimiter.join(["First Name", "Last Name", "Mobile Phone"])]
    lines += [delimiter.join(row) for row in ROWS]
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize(
    "encoding, prefix",
    [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16", b""), ("utf-16-le", b""), ("cp1250", b"")],
)
def test_central_european_names_survive_every_encoding(run: Any, encoding: str, prefix: bytes) -> None:
    job = run(prefix + csv_text().encode(encoding))
    assert job.created_count == 3, job.message
    names = set(Card.objects.values_list("display_name", flat=True))
    assert names == {"Şerban Dumitrescu", "Łukasz Żółć", "José Pérez"}


def test_a_windows_1252_file_from_an_old_excel_is_read_as_such(run: Any) -> None:
    text = "First Name,Last Name,Business Phone\r\n" + "".join(
        f"{given},{family},+34 91 555 12{i:02d}\r\n"
        for i, (given, family) in enumerate([("José", "Muñoz"), ("Françoise", "Lefèvre"), ("Ángel", "Peña Ibáñez")] * 10)
    )
    job = run(text.encode("cp1252"))
    assert job.error_count == 0
    assert Card.objects.filter(display_name="Françoise Lefèvre").exists()
    assert Card.objects.filter(display_name="Ángel Peña Ibáñez").exists()


def test_a_gb18030_file_keeps_its_chinese_names(run: Any) -> None:
    text = "姓名,手机,公司\r\n" + "".join(f"{name},138{i:08d},华为技术有限公司\r\n" for i, name in enumerate(["王小明", "李娜", "张伟", "刘洋"] * 5))
    job = run(text.encode("gb18030"), kind="people", region="CN")
    assert job.created_count == 20, job.message
    assert Card.objects.filter(local_name="王小明").count() == 5


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_detected(run: Any, delimiter: str) -> None:
    job = run(csv_text(delimiter))
    assert job.created_count == 3
    assert Card.objects.get(display_name="José Pérez").phones.get().e164 == "+34612345678"


def test_utf16_without_bom_is_recognised_by_its_zero_bytes() -> None:
    assert detect_encoding("Name,Phone\r\nAna,1\r\n".encode("utf-16-le")) == "utf-16-le"


def test_quoted_cells_may_hold_delimiters_and_line_breaks(run: Any) -> None:
    job = run('Company,Street\r\n"Frutas, Hermanos S.L.","Calle Mayor 1\nBajo"\r\n', kind="organizations")
    card = Card.objects.get()
    assert (job.created_count, card.display_name) == (1, "Frutas, Hermanos S.L.")
    assert card.addresses.get().street == "Calle Mayor 1\nBajo"
