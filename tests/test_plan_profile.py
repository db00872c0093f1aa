"""Profile fields and extension attributes: planned in both directions, applied once."""

from __future__ import annotations

from tests.tenancy import audits, cli_run, lines, make_tenant, plan_of


def test_changed_added_and_cleared_fields_are_planned(tmp_path):
    folder = make_tenant(tmp_path, {"alice": """
        userPrincipalName: alice@contoso.com
        profile:
          jobTitle: Senior Engineer   # change
          department: R&D             # unchanged
          officeLocation: Building 7  # add
          city: null                  # clear
        """})
    assert lines(plan_of(folder)) == [
        ("alice", "profile", "change", "jobTitle", "Engineer", "Senior Engineer"),
        ("alice", "profile", "add", "officeLocation", None, "Building 7"),
        ("alice", "profile", "remove", "city", "Oslo", None),
    ]


def test_absent_keys_are_left_alone(tmp_path):
    folder = make_tenant(tmp_path, {"alice": """
        userPrincipalName: alice@contoso.com
        profile: {department: R&D}
        """})
    plan = plan_of(folder)
    assert plan.changes == []
    assert plan.unchanged == {"alice@contoso.com": 1}


def test_dates_and_enums_compare_as_graph_stores_them(tmp_path):
    folder = make_tenant(tmp_path, {"alice": """
        userPrincipalName: alice@contoso.com
        profile: {employeeHireDate: 2024-03-01, ageGroup: adult}
        """})
    assert plan_of(folder).changes == []


def test_a_synced_user_gets_errors_for_mastered_fields_and_nothing_is_sent(tmp_path):
    folder = make_tenant(tmp_path, {"carol": """
        userPrincipalName: carol@contoso.com
        profile:
          jobTitle: Head Clerk
          usageLocation: DE
        extensionAttributes: {extensionAttribute3: x}
        """})
    plan = plan_of(folder)
    assert [(e.line, e.path) for e in plan.errors] == [
        (3, "profile.jobTitle"), (5, "extensionAttributes.extensionAttribute3")]
    assert "synced from on-premises" in plan.errors[0].message
    assert lines(plan) == [("carol", "profile", "change", "usageLocation", "US", "DE")]
    result = cli_run("apply", str(folder), "--auto-approve")
    assert result.exit_code == 1
    assert "nothing will be applied" in result.stderr
    assert audits(folder) == []


def test_extension_attributes_are_set_and_cleared_then_stay_put(tmp_path):
    folder = make_tenant(tmp_path, {"alice": """
        userPrincipalName: alice@contoso.com
        extensionAttributes:
          extensionAttribute1: null
          extensionAttribute7: badge-9
        """})
    assert lines(plan_of(folder)) == [
        ("alice", "extensionAttribute", "remove", "extensionAttribute1", "cc-1", None),
        ("alice", "extensionAttribute", "add", "extensionAttribute7", None, "badge-9"),
    ]
    assert cli_run("apply", str(folder), "--auto-approve").exit_code == 0
    assert plan_of(folder).changes == []
    updates = [a for a in audits(folder) if a["activityDisplayName"] == "Update user"]
    assert len(updates) == 1  # both attributes in one PATCH


def test_apply_twice_is_the_same_as_once(tmp_path):
    folder = make_tenant(tmp_path, {"alice": """
        userPrincipalName: alice@contoso.com
        profile: {jobTitle: Staff Engineer, mobilePhone: "+47 555 0101", accountEnabled: false}
        """})
    first = cli_run("apply", str(folder), "--auto-approve")
    assert first.exit_code == 0, first.output
    assert "3 applied" in first.stdout
    written = len(audits(folder))
    second = cli_run("apply", str(folder), "--auto-approve")
    assert second.exit_code == 0
    assert "No changes." in second.stdout
    assert len(audits(folder)) == written
