"""Import and export kinds that other apps add to the pipeline (commerce: products, orders…).

The imports app sits below the apps whose records it reads, so it never imports them: an app
registers its kinds here from ``AppConfig.ready()``. The pipeline keeps what every kind shares
(reading the file, the column mapping, batches of one transaction each, dry runs, the job's
counts, its error file and its revert); a kind turns the rows of a batch into its records and
says what each row did. Organisations and people are built in and do not go through here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from django.utils.functional import Promise

from rapport.imports.readers import SourceRow

if TYPE_CHECKING:
    from rapport.accounts.models import User
    from rapport.imports.models import ImportJob


class Outcome(Protocol):
    """What a kind reports about the rows of a batch; the pipeline counts and records it."""

    def created(self, rows: list[int], name: str) -> None: ...

    def updated(self, rows: list[int], name: str) -> None: ...

    def unchanged(self, rows: list[int], name: str) -> None: ...

    def error(self, row: int, column: str, reason: str, value: str = "") -> None: ...


class KindRunner(Protocol):
    """One job's run. ``stage`` needs no database (it may run in the import's worker process,
    batch after batch, keeping state between them); ``write`` runs in the importing process
    inside the batch's transaction; ``end`` gives what ``stage`` held back at the end of the file."""

    def stage(self, rows: list[SourceRow]) -> Any: ...

    def end(self) -> Any: ...

    def write(self, staged: Any, outcome: Outcome) -> None: ...

    # A runner may also define ``finish() -> str``: called once after the last batch (in a
    # transaction of its own) for work that follows from the whole file; what it returns
    # becomes the job's message.


@dataclass
class KindRevert:
    deleted: int = 0
    restored: int = 0
    kept: int = 0  # records changed since the import, left as they are
    message: str = ""  # what was kept and why, for the job


@dataclass(frozen=True)
class ImportKind:
    key: str  # the job's kind and the CLI's --kind: "orders"
    label: str | Promise
    # (value, label) of every target a column may go to, the empty "ignore" first.
    targets: Callable[[], list[tuple[str, str]]]
    suggest: Callable[[list[str]], dict[str, str]]  # header -> target ("" when not recognised)
    runner: Callable[["ImportJob"], KindRunner]
    revert: Callable[["ImportJob", "User"], KindRevert]
    may_import: Callable[["User"], None]  # raises PermissionDenied for a user who may not
    # Each entry lists alternative targets of which the mapping needs one (a customer by any key).
    required: tuple[tuple[str, ...], ...] = ()
    # Targets whose presence among a file's suggestions says the file holds this kind.
    signature: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class ExportKind:
    key: str
    label: str | Promise
    formats: tuple[str, ...]
    # Writes what ``user`` may export as rows of ``writer`` (header first); returns the row count.
    write: Callable[["User", Any], int]


_IMPORT_KINDS: dict[str, ImportKind] = {}
_EXPORT_KINDS: dict[str, ExportKind] = {}


def register_import_kind(kind: ImportKind) -> None:
    _IMPORT_KINDS[kind.key] = kind


def register_export_kind(kind: ExportKind) -> None:
    _EXPORT_KINDS[kind.key] = kind


def import_kind(key: Any) -> ImportKind | None:
    return _IMPORT_KINDS.get(str(key or ""))


def import_kinds() -> list[ImportKind]:
    return list(_IMPORT_KINDS.values())


def export_kind(key: Any) -> ExportKind | None:
    return _EXPORT_KINDS.get(str(key or ""))


def export_kinds() -> list[ExportKind]:
    return list(_EXPORT_KINDS.values())


def guess(suggestions: Callable[[ImportKind], dict[str, str]]) -> ImportKind | None:
    """The first registered kind whose signature columns a file has, if any."""
    for kind in _IMPORT_KINDS.values():
        if kind.signature and kind.signature <= set(suggestions(kind).values()):
            return kind
    return None

