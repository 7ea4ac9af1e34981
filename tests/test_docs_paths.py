"""Docs and comments cite only what a clone of the repository holds: every cited path exists, and nothing points
at the product design or an issue tracker that a reader of the repository cannot open."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Where citations live: the docs, and the sources (comments, docstrings, help texts).
SCANNED = ("README.md", "Makefile", "pyproject.toml", "docs", "auditor", "tests", "bench", "scripts", "queries")
SUFFIXES = {".md", ".py", ".sql", ".toml", ".kql", ".yml", ".yaml", ".j2", ".css", ".html", ""}
SKIPPED = ("tests/fixtures/",)  # vendored data, quoted as it was published

TOP = r"(?:auditor|queries|templates|tests|docs|bench|scripts|examples|shared|\.ci)"
# A repository path: a top-level directory, then path characters; not the tail of a longer path or a URL.
PATH = re.compile(rf"(?<![\w./~:@-])((?:\.\./)*{TOP}/[\w./*{{}}<>-]*)")
LINK = re.compile(r"\]\(([^)\s]+)\)")
DESIGN = re.compile(r"\bDESIGN\.md\b")
ISSUE = re.compile(r"\bissues? #?\d+|\bissue-\d+\b", re.IGNORECASE)


def scanned_files() -> list[Path]:
    files = []
    for name in SCANNED:
        path = ROOT / name
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for candidate in candidates:
            relative = candidate.relative_to(ROOT).as_posix()
            if candidate.suffix in SUFFIXES and not relative.startswith(SKIPPED) and "__pycache__" not in relative:
                files.append(candidate)
    return files


def _exists(cited: str, base: Path) -> bool:
    """Whether a cited path (relative to base; globs and placeholders allowed) names something that exists."""
    cited = cited.rstrip(".,;:)").split("#", 1)[0]
    if not cited:
        return True
    if re.search(r"[*{<\[]", cited):
        # A pattern or a placeholder: the part before it must exist.
        head = re.split(r"[*{<\[]", cited, maxsplit=1)[0].rpartition("/")[0]
        return (base / head).resolve().is_dir() if head else True
    return (base / cited).resolve().exists()


def prose(path: Path, text: str) -> Iterator[tuple[int, str]]:
    """(line number, text) of what a reader reads as prose: every line of a Markdown file; a Python file's
    comments, docstrings and command-line help texts (its other strings are data, such as paths in a wheel)."""
    if path.suffix != ".py":
        yield from enumerate(text.splitlines(), 1)
        return
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string
    tree = ast.parse(text)
    for node in ast.walk(tree):
        strings: list[ast.expr] = []
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr):
                strings.append(first.value)
        elif isinstance(node, ast.Call):
            strings += [k.value for k in node.keywords if k.arg == "help"]
        for string in strings:
            if isinstance(string, ast.Constant) and isinstance(string.value, str):
                for offset, line in enumerate(string.value.splitlines()):
                    yield string.lineno + offset, line


def problems_in(path: Path) -> list[str]:
    relative = path.relative_to(ROOT).as_posix()
    text = path.read_text(encoding="utf-8", errors="replace")
    found = []
    # The design and the tracker are named nowhere, not even in a message or a string.
    for number, line in enumerate(text.splitlines(), 1):
        if DESIGN.search(line):
            found.append(f"{relative}:{number}: cites DESIGN.md, which is not in the repository")
        issue = ISSUE.search(line)
        if issue:
            found.append(f"{relative}:{number}: cites an issue number ({issue[0]!r}): say what, not which ticket")
    if path.suffix not in (".md", ".py"):
        return found
    for number, line in prose(path, text):
        where = f"{relative}:{number}"
        for match in PATH.finditer(line):
            cited = match[1]
            base = path.parent if cited.startswith("../") else ROOT
            if cited.startswith("output/") or _exists(cited, base):
                continue
            found.append(f"{where}: cites {cited!r}, which does not exist")
        if path.suffix == ".md":
            for target in LINK.findall(line):
                if re.match(r"^[a-z][a-z0-9+.-]*:|^#", target) or _exists(target, path.parent):
                    continue
                found.append(f"{where}: links to {target!r}, which does not exist")
    return sorted(set(found), key=lambda p: (int(p.split(":")[1]), p))


def test_docs_and_comments_cite_only_what_the_repository_holds() -> None:
    found = [problem for path in scanned_files() if path != Path(__file__) for problem in problems_in(path)]
    assert not found, "\n".join(found)


def test_the_check_finds_what_it_looks_for(tmp_path: Path) -> None:
    page = ROOT / "docs" / "_probe_for_test_docs_paths.md"
    page.write_text(
        "See [the map](architecture.md) and [gone](nowhere.md), `auditor/sql.py`, `auditor/nothing.py`,\n"
        "`queries/model/*.sql`, `queries/absent/*.sql`, ../shared/aks-data, https://example.com/docs/x.md\n"
        "as DESIGN.md says (issue 16).\n",
        encoding="utf-8",
    )
    try:
        found = [p.split(": ", 1)[1] for p in problems_in(page)]
    finally:
        page.unlink()
    assert found == [
        "cites 'auditor/nothing.py', which does not exist",
        "links to 'nowhere.md', which does not exist",
        "cites '../shared/aks-data', which does not exist",
        "cites 'queries/absent/*.sql', which does not exist",
        "cites DESIGN.md, which is not in the repository",
        "cites an issue number ('issue 16'): say what, not which ticket",
    ]
