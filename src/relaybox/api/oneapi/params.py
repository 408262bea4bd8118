"""Query parameters of the One API lists: `page[offset]`, `page[limit]`, `sort`, `way`, filters."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import QueryParams

from relaybox.errors import FieldError, ValidationFailed


class ListParams:
    """The common list query parameters (`page[offset]`, `page[limit]`, `sort`, `way`), read leniently; problems
    collect in `errors` as FieldErrors instead of raising.
    """
    def __init__(self, query: QueryParams, *, sorts: Sequence[str], min_limit: int, max_limit: int = 500, default_limit: int = 50):
        self.query = query
        self.errors: list[FieldError] = []
        self.offset = self.integer("page[offset]", "page.offset", default=0, minimum=0)
        self.limit = self.integer("page[limit]", "page.limit", default=default_limit, minimum=min_limit, maximum=max_limit)
        self.sort = self.choice("sort", "sort", sorts, default="id")
        self.way = self.choice("way", "way", ("asc", "desc"), default="asc")

    @property
    def descending(self) -> bool:
        return self.way == "desc"

    def text(self, name: str) -> str | None:
        value = self.query.get(name)
        return value if value not in (None, "") else None

    def integer(self, name: str, path: str, *, default: int | None = None, minimum: int | None = None,
                maximum: int | None = None) -> int | None:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
            if not -(2**63) <= value < 2**63:  # beyond every id and what the store (and JSON output) can hold
                raise ValueError(raw)
        except ValueError:
            self.errors.append(FieldError(path, f"The {path} must be an integer."))
            return default
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            self.errors.append(FieldError(path, f"The {path} must be {bounds}."))
            return default
        return value

    def choice(self, name: str, path: str, allowed: Sequence[str], *, default: str | None) -> str | None:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        if raw not in allowed:
            self.errors.append(FieldError(path, f"The selected {path} is invalid: use one of {', '.join(allowed)}."))
            return default
        return raw

    def check(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)
