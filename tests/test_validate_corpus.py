"""Every bad input in tests/corpus/bad fails validation with exactly the expected messages.

A case file holds one or more sections. The first is `users/case.yaml` unless a
`#--- <path>` line names another; each later `#--- <path>` line starts a new file.
`# expect: <file>:<line>:<col>: <key.path>: <message>` lines list every problem
validate must print, in order; nothing else may be printed as a problem. TENANT stands
for the tenant folder where a message names another file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from tests.conftest import write_tenant

CORPUS = Path(__file__).parent / "corpus" / "bad"
CASES = sorted(CORPUS.glob("*.yaml"))


def parse_case(text: str) -> tuple[dict[str, str], list[str]]:
    files: dict[str, list[str]] = {}
    current = "users/case.yaml"
    expected = []
    for line in text.splitlines():
        if line.startswith("#--- "):
            current = line[5:].strip()
            files.setdefault(current, [])
            continue
        if line.startswith("# expect: "):
            expected.append(line[len("# expect: "):])
            continue
        files.setdefault(current, []).append(line)
    return {name: "\n".join(lines) + "\n" for name, lines in files.items()}, expected


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_bad_input_is_reported_exactly(case: Path, tmp_path: Path):
    files, expected = parse_case(case.read_text(encoding="utf-8"))
    assert expected, f"{case.name} lists no '# expect:' line"
    folder = write_tenant(tmp_path, files)
    result = CliRunner().invoke(cli, ["validate", str(folder)])
    assert result.exit_code == 1, result.output
    printed = [
        line.removeprefix(str(folder) + "/").replace(str(folder), "TENANT")
        for line in result.stderr.splitlines()
        if line.startswith(str(folder))
    ]
    assert printed == expected
    assert "nothing was sent" in result.stderr
