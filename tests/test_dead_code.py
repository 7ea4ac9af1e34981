"""No dead code in auditor/: every top-level function and class is used somewhere (a public one anywhere in the
repository's code, templates or queries; a private one in its own module, or by a test).

Decorated definitions (command-line commands, registered handlers) are used by their decorator and are not
checked. ALLOWED_TODAY lists what is dead today; each change that removes an entry deletes its line.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
SEARCHED = ("auditor", "tests", "bench", "scripts", "templates", "queries")

ALLOWED_TODAY = {
    ("auditor/store.py", "evidence_digest"),  # the spool and stored_evidence_digest compute it
}


def _texts() -> dict[str, str]:
    texts = {}
    for directory in SEARCHED:
        for path in sorted((ROOT / directory).rglob("*")):
            if path.is_file() and path.suffix in {".py", ".j2", ".sql", ".html", ".toml", ".kql"} and path != HERE:
                texts[path.relative_to(ROOT).as_posix()] = path.read_text(encoding="utf-8", errors="replace")
    return texts


def dead_definitions() -> set[tuple[str, str]]:
    texts = _texts()
    dead = set()
    for name, text in texts.items():
        if not name.startswith("auditor/") or not name.endswith(".py"):
            continue
        for node in ast.parse(text).body:
            if not isinstance(node, ast.FunctionDef | ast.ClassDef) or node.decorator_list:
                continue
            word = re.compile(rf"\b{re.escape(node.name)}\b")
            own = len(word.findall(text))
            if node.name.startswith("_"):
                used = own > 1 or any(word.search(t) for n, t in texts.items() if not n.startswith("auditor/"))
            else:
                used = own > 1 or any(word.search(t) for n, t in texts.items() if n != name)
            if not used:
                dead.add((name, node.name))
    return dead


def test_no_dead_functions_or_classes() -> None:
    dead = dead_definitions()
    assert not dead - ALLOWED_TODAY, f"defined and never used: {sorted(dead - ALLOWED_TODAY)}"
    assert not ALLOWED_TODAY - dead, f"used again or gone: delete from ALLOWED_TODAY {sorted(ALLOWED_TODAY - dead)}"
