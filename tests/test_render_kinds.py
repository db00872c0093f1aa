"""Every registered change kind renders, in text and Markdown, through the one section
model; a kind no area declares fails loudly, naming it, wherever a plan names it."""

from __future__ import annotations

import re

import pytest

from reconciler.areas.registry import kinds, privileged
from reconciler.desired.problems import Problem
from reconciler.plan.change import Change, Note, Plan, Scheduled
from reconciler.render.markdown import render_markdown
from reconciler.render.sections import sections
from reconciler.render.text import render_text

# A structured value for each kind that words its values with `show` (what its area puts
# in before/after). A new kind with `show` fails below until it has one here.
SAMPLES = {
    "license": ({"sku": "SPE_E3", "disabledPlans": ["YAMMER_ENTERPRISE"]},
                {"sku": "SPE_E3", "disabledPlans": ["SWAY"]}),
    "photo": ({"present": True}, {"path": "photos/a.jpg", "sha256": "ab" * 32}),
    "mailboxPermission": ({"right": "fullAccess", "trustee": "erin@contoso.com"},
                          {"right": "fullAccess", "trustee": "erin@contoso.com",
                           "automapping": False}),
    "forwarding": ({"address": "old@contoso.com", "keepCopy": False},
                   {"address": "new@contoso.com", "keepCopy": True}),
    "calendarPermission": ({"user": "erin@contoso.com", "role": "read"},
                           {"user": "erin@contoso.com", "role": "write", "calendar": "Team"}),
    "application": ({"app": "Salesforce", "role": None},
                    {"app": "Salesforce", "role": "Standard User"}),
    "sharePoint": ({"site": "https://contoso.sharepoint.com/sites/hr", "group": "visitors"},
                   {"site": "https://contoso.sharepoint.com/sites/hr", "group": "members"}),
}
USER = "alice@contoso.com"
OPS = ("add", "change", "remove", "invoke")


def _plan(name: str) -> tuple[Plan, list[Change]]:
    declared = kinds()[name]
    if declared.show is not None:
        assert name in SAMPLES, f"kind {name!r} words its values (show): add a sample here"
        before, after = SAMPLES[name]
    else:
        before, after = "old value", "new value"
    plan = Plan(tenant="contoso.onmicrosoft.com", created_at="2026-11-22T10:00:00Z")
    changes = [Change(USER, name, op, f"target-{op}", None if op == "add" else before,
                      None if op == "remove" else after) for op in OPS]
    plan.changes += changes
    plan.notes.append(Note(USER, name, "noted", "not manageable: a reason"))
    plan.scheduled.append(Scheduled(USER, name, "remove", "later", "2027-01-01T00:00:00Z"))
    plan.attribution.append({"user": USER, "kind": name, "target": "drifted", "by": "HR portal",
                             "at": "2026-11-21T09:00:00Z", "activity": "Update user"})
    plan.waiting.append({"user": USER, "kind": name, "target": "waits",
                         "appliedAt": "2026-11-20T08:00:00Z", "commit": "0123456789abcdef"})
    return plan, changes


@pytest.mark.parametrize("name", sorted(kinds()))
def test_every_registered_kind_renders_in_text_and_markdown(name):
    declared = kinds()[name]
    plan, changes = _plan(name)
    text, markdown = render_text(plan), render_markdown(plan)
    for shown in (text, markdown):
        assert declared.label in shown
        assert "None" not in shown and "{'" not in shown  # no Python repr leaks through
    if declared.heading is not None and declared.heading_of is None:
        assert f"    # {declared.heading}\n" in text
    if declared.show is not None:
        for value in SAMPLES[name]:
            assert declared.show(value) in text  # the area's own words for its values
    for label in (f"{declared.label} noted: not manageable", f"- {declared.label}: later",
                  f"{declared.label} drifted: Update user by HR portal",
                  f"{declared.label} waits: applied 2026-11-20T08:00:00Z"):
        assert label in text, label
    assert f"remove {declared.label} later" in markdown.replace("\\", "")
    if any(privileged(c) for c in changes):  # reviewed first, in both media
        assert text.startswith("Privileged changes (review these first):\n")
        assert "#### :warning: Privileged changes" in markdown
    else:
        assert "Privileged changes" not in text + markdown


