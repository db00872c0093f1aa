"""The three renderings of one plan, byte for byte (set UPDATE_GOLDEN=1 to rewrite them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.plan.planfile import dumps
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text
from tests.tenancy import make_tenant, plan_of

GOLDEN = Path(__file__).parent / "golden"
USERS = {
    "alice": """
        userPrincipalName: alice@contoso.com
        profile: {jobTitle: Staff Engineer, city: null, officeLocation: B7, accountEnabled: false}
        extensionAttributes: {extensionAttribute2: badge-9}
        manager: erin@contoso.com
        groups: [Engineering, {name: Oncall, until: 2026-12-31}]
        directoryRoles: []
        licenses: [{sku: SPE_E3, disabledPlans: [SWAY]}, {sku: SPE_E5, from: 2027-01-01}]
        """,
    "gina": """
        userPrincipalName: gina@contoso.com
        profile: {displayName: Gina Lopez, usageLocation: ES, employeeHireDate: 2026-12-01}
        groups: [Staff]
        mailbox: {type: shared}
        """,
    "bob": "userPrincipalName: bob@contoso.com\nstate: deleted\n",
}


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    os.environ["RECONCILER_NOW"] = "2026-11-22T10:00:00Z"
    try:
        folder = make_tenant(tmp_path_factory.mktemp("golden"), USERS)
        return plan_of(folder)
    finally:
        del os.environ["RECONCILER_NOW"]


@pytest.mark.parametrize("name,render", [
    ("plan.txt", lambda p: render_text(p)),
    ("plan.md", render_markdown),
    ("plan.json", dumps),
])
def test_rendering_matches_its_golden_file(plan, name, render):
    text = render(plan)
    assert render(plan) == text  # same input, byte-identical output
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_privileged_changes_come_first_in_markdown(plan):
    text = render_markdown(plan)
    privileged = text.index("Privileged changes")
    assert privileged < text.index("#### Changes")
    for line in ("- user: bob@contoso.com", "- directoryRole: User Administrator",
                 "~ profile.accountEnabled: true -> false"):
        assert text.index(line) < text.index("#### Changes")


def test_a_plan_with_errors_says_so_in_every_headline(tmp_path):
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "groups: [Engneering, Approvers, Staff]\n"})
    plan = plan_of(folder)
    assert plan.errors
    text, markdown, data = render_text(plan), render_markdown(plan), dumps(plan)
    headline = ("1 error in the desired state: nothing will be applied. Changes: not "
                "applicable until the errors are fixed.")
    assert text.splitlines()[0] == headline and text.splitlines()[-1] == headline
    assert markdown.splitlines()[2] == f"**{headline}**"
    assert '"summary": "not applicable until the errors are fixed"' in data
    assert f'"headline": "{headline}"' in data
    for shown in (text, markdown, data):
        assert "No changes" not in shown


NEW_SECTIONS_TENANT = """\
policy:
  unmanagedUsers: report
defaults:
  directoryRoles: []
  mailbox: {forwarding: null}
"""


@pytest.fixture(scope="module")
def sections_plan(tmp_path_factory):
    """Issue 13's sections: a rename by id, defaults managing roles, users and role
    assignments no file accounts for (privileged first)."""
    from tests.tenancy import oid

    os.environ["RECONCILER_NOW"] = "2026-11-22T10:00:00Z"
    try:
        folder = make_tenant(tmp_path_factory.mktemp("sections"), {
            "alice": f"userPrincipalName: alice.smith@contoso.com\nid: {oid('alice@contoso.com')}\n"
                     "directoryRoles: [User Administrator]\n",
            "dave": "userPrincipalName: dave@contoso.com\n",
        })
        tenant = (folder / "tenant.yaml").read_text().replace("policy:\n", "policy:\n"
                                                                "  unmanagedUsers: report\n")
        (folder / "tenant.yaml").write_text(tenant + "defaults:\n  directoryRoles: []\n")
        return plan_of(folder)
    finally:
        del os.environ["RECONCILER_NOW"]


@pytest.mark.parametrize("name,render", [
    ("sections.txt", lambda p: render_text(p)),
    ("sections.md", render_markdown),
    ("sections.json", dumps),
])
def test_new_sections_match_their_golden_file(sections_plan, name, render):
    text = render(sections_plan)
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")
