"""Comments and schema descriptions cite wire facts in the repo, never a file users lack."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("heygen_core", "codegen", "schemas", "tests", "examples", "bench")
CITATION = re.compile(r"docs/protocol\.md(?: §(\d+))?")
OUTSIDE = re.compile(r"PROTOCOL\.md|\.\./shared/|shared/seeds")


def cited_files() -> list[Path]:
    found = [
        path
        for folder in SOURCES
        for path in (ROOT / folder).rglob("*")
        if path.suffix in {".py", ".yaml", ".json", ".md"} and "__pycache__" not in path.parts
    ]
    return [*found, ROOT / "README.md"]


def sections() -> set[str]:
    text = (ROOT / "docs" / "protocol.md").read_text()
    return set(re.findall(r"^## (\d+)\. ", text, flags=re.MULTILINE))


def test_nothing_cites_a_file_outside_the_repo() -> None:
    this = Path(__file__).resolve()
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in cited_files()
        if path.resolve() != this
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not offenders, offenders


def test_every_section_cited_exists() -> None:
    known = sections()
    assert len(known) >= 5
    cited = {
        (path.relative_to(ROOT).as_posix(), match.group(1))
        for path in cited_files()
        for match in CITATION.finditer(path.read_text(errors="replace"))
    }
    # The code does cite it (so this test checks something), and each
    # numbered citation names a section that exists.
    assert any(path.startswith("heygen_core/") for path, _ in cited)
    missing = sorted((path, number) for path, number in cited if number and number not in known)
    assert not missing, missing
