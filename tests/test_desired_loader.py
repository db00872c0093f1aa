"""Loading a tenant folder into typed values: meaning of absent, null, windows, positions."""

from __future__ import annotations

from datetime import UTC, datetime

from reconciler.desired.loader import load_tenant
from tests.conftest import DEMO


def test_the_demo_tenant_loads_with_no_problems():
    result = load_tenant(DEMO)
    assert result.problems == []
    assert result.tenant is not None
    assert len(result.tenant.users) >= 25
    config = result.tenant.config
    assert config.policy.protected_users == ("breakglass1@northwindtraders.onmicrosoft.com",)
    assert config.graph_url.startswith("emulator:")


def test_absent_keys_are_not_managed_and_null_clears(tenant_folder):
    folder = tenant_folder({"users/a.yaml": (
        "userPrincipalName: a@contoso.com\n"
        "profile:\n  jobTitle: null\n  department: R&D\n"
        "manager: null\n"
    )})
    user = load_tenant(folder).tenant.users[0]
    assert user.manages("profile.jobTitle") and user.profile["jobTitle"] is None
    assert user.manages("manager") and user.manager is None
    assert not user.manages("profile.city")
    assert not user.manages("groups")
    assert not user.manages("photo")


def test_yaml_1_1_surprises_are_read_as_written(tenant_folder):
    """`NO` is Norway, not false; a date stays the text that was typed."""
    folder = tenant_folder({"users/a.yaml": (
        "userPrincipalName: a@contoso.com\n"
        "profile:\n  country: NO\n  state: on\n  employeeHireDate: 2024-03-01\n"
    )})
    user = load_tenant(folder).tenant.users[0]
    assert user.profile == {"country": "NO", "state": "on", "employeeHireDate": "2024-03-01"}


def test_a_date_window_runs_from_the_start_of_from_to_the_end_of_until(tenant_folder):
    folder = tenant_folder({"users/a.yaml": (
        "userPrincipalName: a@contoso.com\n"
        "groups:\n  - {name: Oncall, from: 2026-12-01, until: 2026-12-31}\n"
    )})
    window = load_tenant(folder).tenant.users[0].groups[0].window
    assert window.start == datetime(2026, 12, 1, tzinfo=UTC)
    assert window.end == datetime(2027, 1, 1, tzinfo=UTC)
    assert not window.active(datetime(2026, 11, 30, 23, 59, tzinfo=UTC))
    assert window.active(datetime(2026, 12, 31, 23, 59, tzinfo=UTC))
    assert not window.active(datetime(2027, 1, 1, tzinfo=UTC))


def test_entries_keep_how_they_name_their_target(tenant_folder):
    folder = tenant_folder({"users/a.yaml": (
        "userPrincipalName: a@contoso.com\n"
        "groups:\n  - Engineering\n  - {mail: all@contoso.com}\n"
        "  - {id: 0b9a3c4e-1f2d-4e5a-8b6c-7d8e9f0a1b2c}\n"
        "mailbox:\n  permissions:\n    fullAccess: [{user: b@contoso.com, automapping: false}]\n"
    )})
    user = load_tenant(folder).tenant.users[0]
    assert [(g.by, g.ref) for g in user.groups] == [
        ("ref", "Engineering"), ("mail", "all@contoso.com"),
        ("id", "0b9a3c4e-1f2d-4e5a-8b6c-7d8e9f0a1b2c"),
    ]
    trustee = user.mailbox_permissions["fullAccess"][0]
    assert trustee.ref == "b@contoso.com" and trustee.extra == {"automapping": False}
    assert "sendAs" not in user.mailbox_permissions


def test_every_problem_in_every_file_is_reported_together_and_sorted(tenant_folder):
    folder = tenant_folder({
        "users/b.yaml": "userPrincipalName: b@contoso.com\nprofile: {ageGroup: kid}\n",
        "users/a.yaml": "userPrincipalName: a@contoso.com\nstate: gone\nbogus: 1\n",
    })
    problems = load_tenant(folder).problems
    assert [(p.file.rsplit("/", 1)[-1], p.line, p.path) for p in problems] == [
        ("a.yaml", 2, "state"), ("a.yaml", 3, "bogus"), ("b.yaml", 2, "profile.ageGroup"),
    ]


def test_a_missing_tenant_file_is_a_problem(tmp_path):
    (tmp_path / "users").mkdir()
    problems = load_tenant(tmp_path).problems
    assert [p.message for p in problems] == [
        "missing (a tenant folder holds tenant.yaml and users/*.yaml)"
    ]


def test_graph_concurrency_is_configurable_and_bounded(tenant_folder):
    from reconciler.graph.connect import connect
    from tests.conftest import BASE_TENANT

    folder = tenant_folder({"tenant.yaml": BASE_TENANT.replace(
        'graph: {url: "emulator:test.db"}', 'graph: {url: "emulator:test.db", concurrency: 2}')})
    config = load_tenant(folder).tenant.config
    assert config.concurrency == 2
    connection = connect(config, read_only=True)
    assert connection.graph.concurrency == 2
    connection.close()
    too_many = tenant_folder({"tenant.yaml": BASE_TENANT.replace(
        'graph: {url: "emulator:test.db"}', 'graph: {url: "emulator:test.db", concurrency: 99}')})
    assert [p.path for p in load_tenant(too_many).problems] == ["graph.concurrency"]
