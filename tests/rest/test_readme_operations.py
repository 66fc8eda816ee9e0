"""The README's table of operations by resource names every operation of both schemas."""

from __future__ import annotations

import re
from pathlib import Path

from heygen_core.rest.operations import api_spec

ROOT = Path(__file__).resolve().parents[2]


def readme_table_rows() -> dict[str, set[str]]:
    """Per API (first column), the method names the README's operations table lists."""
    text = (ROOT / "README.md").read_text()
    rows: dict[str, set[str]] = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] in ("LiveAvatar", "Streaming"):
            rows.setdefault(cells[0], set()).update(re.findall(r"`(\w+)`", cells[2]))
    return rows


def test_the_readme_lists_every_operation_by_resource() -> None:
    rows = readme_table_rows()
    for api, label in (("liveavatar", "LiveAvatar"), ("streaming", "Streaming")):
        operations = set(api_spec(api).operations)
        assert operations, api
        listed = rows.get(label, set())
        assert listed == operations, (
            f"{label}: missing from the README {sorted(operations - listed)}, "
            f"not an operation {sorted(listed - operations)}"
        )
