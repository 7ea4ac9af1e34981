"""The layers of docs/architecture.md hold: every import of auditor/ (top-level, inside a function, under
TYPE_CHECKING) points to the module's own layer or one its row allows, no modules import each other in a
cycle, an import sits inside a function only to defer a heavy third-party package, saying so, and only the
command line writes to the terminal.

ALLOWED_TODAY lists what the tree still does against the map while the modules move; each change that moves a
module deletes its lines, and a line that no longer matches anything fails the test so the list only shrinks.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "auditor"
ARCHITECTURE = ROOT / "docs" / "architecture.md"

ALLOWED_TODAY: dict[str, set[tuple[str, ...]]] = {
    # Modules not yet in their place on the map, and the layer they are checked at meanwhile.
    "interim": set(),
    # Modules the map names that do not exist yet.
    "planned": set(),
    # Imports against the map: (importer, imported).
    "edges": set(),
    # Import cycles, each as its sorted modules.
    "cycles": set(),
    # Imports inside a function not yet as the rule says (file, imported module).
    "deferred": set(),
}

# Third-party packages worth importing only when used: each costs tens to hundreds of milliseconds at start-up
# and only some commands need it. An import inside a function names one of these and says so in a comment.
HEAVY = frozenset(
    {
        "weasyprint",
        "matplotlib",
        "numpy",
        "pypdf",
        "pyhanko",
        "pyhanko_certvalidator",
        "asn1crypto",
        "azure",
        "requests",
        "kubernetes",
        "urllib3",
        "yaml",
        "icalendar",
    }
)
DEFERRED = "Deferred for import cost"
# The package's own names, loaded on first use (PEP 562) so that importing a submodule loads nothing else.
FACADE = ROOT / "auditor" / "__init__.py"


@dataclass(frozen=True)
class Layer:
    name: str  # "0", "3a", "E"
    rank: int  # position in the table
    entries: tuple[str, ...]  # module paths relative to auditor/, a package ends with '/'
    allowed: frozenset[str]  # layer names it may import (its own included)


def read_layers() -> list[Layer]:
    """The layer table of docs/architecture.md."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.split("\n## Layers\n", 1)[1]
    rows = [line for line in section.splitlines() if re.match(r"^\| (\d+[ab]?|E) \|", line)]
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    names = [c[0] for c in cells]
    layers = []
    for rank, (name, _, modules, may) in enumerate(cells):
        allowed = {name}
        for part in (p.strip() for p in may.split(",")):
            span = re.fullmatch(r"L(\w+)(?:–L(\w+))?", part)
            if span:
                low, high = names.index(span[1]), names.index(span[2] or span[1])
                allowed.update(names[low : high + 1])
            elif part == "E":
                allowed.add("E")
            else:
                raise AssertionError(f"docs/architecture.md: layer {name}: cannot read {part!r} in 'May import'")
        layers.append(Layer(name, rank, tuple(re.findall(r"`([^`]+)`", modules)), frozenset(allowed)))
    return layers


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def entry_covers(entry: str, module: str) -> bool:
    """Whether a table entry ('store.py', 'collect/', '__init__.py') names the module ('auditor.store')."""
    if entry == "__init__.py":
        return module == "auditor"
    if entry.endswith("/"):
        prefix = "auditor." + entry.rstrip("/").replace("/", ".")
        return module == prefix or module.startswith(prefix + ".")
    return module == "auditor." + entry.removesuffix(".py").replace("/", ".")


def entry_exists(entry: str) -> bool:
    target = PACKAGE / entry
    return target.is_dir() or target.is_file() or (entry.endswith("/") and (PACKAGE / f"{entry[:-1]}.py").is_file())


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    kind: str  # "top", "lazy" (inside a function) or "typing" (under TYPE_CHECKING)


