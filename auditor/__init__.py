"""aks-upgrade-auditor: audit AKS fleets for upgrade and patching controls."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("aks-upgrade-auditor")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
