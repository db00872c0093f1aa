"""Replaying a documented Graph example against the emulator, without a recipe for it.

1. The path is walked against the CSDL (tests/conformance_examples.py).
2. Every object the path names is arranged (tests/conformance_arrange.py): each key (a
   placeholder such as `{id}`, `{id | userPrincipalName}` or `{group-id}` gets a new
   object's id; a literal id or userPrincipalName is given to the object), `/me` becomes
   `/users/{id}` (an app-only client has no signed-in user), and an Exchange-served part
   (calendar, mailboxSettings...) gives its user a mailbox.
3. The objects the response shows are arranged where the request reads them: the items
   of a listed collection (with as many more as `@odata.count` or a `/$count` says), the
   entity read, a complex property read (written first through Graph's own PATCH), the
   objects nested in them ($expand, `members@delta`). For a write, the target is arranged
   with what the response shows that the request does not determine.
4. The body's references are arranged: URLs (`@odata.id`, `members@odata.bind`) are walked
   like paths; `<navigation>Id` properties name objects that must exist; the
   `assignLicense` action's licences must be the tenant's (and assigned, to be removed).
5. Continuation tokens from the doc ($skiptoken, $deltatoken) are opaque: they are replaced
   by tokens this emulator issued for the same request.
"""

from __future__ import annotations

import copy
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from reconciler.emulator import csdl
from reconciler.emulator.app import Emulator
from tests.conformance_arrange import MAILBOX_PARTS, Arranger, Ref, doc_placeholder, short
from tests.conformance_client import send
from tests.conformance_compare import Context, sent_strings
from tests.conformance_examples import GRAPH, UUID, Example, Step, addressed, cast_of, walk

_ANY = re.compile(r"(\w+)/any\((\w+):(.*?)\)")
_EQ = re.compile(r"(?:^|\s|\()(\w+)\s+eq\s+('[^']*'|[\w.-]+)")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
# A directoryObject of a navigation with nothing shown about it: what Graph puts there.
DEFAULT_MEMBER = {"memberOf": "microsoft.graph.group",
                  "transitiveMemberOf": "microsoft.graph.group",
                  "deletedItems": "microsoft.graph.group"}


@dataclass
class Replay:
    """The request to send, and what the comparison needs to know."""

    method: str
    path: str
    body: Any
    headers: dict[str, str]
    content: bytes | None
    context: Context
    type: str | None  # the type of the entity (or of the list's items) the reply holds


