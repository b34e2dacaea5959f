"""HTTP plumbing shared by every route: envelopes, errors, query parameters, filters, pagination, JSON.

Conventions (docs/servicetrade-double.md, with their public sources): bodies are
`{"data": ..., "messages": {...}}`, errors are `{"messages": {"error": ["..."]}, "data": null}`, list
filters are comma-separated, booleans are 1/0/true/false, times are Unix seconds and range filters are inclusive.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypeVar

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from sandbox.servicetrade.store import Store

T = TypeVar("T")
Row = dict[str, Any]

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


class ApiError(Exception):
    """Raised by a handler; becomes the error envelope with `status`."""

    def __init__(self, status: int, message: str, data: Any = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.data = data
        self.headers = headers or {}


def not_found(kind: str, entity_id: object) -> ApiError:
    return ApiError(404, f"{kind} {entity_id} not found")


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        # Stored money is quantized (<= 15 significant digits), so the shortest float repr prints exactly
        # the same digits: the client reads back the very decimal the sandbox holds.
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent == 0 else float(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps(value: object) -> str:
    return json.dumps(value, default=_json_default, separators=(",", ":"))


def json_response(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status=status, mimetype="application/json", headers=headers)


def envelope(data: object, status: int = 200, success: str | None = None) -> Response:
    messages: dict[str, list[str]] = {"success": [success]} if success else {}
    return json_response({"data": data, "messages": messages}, status)


def error_response(status: int, message: str, data: object = None, headers: dict[str, str] | None = None) -> Response:
    return json_response({"messages": {"error": [message]}, "data": data}, status, headers)


def empty(status: int, headers: dict[str, str] | None = None) -> Response:
    """A response with no body at all (401 on resources, 204 on deletes)."""
    return Response(b"", status=status, headers=headers)


def to_decimal(value: object, name: str) -> Decimal:
    """A money or quantity input: JSON numbers arrive as Decimal (parse_float), ints or numeric strings."""
    if isinstance(value, bool) or value is None:
        raise ApiError(400, f"{name} must be a number")
    try:
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ApiError(400, f"{name} must be a number") from None
    if not number.is_finite():
        raise ApiError(400, f"{name} must be a number")
    return number


def to_int(value: object, name: str) -> int:
    if isinstance(value, bool):
        raise ApiError(400, f"{name} must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ApiError(400, f"{name} must be an integer")


def to_bool(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ApiError(400, f"{name} must be a boolean (1/0/true/false)")


class Params:
    """Typed access to the query string."""

    def __init__(self, args: MultiDict[str, str]):
        self._args = args

    def __contains__(self, name: str) -> bool:
        return name in self._args and self._args.get(name, "") != ""

    def text(self, name: str) -> str | None:
        value = self._args.get(name)
        return value if value not in (None, "") else None

    def texts(self, name: str) -> set[str] | None:
        value = self.text(name)
        if value is None:
            return None
        return {part.strip() for part in value.split(",") if part.strip()}

    def integer(self, name: str) -> int | None:
        value = self.text(name)
        return None if value is None else to_int(value, name)

    def integers(self, name: str) -> set[int] | None:
        parts = self.texts(name)
        return None if parts is None else {to_int(part, name) for part in parts}

    def flag(self, name: str) -> bool | None:
        value = self.text(name)
        return None if value is None else to_bool(value, name)

    def page_limit(self, default: int, maximum: int) -> tuple[int, int]:
        page = self.integer("page")
        page = 1 if page is None else page
        limit = self.integer("limit")
        if page < 1:
            raise ApiError(400, "page must be 1 or greater")
        if limit is None:
            limit = default
        if limit < 1:
            raise ApiError(400, "limit must be 1 or greater")
        return page, min(limit, maximum)


def field_of(name: str, default: object = None) -> Callable[[Row], object]:
    """A getter for one stored field (filters over a list of field names)."""
    return lambda row: row.get(name, default)


class Query:
    """Collects the filters of a list endpoint, then applies them: `Query(params).ints(...).apply(rows)`."""

    def __init__(self, params: Params):
        self.params = params
        self._predicates: list[Callable[[Row], bool]] = []

    def where(self, predicate: Callable[[Row], bool]) -> Query:
        self._predicates.append(predicate)
        return self

    def ints(self, name: str, get: Callable[[Row], object]) -> Query:
        wanted = self.params.integers(name)
        if wanted is not None:
            self.where(lambda row: get(row) in wanted)
        return self

    def any_ints(self, name: str, get: Callable[[Row], Iterable[int]]) -> Query:
        wanted = self.params.integers(name)
        if wanted is not None:
            self.where(lambda row: bool(wanted.intersection(get(row))))
        return self

    def strs(self, name: str, get: Callable[[Row], object], default: set[str] | None = None) -> Query:
        wanted = self.params.texts(name) or default
        if wanted is not None:
            lowered = {w.lower() for w in wanted}
            self.where(lambda row: str(get(row)).lower() in lowered)
        return self

    def equals(self, name: str, get: Callable[[Row], object]) -> Query:
        wanted = self.params.text(name)
        if wanted is not None:
            self.where(lambda row: str(get(row) or "") == wanted)
        return self

    def contains(self, name: str, *getters: Callable[[Row], object]) -> Query:
        needle = self.params.text(name)
        if needle is not None:
            low = needle.lower()
            self.where(lambda row: any(low in str(g(row) or "").lower() for g in getters))
        return self

    def boolean(self, name: str, get: Callable[[Row], object], default: bool | None = None) -> Query:
        wanted = self.params.flag(name)
        if wanted is None:
            wanted = default
        if wanted is not None:
            self.where(lambda row: bool(get(row)) == wanted)
        return self

    def between(self, after: str, before: str, get: Callable[[Row], int | None]) -> Query:
        low, high = self.params.integer(after), self.params.integer(before)
        if low is not None:
            self.where(lambda row: (v := get(row)) is not None and v >= low)
        if high is not None:
            self.where(lambda row: (v := get(row)) is not None and v <= high)
        return self

    def tags(self, name: str = "tag") -> Query:
        wanted = self.params.texts(name)
        if wanted is not None:
            self.where(lambda row: wanted.issubset(set(row.get("tags", []))))
        return self

    def apply(self, rows: Iterable[Row]) -> list[Row]:
        return [row for row in rows if all(p(row) for p in self._predicates)]


@dataclass(frozen=True)
class Page:
    page: int
    limit: int
    total_pages: int
    start: int

    @classmethod
    def of(cls, total: int, params: Params, default: int, maximum: int) -> Page:
        page, limit = params.page_limit(default, maximum)
        return cls(page=page, limit=limit, total_pages=math.ceil(total / limit), start=(page - 1) * limit)

    def slice(self, rows: Sequence[T]) -> Sequence[T]:
        return rows[self.start : self.start + self.limit]

    def body(self, key: str, items: list[Any]) -> dict[str, Any]:
        return {key: items, "totalPages": self.total_pages, "page": self.page}


def paged(
    rows: Sequence[Row], params: Params, key: str, render: Callable[[Row], Row], default: int, maximum: int
) -> dict[str, Any]:
    """`{key: [...], "totalPages": n, "page": p}` for one page of `rows`, rendering only that page."""
    page = Page.of(len(rows), params, default, maximum)
    return page.body(key, [render(row) for row in page.slice(rows)])


@dataclass
class Change:
    """One entity change, turned into a webhook message after the request commits."""

    entity_type: str
    entity_id: int
    action: str  # created | updated | deleted
    user_id: int | None
    changeset: list[dict[str, Any]] | None = None


@dataclass
class Ctx:
    """What a handler gets: the request, the store, who is calling, and where to record changes."""

    request: Request
    store: Store
    user_id: int
    base_url: str  # http://127.0.0.1:PORT (no trailing slash, no /api)
    changes: list[Change] = field(default_factory=list)

    @property
    def params(self) -> Params:
        return Params(self.request.args)

    def body(self) -> dict[str, Any]:
        return read_body(self.request)

    def emit(
        self, entity_type: str, entity_id: int, action: str, changeset: list[dict[str, Any]] | None = None
    ) -> None:
        self.changes.append(Change(entity_type, entity_id, action, self.user_id, changeset))


def read_body(request: Request) -> dict[str, Any]:
    """A JSON object body (numbers with a fraction parse as Decimal), a form body, or {} when empty."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return dict(request.form.items())
    try:
        parsed = json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "Request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise ApiError(400, "Request body must be a JSON object")
    return parsed


def require(body: dict[str, Any], *names: str) -> None:
    missing = [name for name in names if body.get(name) in (None, "")]
    if missing:
        raise ApiError(400, f"Missing required field(s): {', '.join(missing)}")


def changeset(before: Row, after: Row, fields: Iterable[str]) -> list[dict[str, Any]]:
    return [
        {"field": name, "oldValue": before.get(name), "newValue": after.get(name)}
        for name in fields
        if before.get(name) != after.get(name)
    ]