class _Visitor(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, known: set[str]) -> None:
        self.module, self.is_package, self.known = module, is_package, known
        self.depth = self.typing = 0
        self.found: list[Import] = []

    def _function(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" in ast.unparse(node.test):
            self.typing += 1
            for child in node.body:
                self.visit(child)
            self.typing -= 1
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def _add(self, target: str, line: int) -> None:
        while target not in self.known and "." in target:
            target = target.rpartition(".")[0]
        if target in self.known and target != self.module:
            kind = "typing" if self.typing else "lazy" if self.depth else "top"
            self.found.append(Import(self.module, target, line, kind))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == "auditor" or alias.name.startswith("auditor."):
                self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.module.split(".") if self.is_package else self.module.split(".")[:-1]
            base = base[: len(base) - node.level + 1]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        if source != "auditor" and not source.startswith("auditor."):
            return
        for alias in node.names:
            # `from auditor.report import html` imports the module auditor.report.html.
            full = f"{source}.{alias.name}"
            self._add(full if full in self.known else source, node.lineno)


def sources() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports() -> list[Import]:
    found: list[Import] = []
    modules = sources()
    for module, path in modules.items():
        visitor = _Visitor(module, path.name == "__init__.py", set(modules))
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        found += visitor.found
    return found


def layer_of(layers: list[Layer]) -> dict[str, Layer]:
    """Each module's layer; AssertionError listing modules the map leaves out or names twice."""
    by_name = {layer.name: layer for layer in layers}
    interim = dict(ALLOWED_TODAY["interim"])
    placed: dict[str, Layer] = {}
    problems = []
    for module in sources():
        rows = {layer.name for layer in layers for entry in layer.entries if entry_covers(entry, module)}
        if module in interim:
            rows.add(interim[module])
        if len(rows) != 1:
            problems.append(f"{module}: {'in layers ' + ', '.join(sorted(rows)) if rows else 'in no layer'}")
        else:
            placed[module] = by_name[rows.pop()]
    assert not problems, "docs/architecture.md must place every module once:\n" + "\n".join(problems)
    return placed


def cycles(edges: set[tuple[str, str]]) -> list[tuple[str, ...]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(tuple(sorted(component)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def violations() -> Iterator[tuple[tuple[str, str], str]]:
    """Every import against the map: ((importer, imported), why)."""
    placed = layer_of(read_layers())
    paths = sources()
    for found in imports():
        source, target = placed[found.importer], placed[found.imported]
        where = f"{paths[found.importer].relative_to(ROOT)} line {found.line}"
        if found.imported == "auditor":
            yield (found.importer, found.imported), f"{where}: imports the auditor package (use auditor.version)"
        elif target.name not in source.allowed:
            why = (
                "collect and model are siblings"
                if {source.name, target.name} == {"3a", "3b"}
                else "only the library and the CLI use the emulator"
                if target.name == "E"
                else f"layer {source.name} may not import layer {target.name}"
            )
            yield (found.importer, found.imported), f"{where} ({found.kind}): {found.imported}: {why}"


def test_the_map_reads_and_names_only_modules_that_exist() -> None:
    layers = read_layers()
    assert [layer.name for layer in layers] == ["0", "1", "2", "3a", "3b", *map(str, range(4, 11)), "E"]
    missing = {(entry,) for layer in layers for entry in layer.entries if not entry_exists(entry)}
    assert missing == ALLOWED_TODAY["planned"], (
        "docs/architecture.md names modules that do not exist (or ALLOWED_TODAY['planned'] lists ones that do)"
    )
    stale = {m for m, _ in ALLOWED_TODAY["interim"]} - set(sources())
    assert not stale, f"ALLOWED_TODAY['interim'] lists modules that are gone: {sorted(stale)}"


def test_every_module_is_in_exactly_one_layer() -> None:
    layer_of(read_layers())


def test_no_import_points_against_the_layers() -> None:
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for edge, why in violations():
        found[edge].add(why)
    new = {edge: whys for edge, whys in found.items() if edge not in ALLOWED_TODAY["edges"]}
    assert not new, "imports against docs/architecture.md:\n" + "\n".join(sorted(w for ws in new.values() for w in ws))
    gone = ALLOWED_TODAY["edges"] - set(found)
    assert not gone, f"ALLOWED_TODAY['edges'] lists imports that no longer break the map: delete {sorted(gone)}"


def test_no_import_cycle_not_even_through_lazy_or_typing_imports() -> None:
    edges = {(i.importer, i.imported) for i in imports()}
    found = set(cycles(edges))
    new = found - ALLOWED_TODAY["cycles"]
    detail = [
        f"  {i.importer} -> {i.imported} line {i.line} ({i.kind})"
        for i in imports()
        if any(i.importer in c and i.imported in c for c in new)
    ]
    assert not new, "import cycles:\n" + "\n".join(map(str, sorted(new))) + "\n" + "\n".join(detail)
    gone = ALLOWED_TODAY["cycles"] - found
    assert not gone, f"ALLOWED_TODAY['cycles'] lists cycles that are gone: delete {sorted(gone)}"


@dataclass(frozen=True)
class Deferred:
    path: str  # relative to the repository
    line: int
    module: str  # as written ('.x' for a relative import)
    explained: bool  # a "Deferred for import cost" comment above it (or above the imports it is grouped with)


def deferred_imports(path: Path, root: Path = ROOT) -> list[Deferred]:
    """Every import inside a function of the file (not under TYPE_CHECKING); paths relative to root."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    found: list[Deferred] = []

    def explained(line: int) -> bool:
        index = line - 2
        while index >= 0 and lines[index].strip().startswith(("import ", "from ")):
            index -= 1
        return index >= 0 and DEFERRED in lines[index]

    def walk(node: ast.AST, inside: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            here = inside or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if here and isinstance(child, ast.Import | ast.ImportFrom):
                if isinstance(child, ast.ImportFrom):
                    modules = ["." * child.level + (child.module or "")]
                else:
                    modules = [alias.name for alias in child.names]
                for module in modules:
                    found.append(
                        Deferred(path.relative_to(root).as_posix(), child.lineno, module, explained(child.lineno))
                    )
            walk(child, here)

    walk(ast.parse(text, str(path)), False)
    return found


def test_an_import_inside_a_function_only_defers_a_heavy_package() -> None:
    problems = []
    seen = set()
    for path in sources().values():
        for found in deferred_imports(path):
            if path == FACADE:
                continue
            seen.add((found.path, found.module))
            top = found.module.split(".")[0]
            if (found.path, found.module) in ALLOWED_TODAY["deferred"]:
                continue
            if found.module.startswith(".") or top == "auditor":
                problems.append(f"{found.path} line {found.line}: {found.module}: import it at the top of the file")
            elif top not in HEAVY:
                problems.append(f"{found.path} line {found.line}: {found.module} is cheap: import it at the top")
            elif not found.explained:
                problems.append(f"{found.path} line {found.line}: {found.module}: say '# {DEFERRED}: ...' above it")
    assert not problems, "imports inside functions:\n" + "\n".join(problems)
    gone = ALLOWED_TODAY["deferred"] - seen
    assert not gone, f"ALLOWED_TODAY['deferred'] lists imports that are gone: delete {sorted(gone)}"


def terminal_output(path: Path) -> list[str]:
    """What in the file writes to the terminal: print(), sys.stdout/sys.stderr, warnings.warn, rich or click."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
            found.append((node.lineno, "print()"))
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "sys" and node.attr in ("stdout", "stderr"):
                found.append((node.lineno, f"sys.{node.attr}"))
            elif node.value.id == "warnings" and node.attr == "warn":
                found.append((node.lineno, "warnings.warn"))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [(node.lineno, f"imports {n}") for n in names if n.split(".")[0] in ("rich", "click")]
    return [f"line {line}: {what}" for line, what in sorted(found)]


def test_only_the_command_line_writes_to_the_terminal() -> None:
    problems = []
    for module, path in sources().items():
        relative = path.relative_to(ROOT).as_posix()
        if module.startswith("auditor.cli") or module == "auditor.__main__":
            continue
        problems += [f"{relative} {where}" for where in terminal_output(path)]
    assert not problems, "return warnings and problems as values; the CLI prints them:\n" + "\n".join(problems)


def test_the_checker_sees_lazy_typing_and_relative_imports(tmp_path: Path) -> None:
    source = (
        "from __future__ import annotations\n"
        "from typing import TYPE_CHECKING\n"
        "from . import store\n"
        "from .report import html\n"
        "import auditor.errors\n"
        "from auditor import __version__\n"
        "if TYPE_CHECKING:\n"
        "    from auditor.controls import Control\n"
        "def f():\n"
        "    from auditor.emulator.server import serve\n"
    )
    known = {
        "auditor",
        "auditor.store",
        "auditor.report",
        "auditor.report.html",
        "auditor.errors",
        "auditor.controls",
        "auditor.emulator",
        "auditor.emulator.server",
        "auditor.policy",
    }
    visitor = _Visitor("auditor.policy", False, known)
    visitor.visit(ast.parse(source))
    assert [(i.imported, i.kind) for i in visitor.found] == [
        ("auditor.store", "top"),
        ("auditor.report.html", "top"),
        ("auditor.errors", "top"),
        ("auditor", "top"),
        ("auditor.controls", "typing"),
        ("auditor.emulator.server", "lazy"),
    ]
    assert cycles({("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "d")}) == [("a", "b", "c")]


def test_the_checker_sees_terminal_output(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import sys, warnings\n"
        "from rich.console import Console\n"
        "print('x', file=sys.stderr)\n"
        "warnings.warn('y')\n"
        "logger.warning('z')\n",
        encoding="utf-8",
    )
    assert terminal_output(sample) == [
        "line 2: imports rich.console",
        "line 3: print()",
        "line 3: sys.stderr",
        "line 4: warnings.warn",
    ]


def test_the_checker_sees_deferred_imports_and_their_reason(tmp_path: Path) -> None:
    sample = tmp_path / "auditor" / "sample.py"
    sample.parent.mkdir()
    sample.write_text(
        "import json\n"
        "def render():\n"
        "    # Deferred for import cost: WeasyPrint loads only when a PDF is written.\n"
        "    from weasyprint import HTML\n"
        "    import numpy\n"
        "def other():\n"
        "    from auditor.store import open_db\n"
        "    import string\n",
        encoding="utf-8",
    )
    found = [(d.line, d.module, d.explained) for d in deferred_imports(sample, tmp_path)]
    assert found == [(4, "weasyprint", True), (5, "numpy", True), (7, "auditor.store", False), (8, "string", False)]
