"""Locate the SQL/KQL queries and templates, in a wheel or in a source checkout."""

from functools import cache
from pathlib import Path

from auditor.errors import AuditorError

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def _bundled(name: str) -> Path:
    # A wheel carries queries/ and templates/ inside the package (force-include in pyproject.toml);
    # a source checkout or an editable install keeps them at the top level beside the package.
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the bundled '{name}' directory is missing from this installation")


def queries_dir() -> Path:
    """Directory holding the KQL and DuckDB SQL files."""
    return _bundled("queries")


def templates_dir() -> Path:
    """Directory holding the Jinja2 templates and CSS."""
    return _bundled("templates")


def output_directory(path: Path) -> Path:
    """Create an output directory, or say in one line why it cannot be."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AuditorError(f"cannot create the output directory {path}: {exc.strerror}") from exc
    return path


def read_query(relative: str) -> str:
    """Text of one query file, e.g. 'kql/managed_clusters.kql'."""
    return (queries_dir() / relative).read_text(encoding="utf-8")