class Harness:
    def __init__(self, example: Example, em: Emulator) -> None:
        self.example = example
        self.em = em
        self.arrange = Arranger(em)
        self.steps = walk(example.path)
        self.target = addressed(self.steps)
        self.refs: dict[int, Ref] = {}
        self.body = copy.deepcopy(example.body)
        self.sent = sent_strings(example.body)
        response = example.response
        self.response = response if isinstance(response, dict) else {}
        self.listing = example.read and self.steps[self.target].collection

    # 1-2: the path -----------------------------------------------------------------------------
    def props_for(self, index: int) -> dict[str, Any]:
        """What the response shows of the object step `index` names (see the docstring)."""
        if index != self.target or self.listing or not 200 <= self.example.status < 300:
            return {}
        if self.example.read:
            return self.response
        return {k: v for k, v in self.response.items()
                if not (sent_strings(v, k) & self.sent) and k not in (self.body or {})}

    def path(self) -> str:
        """The example's path with every object it names arranged."""
        segments: list[str] = []
        for index, step in enumerate(self.steps):
            owner = self.refs.get(step.owner) if step.owner is not None else None
            if step.kind == "singleton" and step.segment == "me":
                ref = self.arrange.place(None, "users", step.type or "", self.props_for(index))
                self.refs[index] = ref
                segments += ["users", ref.key]
                continue
            if step.kind == "key":
                props = self.props_for(index)
                key = None if step.placeholder else step.segment
                if isinstance(props.get("id"), str) and key and props["id"] != key and \
                        not UUID.match(key):
                    key = props["id"]  # the doc's response shows another object than its
                    # path names: the response's object is the one arranged and addressed
                ref = self.arrange.place(owner, step.nav or "", self.item_type(index, {}),
                                         props, key)
                self.refs[index] = ref
                segments.append(quote(ref.key, safe="@=()'"))
                continue
            if step.kind in ("nav", "property", "singleton"):
                if step.segment in MAILBOX_PARTS and owner is not None:
                    self.arrange.mailbox(self.arrange.user_of(owner))
                self.refs[index] = self.single_nav(index, step, owner)
            segments.append(step.segment)
        return "/" + "/".join(segments)

    def single_nav(self, index: int, step: Step, owner: Ref | None) -> Ref:
        """A single-valued navigation read or removed (a manager) is arranged; any other
        segment only carries its owner along."""
        is_target = index == self.target or (index == self.target - 1 and
                                             self.steps[-1].kind == "$ref")
        directory = step.type and csdl.model().is_a(step.type, "directoryObject")
        if step.kind == "nav" and not step.collection and directory and is_target and \
                self.example.method in ("GET", "DELETE"):
            return self.arrange.place(owner, step.nav or "", step.type or "",
                                      self.props_for(index))
        return Ref(step.type or "", "", step.segment, owner)

    def item_type(self, index: int, props: dict[str, Any]) -> str:
        step = self.steps[index]
        declared = cast_of(self.steps, index) or step.type or ""
        if index > 0 and self.steps[index].kind == "key":
            declared = cast_of(self.steps, index - 1) or declared
        if short(declared) == "directoryObject" and not props.get("@odata.type"):
            return DEFAULT_MEMBER.get(step.nav or "", declared)
        return declared

    # 3: what the response shows ---------------------------------------------------------------
    def listed(self) -> None:
        """The items of a listed collection, as many as the count says."""
        step = self.steps[self.target]
        owner = self.refs.get(step.owner) if step.owner is not None else None
        values = self.response.get("value")
        values = [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []
        count = self.response.get("@odata.count")
        if isinstance(self.example.response, int):
            count = self.example.response
        required = self.filtered()
        values = [{**required, **v} for v in values] or ([required] if required else [])
        for item in [v for v in values if "@removed" not in v]:
            self.arrange.place(owner, step.nav or "", self.item_type(self.target, item), item,
                               item.get("id"))
        if isinstance(count, int) and count > len(values):
            for n in range(count - len(values)):
                clone = self.clone(values[n % len(values)] if values else {})
                self.arrange.place(owner, step.nav or "", self.item_type(self.target, clone),
                                   clone, clone["id"])

    def filtered(self) -> dict[str, Any]:
        """What the request's $filter says every listed item has: `p eq v` clauses joined
        by `and`, and `c/any(x:x/p eq v and ...)` lambdas on collections."""
        text = dict(parse_qsl(self.example.query, keep_blank_values=True)).get("$filter", "")
        out: dict[str, Any] = {}
        for name, var, inner in _ANY.findall(text):
            out[name] = [{p: _literal(v) for p, v in
                          re.findall(rf"{var}/(\w+)\s+eq\s+('[^']*'|[\w.-]+)", inner)}]
        for name, value in _EQ.findall(_ANY.sub("", text)):
            out[name] = _literal(value)
        return out

    @staticmethod
    def clone(item: dict[str, Any]) -> dict[str, Any]:
        """Another object like `item` (matching the same filter), with its own identity."""
        n = uuid.uuid4().hex[:12]
        clone = {**item, "id": f"ffffffff-ffff-4fff-bfff-{n}"}  # listed after the shown
        if isinstance(clone.get("userPrincipalName"), str):
            local, _, domain = clone["userPrincipalName"].rpartition("@")
            clone["userPrincipalName"] = f"{local}{n}@{domain}"
        return clone

    def property_read(self) -> None:
        """A complex property read (mailboxSettings/automaticRepliesSetting) is written
        first through Graph's own PATCH of the property that holds it."""
        first = next(i for i, s in enumerate(self.steps) if s.kind == "property")
        value: Any = {k: v for k, v in self.response.items() if not k.startswith("@")}
        for step in reversed(self.steps[first + 1:self.target + 1]):
            value = {step.segment: value}
        entity = self.refs[self.steps[first].owner or 0]
        path = f"/users/{entity.id}/{self.steps[first].segment}"
        reply = send(self.em, "PATCH", path, value, {})
        assert reply.status_code < 300, f"arranging {path}: {reply.text}"

    # 4: the body's references -----------------------------------------------------------------
    def references(self, value: Any) -> Any:
        """The body with its URLs' objects arranged and their placeholders filled."""
        if isinstance(value, dict):
            return {k: self.references(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.references(v) for v in value]
        if isinstance(value, str) and value.startswith(GRAPH + "/"):
            inner = Harness(Example("", "", "GET", value[len(GRAPH):], "", {}, None, 404,
                                    None), self.em)
            inner.arrange = self.arrange
            return GRAPH + inner.path()
        return value

    def referenced_ids(self) -> None:
        """`<navigation>Id` properties of the written type name objects that must exist."""
        if not isinstance(self.body, dict):
            return
        type_name = self.steps[self.target].type or ""
        navigations = csdl.model().navigations(type_name)
        for key, value in self.body.items():
            nav = navigations.get(key.removesuffix("Id")) if key.endswith("Id") else None
            if nav is None or nav.collection or not isinstance(value, str) or \
                    not UUID.match(value):
                continue
            if short(nav.type) == "unifiedRoleDefinition":
                self.arrange.ensure_role_definition(value)
            elif csdl.model().is_a(nav.type, "directoryObject") or \
                    short(nav.type) == "directoryObject":
                self.arrange.ensure_principal(value)

    def licences(self, user: Ref | None) -> None:
        """assignLicense: each SKU added must be one of the tenant's subscriptions (with the
        plans the request disables); each removed must be assigned to the user."""
        if not isinstance(self.body, dict) or self.steps[-1].segment != "assignLicense":
            return
        for added in self.body.get("addLicenses") or []:
            plans = [{"servicePlanId": p, "servicePlanName": f"DOC_PLAN_{n}"}
                     for n, p in enumerate(added.get("disabledPlans") or [])]
            plans.append({"servicePlanId": str(uuid.uuid4()), "servicePlanName": "DOC_PLAN"})
            sku_id = added.get("skuId")
            sku = self.arrange.sku({"skuId": None if doc_placeholder(sku_id) else sku_id,
                                    "servicePlans": plans})
            added["skuId"] = sku.id
        for sku_id in self.body.get("removeLicenses") or []:
            sku = self.arrange.sku({"skuId": sku_id})
            if user is not None:
                with self.em.store.transaction():
                    self.em.store.set_license(user.id, sku.id, [])
        self.sent |= sent_strings(self.body)

    # 5: continuation tokens -------------------------------------------------------------------
    def query_without(self, name: str) -> list[tuple[str, str]]:
        return [(k, v) for k, v in parse_qsl(self.example.query, keep_blank_values=True)
                if k != name]

    def fresh_token(self, path: str, name: str, page: int) -> str:
        """A token of kind `name` this emulator issues for `path` (a deltaLink's token is
        taken at the end of the round, a skipToken's from the first page)."""
        query = "&".join(f"{k}={v}" for k, v in self.query_without(name))
        reply = send(self.em, "GET", path + ("?" + query if query else ""), None,
                     {**self.example.headers, "Prefer": f"odata.maxpagesize={page}"}).json()
        link_name = "@odata.nextLink" if name == "$skiptoken" else "@odata.deltaLink"
        while link_name not in reply:
            reply = send(self.em, "GET", reply["@odata.nextLink"].split("/v1.0", 1)[1], None,
                         {}).json()
        return dict(parse_qsl(urlsplit(reply[link_name]).query))[name]


def _literal(text: str) -> Any:
    """An OData literal: 'text', true/false, a number, or a bare GUID."""
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    if text in ("true", "false"):
        return text == "true"
    return int(text) if text.isdigit() else text


def prepare(example: Example, em: Emulator) -> Replay:
    """Arrange what `example` refers to in `em`; the request to send and how to judge."""
    harness = Harness(example, em)
    path = harness.path()
    query = dict(parse_qsl(example.query, keep_blank_values=True))
    token = next((name for name in ("$skiptoken", "$deltatoken") if name in query), None)
    if token == "$deltatoken":
        fresh = harness.fresh_token(path, token, 200)
    if harness.listing or isinstance(example.response, int):
        if token == "$skiptoken":
            values = harness.response.get("value") or []
            for n in range(max(1, len(values))):  # the first page, before the doc's
                harness.arrange.directory_object(harness.steps[harness.target].type or "",
                                                 {}, f"00000000-0000-4000-8000-{n:012d}")
        harness.listed()
    elif example.read and harness.steps[harness.target].kind == "property":
        harness.property_read()
    if token == "$skiptoken":
        values = harness.response.get("value") or []
        fresh = harness.fresh_token(path, token, max(1, len(values)))
    harness.body = harness.references(harness.body)
    harness.referenced_ids()
    harness.licences(next((harness.refs[i] for i in sorted(harness.refs, reverse=True)
                           if short(harness.refs[i].type) == "user"), None))
    if token:
        query_text = "&".join(f"{k}={v}" for k, v in harness.query_without(token))
        query_text += ("&" if query_text else "") + f"{token}={fresh}"
    else:
        query_text = example.query
    content = JPEG if example.method == "PUT" and harness.steps[-1].kind == "$value" else None
    context = Context(read=example.read, sent=harness.sent | sent_strings(harness.body),
                      sent_keys={k for k, v in sent_strings(example.body)
                                 if not doc_placeholder(v)},
                      ordered="$orderby" in {k.lower() for k in query})
    step = harness.steps[harness.target]
    return Replay(example.method, path + ("?" + query_text if query_text else ""),
                  harness.body, dict(example.headers), content, context,
                  cast_of(harness.steps, harness.target) or step.type)
