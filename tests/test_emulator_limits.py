"""Graph's limits as the emulator's cost model (reconciler/emulator/limits.py), each judged
from what a raw client sees on the wire: page sizes, the $expand cap, $batch rules,
throttling per service with its headers, latency and replication lag."""

from __future__ import annotations

import time

import pytest

from reconciler.emulator.app import Emulator
from reconciler.emulator.faults import Faults
from reconciler.emulator.generate import generate_seed
from reconciler.emulator.limits import Limits, LimitSpecError
from tests.conformance_client import send
from tests.emulated import TENANT_ID
from tests.seeding import Seeder


def make(spec: str = "latency=0,perobject=0,lag=0", seed: dict | None = None,
         faults: str = "") -> Emulator:
    return Emulator(":memory:", seed=seed, anonymous=True, faults=Faults.parse(faults),
                    limits=Limits.parse(spec),
                    tenant={"id": TENANT_ID, "domain": "contoso.onmicrosoft.com"})


@pytest.fixture(scope="module")
def big():
    return make(seed=generate_seed(users=1200, groups=5, memberships=10, seed=3))


def test_the_cost_model_is_on_by_default_and_every_figure_is_a_setting():
    default = Limits()
    assert (default.page_default, default.page_max, default.expand_page_max) == (100, 999, 100)
    assert (default.batch_max, default.batch_mailbox_max) == (20, 4)
    assert default.throttling and default.latency > 0 and default.lag > 0
    changed = Limits.parse("pagemax=500,tenantsize=small,throttling=off,latency=10ms,lag=2s")
    assert (changed.page_max, changed.tenant_size, changed.throttling) == (500, "small", False)
    assert (changed.latency, changed.lag) == (0.01, 2.0)
    assert Limits().ru_budget(10) == 3500 and Limits().ru_budget(100) == 5000
    assert Limits().ru_budget(501) == 8000
    with pytest.raises(LimitSpecError):
        Limits.parse("nonsense=1")
    with pytest.raises(LimitSpecError):
        Limits.parse("tenantsize=huge")


def test_pages_hold_100_without_top_999_at_most_and_100_with_expand(big):
    plain = send(big, "GET", "/users?$select=id", None, {}).json()
    assert len(plain["value"]) == 100 and "@odata.nextLink" in plain
    full = send(big, "GET", "/users?$select=id&$top=999", None, {}).json()
    assert len(full["value"]) == 999
    expanded = send(big, "GET", "/users?$select=id&$top=999&$expand=manager", None, {}).json()
    assert len(expanded["value"]) == 100
    assert "$expand=manager" in expanded["@odata.nextLink"]
    reply = send(big, "GET", "/users?$top=1000", None, {})
    assert reply.status_code == 400


def test_reading_every_user_with_expand_takes_ten_times_the_requests(big):
    def pages(query: str) -> int:
        url, count = f"/users?{query}", 0
        while url:
            body = send(big, "GET", url, None, {}).json()
            count += 1
            link = body.get("@odata.nextLink")
            url = link.split("/v1.0", 1)[1] if link else None
        return count

    assert pages("$select=id&$top=999") == 2
    assert pages("$select=id&$top=999&$expand=manager") == 12


def test_batch_allows_20_requests_and_4_outlook_requests_per_mailbox():
    em = make()
    seeder = Seeder(em)
    user = seeder.mailbox_user()
    too_many = {"requests": [{"id": str(n), "method": "GET", "url": f"/users/{user}"}
                             for n in range(21)]}
    reply = send(em, "POST", "/$batch", too_many, {})
    assert reply.status_code == 400
    outlook = {"requests": [{"id": str(n), "method": "GET",
                             "url": f"/users/{user}/mailboxSettings"} for n in range(6)]}
    statuses = sorted(r["status"] for r in send(em, "POST", "/$batch", outlook, {})
                      .json()["responses"])
    assert statuses == [200, 200, 200, 200, 429, 429]
    chained = {"requests": [{"id": str(n), "method": "GET",
                             "url": f"/users/{user}/mailboxSettings",
                             **({"dependsOn": [str(n - 1)]} if n else {})} for n in range(6)]}
    assert all(r["status"] == 200 for r in send(em, "POST", "/$batch", chained, {})
               .json()["responses"])


