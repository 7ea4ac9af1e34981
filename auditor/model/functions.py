"""Python functions the model's SQL calls: node-image parsing and Kubernetes label selectors, one implementation
each for Python and SQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import Any

import duckdb
from duckdb.func import FunctionNullHandling

from auditor import sql
from auditor.kubelabels import selector_matches_json
from auditor.nodeimage import parse_node_image

# A fleet has few distinct node images (a handful per family and week), so parsing is memoised.
_parse = lru_cache(maxsize=8192)(parse_node_image)


def _image_family(value: str | None) -> str | None:
    parsed = _parse(value) if value else None
    return parsed.family if parsed else None


def _image_date(value: str | None) -> date | None:
    parsed = _parse(value) if value else None
    return parsed.release_date if parsed else None


_FUNCTIONS: dict[str, tuple[Callable[..., Any], list[str], str]] = {
    "node_image_family": (_image_family, ["VARCHAR"], "VARCHAR"),
    "node_image_date": (_image_date, ["VARCHAR"], "DATE"),
    # Kubernetes label selector semantics (auditor/kubelabels.py): selector JSON, labels JSON -> BOOLEAN.
    "label_selector_matches": (selector_matches_json, ["VARCHAR", "VARCHAR"], "BOOLEAN"),
}


def register_functions(cursor: duckdb.DuckDBPyConnection) -> None:
    """Register the functions on the cursor's database, once (every cursor of a database shares them)."""
    existing = {row[0] for row in sql.run(cursor, "model/read/functions.sql", names=list(_FUNCTIONS))}
    for name, (function, parameters, returns) in _FUNCTIONS.items():
        if name in existing:
            continue
        cursor.create_function(
            name,
            function,
            parameters,  # type: ignore[arg-type]
            returns,
            null_handling=FunctionNullHandling.SPECIAL,
            side_effects=False,
        )
