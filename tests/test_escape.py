"""Live values rendered for a person are data, never markup or terminal commands."""

from __future__ import annotations

import re

from reconciler.gitops import comment_body, issue_body
from reconciler.render.escape import md_code, md_text, printable, text_line
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text
from tests.tenancy import make_tenant, plan_of, small_seed

HOSTILE_TITLE = ("```\n</details><img src=x onerror=alert(1)>\n::set-output name=x::1\n"
                 "@everyone [click](https://evil.example) \x1b[31mred\x1b[0m | `x`")
HOSTILE_APP = "@everyone ``` <b>bold</b> [a](javascript:alert(1)) | cell"


def hostile_plan(tmp_path):
    seed = small_seed()
    alice = next(u for u in seed["users"] if u["userPrincipalName"].startswith("alice"))
    alice["jobTitle"] = HOSTILE_TITLE
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "profile: {jobTitle: Lead}\n"}, seed=seed)
    plan = plan_of(folder)
    plan.attribution = [{"user": "alice@contoso.com", "kind": "profile", "target": "jobTitle",
                         "by": HOSTILE_APP, "at": "2026-11-22T10:00:00Z",
                         "activity": "Update user\n::error::x"}]
    return plan


def outside_code(markdown: str) -> list[str]:
    """The lines GitHub renders as Markdown (outside fenced blocks)."""
    shown, fence = [], None
    for line in markdown.split("\n"):
        if fence is None:
            opened = re.match(r"^(`{3,}|~{3,})", line)
            if opened:
                fence = opened.group(1)
                continue
            shown.append(line)
        elif line.strip() == fence:
            fence = None
    return shown


def test_a_hostile_job_title_stays_inside_its_code_block_in_markdown(tmp_path):
    plan = hostile_plan(tmp_path)
    for text in (render_markdown(plan), comment_body(plan), issue_body(plan)):
        rendered = "\n".join(outside_code(text))
        assert "<img" not in rendered and "</details><img" not in rendered
        assert "@everyone" not in rendered  # broken by a word joiner in the table
        assert "<b>" not in rendered and not re.search(r"(?<!\\)\]\(", rendered)
        assert rendered.count("</details>") == rendered.count("<details")
        assert "Lead" in text and "set-output" in text  # shown, as data
        fence_lines = [line for line in text.split("\n") if line.startswith("````")]
        assert fence_lines and fence_lines[0] == "````diff"  # longer than the value's ```


def test_a_hostile_job_title_is_printable_in_text(tmp_path):
    text = render_text(hostile_plan(tmp_path))
    assert "\x1b" not in text and "\\x1b[31m" in text
    assert not any(line.lstrip().startswith("::") for line in text.split("\n"))
    assert "\\n::set-output" in text  # the value's newline shown, not obeyed
    assert "Update user\\n::error::x" in text


def test_the_helpers_neutralise_each_medium():
    assert text_line("::warning::x") == "\\x3a:warning::x"
    assert text_line("  ::add-mask::x").startswith("  \\x3a:")
    assert printable("a\u202eb\x7f\x9b") == "a\\u202eb\\x7f\\x9b"
    assert md_code("a`b|c") == "``a`b\\|c``"
    assert md_text("<script>@team") == "&lt;script&gt;@\u2060team"
    assert "https\u2060:" in md_text("https://x") and "www\u2060." in md_text("www.x.com")
    assert md_text("a@b.com") == "a@b.com"  # an address is not a mention


def test_no_value_becomes_a_legacy_workflow_command_anywhere_in_a_line(tmp_path):
    """The Actions runner obeys `##[command]` wherever it appears in a line (its legacy
    form): `##[stop-commands]` in a job title would switch off the job's own commands."""
    seed = small_seed()
    alice = next(u for u in seed["users"] if u["userPrincipalName"].startswith("alice"))
    alice["jobTitle"] = "x ##[stop-commands]tok ###[error]forged"
    folder = make_tenant(tmp_path, {"alice": "userPrincipalName: alice@contoso.com\n"
                                             "profile: {jobTitle: Lead}\n"}, seed=seed)
    text = render_text(plan_of(folder))
    assert "stop-commands" in text and "##[" not in text
    assert text_line("a ##[add-mask]b ##[##[c") == "a \\x23#[add-mask]b \\x23#[\\x23#[c"
    assert text_line("# heading [x]") == "# heading [x]"
