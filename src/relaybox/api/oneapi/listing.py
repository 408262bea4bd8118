"""What the contact book's listings share (`/api/contacts`, `/api/groups`, `/api/stoplist`, each
with its `/search`): paging and sorting read from the query, the search criteria, and the two
answers.

- A plain listing answers `{"data": [...], "total": N}` (the spec's `Contacts200Response`,
  `ContactLists200Response`, `StoplistItems200Response`).
- A search answers `{"data": [...], "meta": {"page": {"total", "offset", "limit"}, "search":
  {"field", "operator", "value"}}}`, `search` echoing the first criterion and absent without one
  (`ContactsSearch200Response`, `ContactListSearch200Response`, `StoplistSearch200Response`).

Criteria come as `search[field|operator|value]` and `search_fields[N][field|operator|value]`
(N < MAX_CRITERIA); the services check them (`services/contacts.py:check_criteria`) and give back
the checked ones, which the answer echoes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from relaybox.api.common import json_response
from relaybox.api.oneapi.params import ListParams
from relaybox.domain.contacts import Criterion
from relaybox.services.contacts import RawCriterion

#: The smallest `page[limit]` of the contact book's listings (the spec's bound); the largest is 500.
MIN_LIMIT = 15
#: `search_fields[N]`: how many criteria one request may give (relaybox's bound).
MAX_CRITERIA = 10


def raw_criteria(query: QueryParams) -> list[RawCriterion]:
    """`search[field|operator|value]` and `search_fields[N][field|operator|value]` (N < 10), as
    given: the services check them."""
    found = [RawCriterion("search", query.get("search[field]"), query.get("search[operator]"),
                          query.get("search[value]"))]
    for n in range(MAX_CRITERIA):
        prefix = f"search_fields[{n}]"
        found.append(RawCriterion(f"search_fields.{n}", query.get(f"{prefix}[field]"),
                                  query.get(f"{prefix}[operator]"), query.get(f"{prefix}[value]")))
    return found


def search_meta(criteria: list[Criterion]) -> dict | None:
    """The first criterion, as the spec's `meta.search` echoes it."""
    if not criteria:
        return None
    c = criteria[0]
    return {"field": c.raw_field, "operator": c.operator, "value": c.raw_value}


def page_meta(total: int, offset: int, limit: int, criteria: list[Criterion]) -> dict:
    """A search answer's `meta`: the page, and the first criterion when there is one."""
    meta: dict = {"page": {"total": total, "offset": offset, "limit": limit}}
    search = search_meta(criteria)
    if search is not None:
        meta["search"] = search
    return meta


class Listing(ListParams):
    """One listing request of the contact book: `page[offset]`, `page[limit]` (MIN_LIMIT to 500,
    default `default_limit`), `sort` (one of `sorts`, default `id`) and `way`. A handler may read
    parameters of its own through ListParams (`integer`, `choice`) before `check()`, which raises
    ValidationFailed with every bad parameter's path at once."""

    def __init__(self, request: Request, *, sorts: Sequence[str] = ("id",), default_limit: int = 50):
        super().__init__(request.query_params, sorts=sorts, min_limit=MIN_LIMIT, default_limit=default_limit)

    @property
    def criteria(self) -> list[RawCriterion]:
        """The request's search criteria, unchecked."""
        return raw_criteria(self.query)

    @property
    def window(self) -> dict:
        """The page asked for, as the services' `find_*` take it: `offset`, `limit`."""
        return {"offset": self.offset, "limit": self.limit}

    @property
    def ordered_window(self) -> dict:
        """The page and its order, as the services' `find_*` take them: `sort`, `descending`,
        `offset`, `limit`."""
        return {"sort": self.sort, "descending": self.descending, **self.window}

    def page(self, found: Iterable, total: int, shape: Callable[..., dict]) -> Response:
        """A plain listing's answer: each of `found` in `shape`, and the total."""
        return json_response({"data": [shape(item) for item in found], "total": total})

    def search_page(self, found: Iterable, total: int, criteria: list[Criterion],
                    shape: Callable[..., dict]) -> Response:
        """A search's answer: each of `found` in `shape`, the page and the first checked criterion."""
        return json_response({"data": [shape(item) for item in found],
                              "meta": page_meta(total, self.offset, self.limit, criteria)})
