"""The one URL builder: every value placed in a URL (ids, UPNs, names, filter literals) goes
through `segment`, `odata_string`, `with_query` or `fill`; no request puts a value in by hand."""

from __future__ import annotations

from urllib.parse import quote

_SEGMENT_SAFE = "=@"  # legal in a path segment (RFC 3986 pchar); kept readable
_QUERY_SAFE = "$,()'/:;=@*"  # kept readable in a query value; & # + % space and
#                             non-ASCII (UTF-8) are always percent-encoded


def segment(value: object) -> str:
    """A value as exactly one URL path segment (Outlook ids may hold / + =)."""
    return quote(str(value), safe=_SEGMENT_SAFE)


def odata_string(value: str) -> str:
    """A string literal for an OData `$filter`: quoted, a `'` doubled (OData ABNF)."""
    return "'" + str(value).replace("'", "''") + "'"


def with_query(path: str, params: dict[str, str]) -> str:
    """`path?k=v&...`, every value percent-encoded (after any OData quoting)."""
    query = "&".join(f"{key}={quote(str(value), safe=_QUERY_SAFE)}"
                     for key, value in params.items())
    return f"{path}?{query}" if query else path


def fill(template: str, *values: object) -> str:
    """`template` with each `{}` replaced by one encoded path segment."""
    return template.format(*(segment(v) for v in values))
