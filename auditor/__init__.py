"""aks-upgrade-auditor: audit AKS fleets for upgrade and patching controls."""

from auditor.version import __version__

__all__ = ["__version__"]