def test_depends_on_must_be_parallel_sequential_or_on_one_request():
    em = make()
    user = Seeder(em).user()

    def batch(depends: dict[str, list[str]]) -> int:
        requests = [{"id": str(n), "method": "GET", "url": f"/users/{user}",
                     **({"dependsOn": depends[str(n)]} if str(n) in depends else {})}
                    for n in range(1, 5)]
        return send(em, "POST", "/$batch", {"requests": requests}, {}).status_code

    assert batch({}) == 200
    assert batch({"2": ["1"], "3": ["2"], "4": ["3"]}) == 200  # sequential
    assert batch({"2": ["1"], "3": ["1"], "4": ["1"]}) == 200  # all on one
    assert batch({"2": ["1"], "4": ["3"]}) == 400  # two chains
    assert batch({"3": ["1", "2"]}) == 400
    failing = {"requests": [
        {"id": "1", "method": "GET", "url": "/users/00000000-0000-0000-0000-000000000000"},
        {"id": "2", "method": "GET", "url": f"/users/{user}", "dependsOn": ["1"]}]}
    replies = {r["id"]: r["status"] for r in
               send(em, "POST", "/$batch", failing, {}).json()["responses"]}
    assert replies == {"1": 404, "2": 424}


def test_identity_reads_are_throttled_by_resource_units_with_graphs_headers():
    em = make("latency=0,perobject=0,lag=0,tenantsize=small,ruwindow=100000s")
    Seeder(em).user()
    statuses, last = [], None
    for _ in range(1800):  # 2 RU each without $select: 3,500 RU run out after 1,750
        last = send(em, "GET", "/users", None, {})
        statuses.append(last.status_code)
        if last.status_code == 429:
            break
    assert statuses[-1] == 429 and len(statuses) == 1751
    assert float(last.headers["Retry-After"]) > 0
    assert last.headers["x-ms-throttle-information"] == "ResourceUnitLimitExceeded"
    assert last.headers["x-ms-throttle-scope"].startswith("Tenant_Application")
    assert last.json()["error"]["code"] == "TooManyRequests"


def test_a_reply_near_the_limit_says_how_close():
    em = make("latency=0,perobject=0,lag=0,tenantsize=small,ruwindow=100000s")
    seen = None
    for _ in range(1600):
        reply = send(em, "GET", "/users", None, {})
        seen = reply.headers.get("x-ms-throttle-limit-percentage") or seen
    assert seen is not None and 0.8 <= float(seen) <= 1.8


def test_audit_log_reads_allow_5_per_10_seconds():
    em = make()
    statuses = [send(em, "GET", "/auditLogs/directoryAudits", None, {}).status_code
                for _ in range(6)]
    assert statuses == [200] * 5 + [429]


