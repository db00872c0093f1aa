"""The OData query options Graph supports and the client uses: $select, $filter, $top, paging."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reconciler.emulator.limits import Limits
from reconciler.emulator.wire import GraphError, Request, Response, bad_request

DEFAULT_PAGE = 100
MAX_PAGE = 999
Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(r"\s*(?:('(?:[^']|'')*')|(\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?)"
                    r"|([(),:])|([^\s(),:']+))")


def unsupported(message: str) -> GraphError:
    return GraphError(400, "Request_UnsupportedQuery", message)


def missing_eventual(what: str) -> GraphError:
    return unsupported(
        f"{what} is not supported because the 'ConsistencyLevel:eventual' header is missing. "
        "Refer to https://aka.ms/graph-docs/advanced-queries for more information"
    )


def eventual(request: Request) -> bool:
    return request.headers.get("consistencylevel", "").lower() == "eventual"


@dataclass
class Filter:
    predicate: Predicate
    advanced: str | None  # the advanced feature used, if any


def parse_filter(text: str) -> Filter:
    """Parse a $filter expression into a predicate over Graph-shaped dicts."""
    tokens = [t for t in _tokens(text)]
    parser = _Parser(tokens)
    predicate = parser.expression({})
    if parser.position != len(tokens):
        raise unsupported(f"Invalid filter clause: syntax error at '{tokens[parser.position]}'.")
    return Filter(predicate, parser.advanced)


def _tokens(text: str) -> list[str]:
    out, position = [], 0
    while position < len(text):
        found = _TOKEN.match(text, position)
        if not found or found.end() == position:
            if text[position:].strip() == "":
                break
            raise unsupported(f"Invalid filter clause: unexpected '{text[position:]}'.")
        token = found.group(1) or found.group(2) or found.group(3) or found.group(4)
        if token:
            out.append(token)
        position = found.end()
    return out


def _value(token: str) -> Any:
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    lowered = token.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    if re.fullmatch(r"-?\d+", token):
        return int(token)
    return token  # guids and instants are unquoted in Graph filters


def _lookup(obj: Any, path: str) -> Any:
    for part in path.split("/"):
        if not isinstance(obj, dict):
            return None
        match = next((k for k in obj if k.lower() == part.lower()), None)
        obj = obj.get(match) if match else None
    return obj


def _compare(op: str, left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        left, right = left.lower(), right.lower()
    if op == "eq":
        return left == right
    if op == "ne":
        return left != right
    if left is None or right is None:
        return False
    try:
        return {"ge": left >= right, "le": left <= right, "gt": left > right,
                "lt": left < right}[op]
    except TypeError:
        return False


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens, self.position, self.advanced = tokens, 0, None

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected and token.lower() != expected):
            raise unsupported(f"Invalid filter clause: expected '{expected}' near '{token}'.")
        self.position += 1
        return token

    def expression(self, scope: dict[str, str]) -> Predicate:
        left = self.conjunction(scope)
        while (self.peek() or "").lower() == "or":
            self.take()
            right = self.conjunction(scope)
            left = (lambda a, b: lambda o: a(o) or b(o))(left, right)
        return left

    def conjunction(self, scope: dict[str, str]) -> Predicate:
        left = self.term(scope)
        while (self.peek() or "").lower() == "and":
            self.take()
            right = self.term(scope)
            left = (lambda a, b: lambda o: a(o) and b(o))(left, right)
        return left

    def term(self, scope: dict[str, str]) -> Predicate:
        token = self.take()
        lowered = token.lower()
        if lowered == "not":
            self.advanced = self.advanced or "Operator 'not'"
            inner = self.term(scope)
            return lambda o: not inner(o)
        if token == "(":
            inner = self.expression(scope)
            self.take(")")
            return inner
        if lowered in ("startswith", "endswith") and self.peek() == "(":
            if lowered == "endswith":
                self.advanced = self.advanced or "Operator 'endsWith'"
            self.take("(")
            path = self._path(self.take(), scope)
            self.take(",")
            prefix = str(_value(self.take())).lower()
            self.take(")")
            if lowered == "startswith":
                return lambda o: str(_lookup(o, path) or "").lower().startswith(prefix)
            return lambda o: str(_lookup(o, path) or "").lower().endswith(prefix)
        if lowered.endswith("/any") and self.peek() == "(":
            collection = self._path(token[:-4], scope)
            self.take("(")
            variable = self.take()
            self.take(":")
            inner = self.expression({**scope, variable: ""})
            self.take(")")
            return lambda o: any(inner(item) for item in (_lookup(o, collection) or []))
        path = self._path(token, scope)
        op = self.take().lower()
        if path.lower().endswith("/$count"):  # assignedLicenses/$count eq 0
            self.advanced = self.advanced or "Operator '$count'"
            collection, size = path[:-len("/$count")], _value(self.take())
            return lambda o: _compare(op, len(_lookup(o, collection) or []), size)
        if op == "in":
            self.take("(")
            values = []
            while self.peek() != ")":
                values.append(_value(self.take()))
                if self.peek() == ",":
                    self.take(",")
            self.take(")")
            wanted = {v.lower() if isinstance(v, str) else v for v in values}
            return lambda o: _norm(_lookup(o, path)) in wanted
        if op not in ("eq", "ne", "ge", "le", "gt", "lt"):
            raise unsupported(f"Invalid filter clause: unknown operator '{op}'.")
        if op == "ne":
            self.advanced = self.advanced or "Operator 'ne'"
        right = _value(self.take())
        return lambda o: _compare(op, _lookup(o, path), right)

    @staticmethod
    def _path(token: str, scope: dict[str, str]) -> str:
        head, _, rest = token.partition("/")
        if head in scope:
            return rest
        return token


def _norm(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def select(obj: dict[str, Any], fields: list[str] | None, default: tuple[str, ...] | None,
           known: frozenset[str] | None = None, type_name: str = "") -> dict[str, Any]:
    """Project `obj` to `$select` (id always kept) or to the default property set."""
    if fields:
        if known is not None:  # property names are matched in any case, as Graph does
            spelled = {name.lower(): name for name in known}
            fields = [spelled.get(f.lower(), f) for f in fields]
            for name in fields:
                if name not in known and not name.startswith("@"):
                    raise bad_request(
                        f"Could not find a property named '{name}' on type "
                        f"'microsoft.graph.{type_name}'.")
        wanted = ["id", *[f for f in fields if f != "id"]]
    elif default is not None:
        wanted = ["id", *_declared(obj.get("@odata.type"), default)]
    else:
        return {k: v for k, v in obj.items() if not k.startswith("@kind")}
    out = {name: obj.get(name) for name in wanted}
    if "@odata.type" in obj:
        out = {"@odata.type": obj["@odata.type"], **out}
    return out


def _declared(odata_type: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    """A default projection keeps only what the item's own type declares (a group among
    a members list has no userPrincipalName)."""
    if not odata_type:
        return default
    from reconciler.emulator import csdl

    model = csdl.model()
    name = csdl.full_name(odata_type)
    if any(t.open for t in model.chain(name)) and not model.is_a(name, "directoryObject"):
        return default  # an open type (openTypeExtension) has dynamic properties
    declared = model.properties(name)
    return tuple(n for n in default if n in declared) if declared else default


def select_fields(request: Request) -> list[str] | None:
    text = request.query.get("$select")
    return [f.strip() for f in text.split(",") if f.strip()] if text else None


def preferred_page_size(request: Request, default: int) -> int:
    """`Prefer: odata.maxpagesize=N`, which delta queries honour."""
    found = re.search(r"odata\.maxpagesize=(\d+)", request.headers.get("prefer", ""))
    return max(1, int(found.group(1))) if found else default


def page_size(request: Request, maximum: int = MAX_PAGE, default: int = DEFAULT_PAGE) -> int:
    text = request.query.get("$top")
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= maximum:
        raise bad_request(f"Invalid page size specified: '{text}'. Must be between 1 and "
                          f"{maximum} inclusive.")
    return int(text)


def directory_page_size(request: Request, limits: Limits) -> int:
    """Objects per page of a directory collection (users, groups, members, memberOf...):
    `$top` up to the cost model's maximum (999), its default (100) without `$top`, and at most
    100 when `$expand` is used (Graph's cap for directory objects with $expand)."""
    size = page_size(request, limits.page_max, limits.page_default)
    if request.query.get("$expand"):
        size = min(size, limits.expand_page_max)
    return size


def encode_token(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def decode_token(token: str, name: str = "$skiptoken") -> dict[str, Any]:
    try:
        return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError as exc:
        raise bad_request(f"Invalid {name}: the token is malformed or expired.") from exc


ADVANCED_HINT = ("is not supported because the required parameters might be missing. Try "
                 "adding $count=true query parameter and ConsistencyLevel:eventual header. "
                 "Refer to https://aka.ms/graph-docs/advanced-queries for more information")
SEARCH_NEEDS_HEADER = ("Request with $search query parameter only works through MSGraph with a "
                       "special request header: 'ConsistencyLevel: eventual'")
# "Support for sorting by properties": sorting on these needs the advanced query parameters.
_ADVANCED_SORT = {"createdDateTime", "deletedDateTime"}


def counted(request: Request) -> bool:
    """`$count=true` counts only with `ConsistencyLevel: eventual`; alone it is ignored."""
    return request.query.get("$count", "").lower() == "true" and eventual(request)


def advanced_feature(request: Request) -> str | None:
    """Apply the advanced-query rules of "Advanced query capabilities on Microsoft Entra ID
    objects" to a directory-object list, and name the advanced feature used, if any.

    - `$search` needs `ConsistencyLevel: eventual` (not `$count`);
    - `ne`, `not`, `endsWith`, `$filter` with `$orderby`, and `$orderby` on createdDateTime
      or deletedDateTime need the header *and* `$count=true`;
    - `$count=true` without the header is silently ignored (no @odata.count);
    - a `/$count` segment needs the header (routes answer it with `count_response`).
    """
    query = request.query
    if "$search" in query and not eventual(request):
        raise unsupported(SEARCH_NEEDS_HEADER)
    used = parse_filter(query["$filter"]).advanced if "$filter" in query else None
    if "$orderby" in query and "$filter" in query:
        used = used or "Sorting with $filter"
    if "$orderby" in query:
        key = query["$orderby"].split(" ")[0].strip()
        if key in _ADVANCED_SORT:
            used = used or f"Sorting on '{key}'"
    if used and not counted(request):
        raise unsupported(f"{used} {ADVANCED_HINT}")
    if "$search" in query:
        used = used or "Request with $search query parameter"
    return used


def refined(request: Request) -> bool:
    """Whether a list request filters, searches or sorts (and so pages by offset)."""
    return any(k in request.query for k in ("$filter", "$search", "$orderby"))


def refine(items: list[dict[str, Any]], request: Request,
           view: Callable[[dict[str, Any]], dict[str, Any]] = lambda item: item
           ) -> list[dict[str, Any]]:
    """Apply $filter, $search and $orderby to `items`, judging each by `view(item)`."""
    query = request.query
    if "$filter" in query:
        predicate = parse_filter(query["$filter"]).predicate
        items = [i for i in items if predicate(view(i))]
    if "$search" in query:
        search = apply_search(query["$search"])
        items = [i for i in items if search(view(i))]
    if "$orderby" in query:
        key, _, direction = query["$orderby"].partition(" ")
        items = sorted(items, key=lambda i: str(view(i).get(key) or "").lower(),
                       reverse=direction.strip().lower() == "desc")
    return items


def offset_page(request: Request, items: list[Any], size: int
                ) -> tuple[list[Any], dict[str, int] | None, int | None]:
    """(this page, the next page's state, @odata.count) for an offset-paged list."""
    state = decode_token(request.query["$skiptoken"]) if "$skiptoken" in request.query else {}
    offset = state.get("offset", 0)
    more = {"offset": offset + size} if offset + size < len(items) else None
    count = len(items) if counted(request) else None
    return items[offset:offset + size], more, count


def count_response(request: Request, count: int) -> Response:
    """A `/$count` segment: text/plain, and only with ConsistencyLevel: eventual (else
    Graph's documented 400 Request_BadRequest "$count is not currently supported.")."""
    if not eventual(request):
        raise bad_request("$count is not currently supported.")
    return Response(200, str(count).encode(), {"content-type": "text/plain"})


def of_type(item: dict[str, Any], cast: str | None, declared: str = "") -> bool:
    """Whether a directory object belongs to the cast collection (`request.cast`)."""
    if cast is None:
        return True
    from reconciler.emulator import csdl

    kind = item.get("@odata.type") or declared
    return bool(kind) and csdl.model().is_a(csdl.full_name(kind), cast)


def known_properties(type_name: str) -> tuple[frozenset[str] | None, str]:
    """The properties $select may name on a collection of `type_name` (None: not checked,
    as on directoryObject collections, whose items are of several derived types)."""
    from reconciler.emulator import csdl

    short = csdl.full_name(type_name).removeprefix("microsoft.graph.")
    if short == "directoryObject":
        return None, short
    model = csdl.model()
    return frozenset(model.properties(short)) | frozenset(model.navigations(short)), short


def serve_collection(request: Request, items: list[dict[str, Any]], limits: Limits,
                     context: str, default: tuple[str, ...] | None,
                     declared: str = "directoryObject",
                     project: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
                     | None = None,
                     view: Callable[[dict[str, Any]], dict[str, Any]] = lambda item: item
                     ) -> Response:
    """Every query option of a directory collection or navigation, in one place: the cast
    segment, the advanced-query rules, $filter, $search, $orderby, the `/$count` segment and
    `$count=true`, paging ($top, $skiptoken, the $expand cap) and $select (`project`, when
    given, serves and projects a page itself; `view` is what $filter and $search judge)."""
    cast = getattr(request, "cast", None)
    items = [i for i in items if of_type(i, cast, declared)]
    advanced_feature(request)
    items = refine(items, request, view)
    if getattr(request, "count_segment", False):
        return count_response(request, len(items))
    page, more, count = offset_page(request, items, directory_page_size(request, limits))
    if project is not None:
        page = project(page)
    else:
        page = [select(i, select_fields(request), default, *known_properties(cast or declared))
                for i in page]
    if cast:
        context = f"{context}/{cast}"
    return page_response(request, page, more, context, count)


def page_response(request: Request, items: list[dict[str, Any]], next_state: dict | None,
                  context: str, count: int | None = None) -> Response:
    body: dict[str, Any] = {"@odata.context": f"{request.origin}/v1.0/$metadata#{context}"}
    if count is not None:
        body["@odata.count"] = count
    if next_state is not None:
        query = {k: v for k, v in request.query.items() if k != "$skiptoken"}
        body["@odata.nextLink"] = request.link(request.path, **query,
                                               **{"$skiptoken": encode_token(next_state)})
    body["value"] = items
    return Response.of_json(200, body)


def apply_search(text: str) -> Predicate:
    """`"displayName:wa"` (optionally OR-ed): a word of the property starts with the value."""
    clauses = [c.strip().strip('"') for c in re.split(r"\s+OR\s+", text)]
    terms = []
    for clause in clauses:
        prop, _, value = clause.partition(":")
        terms.append((prop, value.lower()))

    def predicate(obj: dict[str, Any]) -> bool:
        for prop, value in terms:
            words = re.split(r"[\s._@-]+", str(_lookup(obj, prop) or "").lower())
            if any(w.startswith(value) for w in words):
                return True
        return False

    return predicate
