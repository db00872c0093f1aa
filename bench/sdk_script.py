"""A straightforward msgraph-sdk script, the msgraph-sdk row of bench/compare.py: users with
their managers (`$expand=manager`, as the SDK's samples read them), then every group and
each group's members, each collection paged with the SDK. It is what a team might write
instead of this tool. It runs on a share of the tenant (`sample` of its users, the same
share of its groups) and the figures are scaled up, like the per-user reader's.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any


def run(url: str, seed: dict, sample: int, counts: Counter) -> float:
    """Run the script against the served emulator at `url`; count requests into `counts`;
    return the factor that scales the figures to the whole tenant."""
    share = min(1.0, sample / len(seed["users"]))
    asyncio.run(_script(url, share, len(seed["users"]), len(seed["groups"]), counts))
    return 1 / share


async def _script(url: str, share: float, users: int, groups: int, counts: Counter) -> None:
    import httpx
    from kiota_abstractions.authentication import AnonymousAuthenticationProvider
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph.generated.groups.groups_request_builder import GroupsRequestBuilder
    from msgraph.generated.groups.item.members.members_request_builder import (
        MembersRequestBuilder,
    )
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder
    from msgraph_core import GraphClientFactory

    async def count(response: httpx.Response) -> None:
        counts["http"] += 1
        counts["graph"] += 1
        counts["ru"] += int(response.headers.get("x-ms-resource-unit", 0))

    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(event_hooks={"response": [count]}, timeout=120))
    adapter = GraphRequestAdapter(AnonymousAuthenticationProvider(), client=http)
    adapter.base_url = f"{url}/v1.0"
    client = GraphServiceClient(request_adapter=adapter)
    people = await _pages(client.users, RequestConfiguration(
        query_parameters=UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
            select=["id", "userPrincipalName", "jobTitle", "department", "usageLocation",
                    "assignedLicenses"], expand=["manager($select=id)"], top=999)),
        round(users * share))
    teams = await _pages(client.groups, RequestConfiguration(
        query_parameters=GroupsRequestBuilder.GroupsRequestBuilderGetQueryParameters(
            select=["id", "displayName"], top=999)), max(1, round(groups * share)))
    members = 0
    for group in teams[:max(1, round(groups * share))]:
        found = await _pages(client.groups.by_group_id(group.id).members, RequestConfiguration(
            query_parameters=MembersRequestBuilder.MembersRequestBuilderGetQueryParameters(
                select=["id"], top=999)), None)
        members += len(found)
    counts["objects"] = len(people) + members
    await http.aclose()


async def _pages(builder: Any, config: Any, enough: int | None) -> list:
    """Pages of a collection until `enough` items (None: all of them)."""
    page = await builder.get(request_configuration=config)
    items = list(page.value or [])
    while page.odata_next_link and (enough is None or len(items) < enough):
        page = await builder.with_url(page.odata_next_link).get()
        items += page.value or []
    return items
