"""Live values shown to a person, escaped for where they are shown.

Anything read from the tenant (a jobTitle, a group's or an app's display name, an audit
record's actor) may be hostile. These helpers make it inert data in each medium:

- text and logs (`printable`, `text_block`): control characters, ANSI escapes, DEL, C1
  controls and bidirectional overrides are shown visibly (`\\x1b`, `\\n`, `\\u202e`), so
  a value can neither start a new line nor recolour or reorder the terminal; a line
  starting with `::` is shown as `\\x3a:`, and `##[` anywhere in a line as `\\x23#[` (the
  runner still obeys the legacy `##[command]` form wherever it appears in a line, e.g.
  `##[stop-commands]`), so no value can become a GitHub workflow command.
- logs (`TextLogFormatter`): every record as one such line.
- Markdown (`md_text`, `md_code`, `md_fence`, `md_html`): no code fence, HTML tag,
  @mention, table cell or link breaks out of the place the value is put in.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

# C0 controls, DEL, C1 controls, and the Unicode controls that reorder or hide text.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064"
                          "\u2066-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_MD_PUNCTUATION = re.compile(r"([\\`*_{}\[\]#+!|~$])")  # ( ) are inert once [ ] are
_SCHEMES = re.compile(r"(?i)\b(https?|ftp|mailto|javascript|data|file)(:)")
_WORKFLOW = re.compile(r"^(\s*):(?=:)")
_LEGACY_WORKFLOW = re.compile(r"#(?=#\[)")  # `##[command]`: matched anywhere in a line
ZWJ = "\u2060"  # word joiner: invisible, breaks an @mention without changing how it reads


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: Any) -> str:
    """One line of plain text: every control character shown as an escape."""
    return _UNPRINTABLE.sub(_visible, str(value))


def text_line(line: str) -> str:
    """A line for a terminal or a CI log: printable, and never a workflow command."""
    return _inert(printable(line))


def _inert(line: str) -> str:
    """`line` with no workflow command in either of the runner's forms."""
    return _LEGACY_WORKFLOW.sub(r"\\x23", _WORKFLOW.sub(r"\1\\x3a", line))


def text_block(text: str) -> str:
    """Lines already built from printable values: none may start with `::`."""
    return "\n".join(_inert(line) for line in text.split("\n"))


def md_html(value: Any) -> str:
    """Inside HTML (a <summary>, <code>): entities for & < > " ', printable."""
    text = printable(value)
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def md_text(value: Any) -> str:
    """Running Markdown text or a table cell: punctuation escaped, tags as entities,
    @mentions and autolinks broken, `|` kept inside its cell."""
    text = printable(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_PUNCTUATION.sub(r"\\\1", text)
    text = re.sub(r"(?<!\w)@", "@" + ZWJ, text)  # a mention starts after a non-word
    text = re.sub(r"(?i)\bwww\.", "www" + ZWJ + ".", text)
    return _SCHEMES.sub(lambda m: m.group(1) + ZWJ + m.group(2), text)


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(re.escape(char) + "+", text)
    return max((len(r) for r in runs), default=0)


def md_code(value: Any) -> str:
    """An inline code span that holds the value whole, also inside a table cell."""
    text = printable(value).replace("|", "\\|")
    ticks = "`" * (_longest_run(text, "`") + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def md_fence(lines: Iterable[str]) -> str:
    """A backtick fence longer than any backtick run in the lines it will hold."""
    longest = max((_longest_run(line, "`") for line in lines), default=0)
    return "`" * max(3, longest + 1)


def text_lines(text: str) -> str:
    """A message for a terminal or a CI log whose own lines are kept: each line printable
    and none a workflow command (a live value inside should already be `printable`, so its
    newlines cannot forge a line of its own)."""
    return "\n".join(text_line(line) for line in str(text).split("\n"))


class TextLogFormatter(logging.Formatter):
    """Log records as one escaped line each: a live value in a record's arguments (a UPN,
    a Graph error message) can neither colour the terminal nor start a workflow command."""

    def format(self, record: logging.LogRecord) -> str:
        return text_line(super().format(record))
