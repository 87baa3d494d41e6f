"""Domain errors raised by services and selectors, mapped to HTTP by the API and views."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a user can cause and fix."""


class NotFound(DomainError):
    """The record does not exist or the user may not see it (the two are indistinguishable)."""

    def __init__(self, what: str = "record") -> None:
        super().__init__(f"{what} not found")
        self.what = what


class PermissionDenied(DomainError):
    """The user sees the record but may not perform this action on it."""


class ValidationError(DomainError):
    """Input failed validation; ``errors`` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]] | str, field: str | None = None) -> None:
        if isinstance(errors, str):
            errors = {field or "__all__": [errors]}
        self.errors: dict[str, list[str]] = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))

    @classmethod
    def single(cls, field: str, message: str) -> "ValidationError":
        return cls({field: [message]})


class Conflict(DomainError):
    """The record changed since the user read it."""


class PreconditionRequired(DomainError):
    """An update that must say which version it is based on (If-Match) did not."""