def test_outlook_allows_10000_requests_per_mailbox_then_429_for_that_mailbox_only():
    em = make("latency=0,perobject=0,lag=0,outlookbudget=3,outlookwindow=1000s")
    seeder = Seeder(em)
    first, second = seeder.mailbox_user(), seeder.mailbox_user()
    statuses = [send(em, "GET", f"/users/{first}/mailboxSettings", None, {}).status_code
                for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert send(em, "GET", f"/users/{second}/mailboxSettings", None, {}).status_code == 200


def test_tenant_wide_writes_are_limited():
    em = make("latency=0,perobject=0,lag=0,tenantwritebudget=3,tenantwritewindow=1000s")
    user = Seeder(em).user()
    statuses = [send(em, "PATCH", f"/users/{user}", {"jobTitle": f"t{n}"}, {}).status_code
                for n in range(4)]
    assert statuses == [204, 204, 204, 429]


def test_latency_grows_with_the_objects_returned(big):
    em = Emulator(big.store.path, anonymous=True, limits=Limits.parse(
        "latency=20ms,perobject=1ms,lag=0"))
    em.store = big.store
    start = time.monotonic()
    send(em, "GET", "/users?$select=id&$top=1", None, {})
    one = time.monotonic() - start
    start = time.monotonic()
    send(em, "GET", "/users?$select=id&$top=300", None, {})
    many = time.monotonic() - start
    assert one >= 0.02 and many >= 0.32 and many > one


def test_replication_lag_shows_in_reads_by_id_lists_and_delta_after_every_kind_of_write():
    em = make("latency=0,perobject=0,lag=30s", faults="seed=4")
    seen_missing = seen_stale = seen_deleted_listed = seen_delta_late = False
    for n in range(12):
        created = send(em, "POST", "/users", {
            "accountEnabled": True, "displayName": f"L{n}", "mailNickname": f"l{n}",
            "userPrincipalName": f"l{n}@contoso.onmicrosoft.com",
            "passwordProfile": {"password": "Xy-12345678!"}}, {}).json()["id"]
        seen_missing |= send(em, "GET", f"/users/{created}", None, {}).status_code == 404
        em.store.history.clear()  # the create has replicated
        send(em, "PATCH", f"/users/{created}", {"jobTitle": "new"}, {})
        got = send(em, "GET", f"/users/{created}?$select=jobTitle", None, {}).json()
        seen_stale |= got.get("jobTitle") is None
        delta = send(em, "GET", "/users/delta?$select=jobTitle", None, {}).json()
        seen_delta_late |= created not in {u["id"] for u in delta["value"]}
        em.store.history.clear()
        send(em, "DELETE", f"/users/{created}", None, {})
        listed = send(em, "GET", "/users?$select=id&$top=999", None, {}).json()["value"]
        seen_deleted_listed |= created in {u["id"] for u in listed}
    assert seen_missing and seen_stale and seen_deleted_listed and seen_delta_late


def test_a_change_left_out_of_delta_by_lag_comes_in_the_next_round():
    em = make("latency=0,perobject=0,lag=0.3s", faults="seed=2")
    first = send(em, "GET", "/users/delta?$select=displayName", None, {}).json()
    while "@odata.nextLink" in first:
        first = send(em, "GET", first["@odata.nextLink"].split("/v1.0")[1], None, {}).json()
    link = first["@odata.deltaLink"].split("/v1.0")[1]
    ids = set()
    for n in range(8):
        ids.add(send(em, "POST", "/users", {
            "accountEnabled": True, "displayName": f"D{n}", "mailNickname": f"d{n}",
            "userPrincipalName": f"d{n}@contoso.onmicrosoft.com",
            "passwordProfile": {"password": "Xy-12345678!"}}, {}).json()["id"])
    now = send(em, "GET", link, None, {}).json()
    assert ids - {u["id"] for u in now["value"]}  # some still replicating
    time.sleep(0.35)
    later = send(em, "GET", now["@odata.deltaLink"].split("/v1.0")[1], None, {}).json()
    assert ids <= {u["id"] for u in now["value"]} | {u["id"] for u in later["value"]}


def _transitive_reads_until_throttled(em: Emulator, group: str) -> int:
    """GET transitiveMembers costs 5 resource units; how many succeed before the 429."""
    for count in range(3000):
        if send(em, "GET", f"/groups/{group}/transitiveMembers", None, {}).status_code == 429:
            return count
    raise AssertionError("never throttled")


def _new_user(em: Emulator, n: int) -> str:
    reply = send(em, "POST", "/users", {
        "accountEnabled": True, "displayName": f"New {n}", "mailNickname": f"new{n}",
        "userPrincipalName": f"new{n}@contoso.com",
        "passwordProfile": {"password": "Xy!9aPassw0rd"}}, {})
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


def test_the_resource_unit_budget_follows_the_tenant_size_band_as_users_come_and_go():
    """Throttling limits: small (<50 users) 3,500, medium (50-500) 5,000 RU per 10 s."""
    spec = "latency=0,perobject=0,lag=0,ruwindow=100000s"
    seed = generate_seed(users=49, groups=1, memberships=0, seed=5)
    small = make(spec, seed=seed)
    group = small.store.list_objects("group")[0]["id"]
    assert _transitive_reads_until_throttled(small, group) == 700  # 3,500 / 5

    grown = make(spec, seed=seed)
    _new_user(grown, 1)  # the 50th user: the tenant is now medium
    assert _transitive_reads_until_throttled(grown, group) == (5000 - 1) // 5

    shrunk = make(spec, seed=seed)
    new = _new_user(shrunk, 2)
    assert send(shrunk, "DELETE", f"/users/{new}", None, {}).status_code == 204
    assert _transitive_reads_until_throttled(shrunk, group) == (3500 - 2) // 5
