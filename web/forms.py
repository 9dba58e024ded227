"""Forms: what a person typed, read from the visit's parsed body, and the field errors to show
next to each input. The domain names the field of every error (`FieldError.field`), so the
page can put each message under its input and leave the others alone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

from litestar import Request

from domain.errors import FieldError, InvalidFields
from web.visit import visit_of


class Form:
    """The fields of a submitted form (or a form about to be shown) and their errors."""

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.values: dict[str, Any] = dict(values or {})
        self.errors: dict[str, str] = {}

    @classmethod
    def of(cls, request: Request[Any, Any, Any]) -> Form:
        form = visit_of(request).form
        values: dict[str, Any] = {}
        if form is not None:
            for key in form:
                items = [v for v in form.getall(key) if isinstance(v, str)]
                values[key] = items if len(items) > 1 else (items[0] if items else "")
        return cls(values)

    def text(self, name: str) -> str:
        value = self.values.get(name, "")
        if isinstance(value, list):
            value = value[0] if value else ""
        return str(value)

    def optional(self, name: str) -> str | None:
        text = self.text(name).strip()
        return text or None

    def many(self, name: str) -> list[str]:
        value = self.values.get(name, [])
        return [v for v in (value if isinstance(value, list) else [value]) if v]

    def date(self, name: str) -> date | None:
        text = self.text(name).strip()
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.errors[name] = "must be a date (YYYY-MM-DD)"
            return None

    def uuid(self, name: str) -> UUID | None:
        text = self.text(name).strip()
        if not text:
            return None
        try:
            return UUID(text)
        except ValueError:
            self.errors[name] = "is not one of the choices"
            return None

    def uuids(self, name: str) -> list[UUID]:
        found = []
        for text in self.many(name):
            try:
                found.append(UUID(text))
            except ValueError:
                self.errors[name] = "is not one of the choices"
        return found

    def choice(self, name: str, choices: Iterable[str]) -> str | None:
        text = self.text(name).strip()
        if not text:
            return None
        if text not in set(choices):
            self.errors[name] = "is not one of the choices"
            return None
        return text

    def tags(self, name: str) -> list[str]:
        """Tags as people type them: separated by commas or spaces."""
        return [t for t in self.text(name).replace(",", " ").split() if t]

    def fail(self, error: InvalidFields | Iterable[FieldError], rename: dict[str, str] | None = None
             ) -> None:
        """Put each field's first message under its input (`rename` maps the domain's field
        names to the form's where they differ)."""
        errors = error.errors if isinstance(error, InvalidFields) else error
        for e in errors:
            name = (rename or {}).get(e.field, e.field)
            self.errors.setdefault(name, e.message)

    @property
    def ok(self) -> bool:
        return not self.errors