def _every_section() -> Plan:
    plan, _changes = _plan("group")
    plan.changes.append(Change(USER, "directoryRole", "add", "User Administrator", None,
                               "User Administrator"))  # privileged
    plan.errors.append(Problem("tenants/c/users/a.yaml", 2, 1, "groups", "no group Engneering"))
    plan.refusals.append("refused: 600 changes, over the limit of 500 (limits.maxChanges)")
    plan.unmanaged.append({"principal": "bob@contoso.com", "type": "user", "id": "b",
                           "roles": ["Global Administrator"], "roleAssignableGroups": [],
                           "privileged": True})
    plan.warnings.append("gina@contoso.com: mailbox settings wait")
    return plan


def test_text_and_markdown_show_the_model_s_sections_in_its_order():
    plan = _every_section()
    model = sections(plan)
    assert [s.key for s in model] == ["errors", "refusals", "privileged", "changes", "waiting",
                                      "attribution", "unmanaged", "scheduled", "notes",
                                      "warnings"]
    text, markdown = render_text(plan), render_markdown(plan)
    text_at = [text.index(f"\n{s.lead}:\n") for s in model if s.lead is not None]
    markdown_at = [markdown.index(f" {s.title}\n") for s in model]
    assert text_at == sorted(text_at) and len(text_at) == 8  # errors, refusals: on stderr
    assert markdown_at == sorted(markdown_at)
    for section in model:  # every entry of every section, in both media
        for row in section.rows:
            if section.lead is not None:
                assert row.line in text
            assert re.sub(r"[\\`]", "", row.cells[0]) in re.sub(r"[\\`]", "", markdown)


@pytest.mark.parametrize("where", ["change", "note", "scheduled", "attribution", "waiting"])
def test_a_kind_no_area_declares_fails_loudly_naming_it(where):
    plan = Plan(tenant="contoso.onmicrosoft.com", created_at="2026-11-22T10:00:00Z")
    if where == "change":
        plan.changes.append(Change(USER, "mystery", "add", "x", None, "x"))
    elif where == "note":
        plan.notes.append(Note(USER, "mystery", "x", "why"))
    elif where == "scheduled":
        plan.scheduled.append(Scheduled(USER, "mystery", "add", "x", "2027-01-01T00:00:00Z"))
    else:
        getattr(plan, where).append({"user": USER, "kind": "mystery", "target": "x", "by": "b",
                                     "at": "t", "activity": "a", "appliedAt": "t"})
    for render in (render_text, render_markdown):
        with pytest.raises(KeyError, match="change kind 'mystery'"):
            render(plan)


def test_no_section_lets_a_hostile_value_reach_the_terminal_or_the_comment():
    hostile = "Ops\x1b[2J\u202egnp.exe\n::set-output"
    plan = _every_section()
    plan.changes.append(Change(USER, "directoryRole", "add", hostile, None, hostile))
    plan.notes.append(Note(USER, "group", hostile, hostile))
    plan.scheduled.append(Scheduled(USER, "group", "add", hostile, "2027-01-01T00:00:00Z"))
    plan.attribution.append({"user": USER, "kind": "group", "target": hostile, "by": hostile,
                             "at": "t", "activity": hostile})
    plan.waiting.append({"user": USER, "kind": "group", "target": hostile, "appliedAt": "t"})
    plan.unmanaged.append({"principal": hostile, "type": "user", "id": "h", "roles": [hostile],
                           "roleAssignableGroups": [], "privileged": True})
    plan.warnings.append(hostile)
    plan.refusals.append(hostile)
    text, markdown = render_text(plan), render_markdown(plan)
    for shown in (text, markdown):
        assert "\x1b" not in shown and "\u202e" not in shown
        assert not any(line.lstrip().startswith("::") for line in shown.splitlines())
    assert text.count("Ops\\x1b[2J\\u202egnp.exe\\n::set-output") >= 8  # shown, visibly


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_an_older_plan_file_s_plain_values_still_render(name):
    """Before values were structured, a plan file held display text: shown as it is."""
    plan = Plan(tenant="contoso.onmicrosoft.com", created_at="2026-11-22T10:00:00Z")
    plan.changes.append(Change(USER, name, "change", "t", "Wiki (default access)",
                               "Wiki (Editor)"))
    label = kinds()[name].label
    for shown in (render_text(plan), render_markdown(plan)):
        assert re.search(rf"~ {label}: '?Wiki \(default access\)'? -> '?Wiki \(Editor\)'?",
                         shown), shown
