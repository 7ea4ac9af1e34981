"""aks-upgrade-auditor: audit AKS fleets for upgrade and patching controls.

`auditor.open(path)` opens a store of scans (docs/library.md). The names load on first use (PEP 562), so importing
a submodule such as `auditor.emulator.server` does not load the library and its renderers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from auditor.api import Store, load_policy, open  # noqa: A004
    from auditor.version import __version__

__all__ = ["Store", "__version__", "load_policy", "open"]


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from auditor.version import __version__

        return __version__
    if name in ("open", "Store", "load_policy"):
        from auditor import api

        return getattr(api, name)
    raise AttributeError(f"module 'auditor' has no attribute {name!r}")
