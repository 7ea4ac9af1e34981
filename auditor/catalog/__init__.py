"""The bundled AKS catalog: the Kubernetes version calendar, every node image release, and the end of support of
each node OS and of Availability Set pools (package data).

The files under ``auditor/catalog/data`` are produced by :func:`auditor.catalog.refresh.refresh` and
shipped in the wheel; they are read with importlib.resources so an installed package needs no source checkout.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources

PLAN_OFFICIAL = "KubernetesOfficial"
PLAN_LTS = "AKSLongTermSupport"


@dataclass(frozen=True)
class MinorVersion:
    """One Kubernetes minor in the AKS calendar, with resolved dates (see docs/catalog.md for the rules)."""

    minor: str
    upstream_release: date | None
    aks_preview: date | None
    aks_ga: date | None
    end_of_support: date | None
    platform_support_end: date | None
    lts_end: date | None
    endoflife_release_date: date | None
    endoflife_eol: date | None
    endoflife_lts_end: date | None
    cross_check: str
    notes: str

    @property
    def key(self) -> tuple[int, int]:
        """Sortable (major, minor)."""
        return minor_key(self.minor)

    @property
    def lts_available(self) -> bool:
        """Whether AKS offers Long-Term Support for this minor."""
        return self.lts_end is not None

    def support_end(self, plan: str = PLAN_OFFICIAL) -> date | None:
        """Last supported day under a support plan (LTS falls back to community support when not offered)."""
        if plan == PLAN_LTS and self.lts_end is not None:
            return self.lts_end
        return self.end_of_support

    def is_supported(self, day: date, plan: str = PLAN_OFFICIAL) -> bool:
        """Whether the minor is generally available and still supported on that day under the plan."""
        end = self.support_end(plan)
        return self.aks_ga is not None and self.aks_ga <= day and end is not None and day <= end


@dataclass(frozen=True)
class OsSupport:
    """End of AKS support for a node OS release (matched by node image family or OS SKU) or a pool type.

    Hand-maintained in ``data/os_support.csv`` from Microsoft's retirement notices (docs/catalog.md); the row
    order is the match priority.
    """

    key: str
    label: str
    applies_to: str  # os | pool_type
    image_family_pattern: str  # a regular expression over the lower-cased image family prefix, or ""
    os_skus: tuple[str, ...]  # OS SKUs (or, for pool_type, pool types) that name it unambiguously
    end_of_support: date | None  # None: no end announced
    images_removed: date | None
    migrate_to: str  # the OS SKU to move to, or a remediation variant ("vmas")
    migration: str
    source: str
    note: str


@dataclass(frozen=True)
class NodeImageRelease:
    """One node image release of a family (release line), as listed in Azure/AKS vhd-notes."""

    family: str
    version: str
    version_format: str
    release_date: date
    first_changelog_release: date | None
    source_family: str
    source_path: str
    notes: str


def minor_key(version: str) -> tuple[int, int]:
    """(major, minor) of "1.31" or "1.31.2"; raises ValueError for anything else."""
    parts = version.strip().split(".")
    if len(parts) < 2:
        raise ValueError(f"not a Kubernetes version: {version!r}")
    return int(parts[0]), int(parts[1])


def _optional_date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _data_text(name: str) -> str:
    return resources.files(__name__).joinpath("data", name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _calendar() -> tuple[MinorVersion, ...]:
    rows = csv.DictReader(io.StringIO(_data_text("kubernetes_versions.csv")))
    return tuple(
        MinorVersion(
            minor=row["minor"],
            upstream_release=_optional_date(row["upstream_release"]),
            aks_preview=_optional_date(row["aks_preview"]),
            aks_ga=_optional_date(row["aks_ga"]),
            end_of_support=_optional_date(row["end_of_support"]),
            platform_support_end=_optional_date(row["platform_support_end"]),
            lts_end=_optional_date(row["lts_end"]),
            endoflife_release_date=_optional_date(row["endoflife_release_date"]),
            endoflife_eol=_optional_date(row["endoflife_eol"]),
            endoflife_lts_end=_optional_date(row["endoflife_lts_end"]),
            cross_check=row["cross_check"],
            notes=row["notes"],
        )
        for row in rows
    )


@lru_cache(maxsize=1)
def _node_images() -> tuple[NodeImageRelease, ...]:
    rows = csv.DictReader(io.StringIO(_data_text("node_images.csv")))
    return tuple(
        NodeImageRelease(
            family=row["family"],
            version=row["version"],
            version_format=row["version_format"],
            release_date=date.fromisoformat(row["release_date"]),
            first_changelog_release=_optional_date(row["first_changelog_release"]),
            source_family=row["source_family"],
            source_path=row["source_path"],
            notes=row["notes"],
        )
        for row in rows
    )


@lru_cache(maxsize=1)
def _meta() -> dict[str, object]:
    loaded: dict[str, object] = json.loads(_data_text("catalog.json"))
    return loaded


@lru_cache(maxsize=1)
def _os_support() -> tuple[OsSupport, ...]:
    rows: list[OsSupport] = []
    for number, row in enumerate(csv.DictReader(io.StringIO(_data_text("os_support.csv"))), start=2):
        if row["applies_to"] not in ("os", "pool_type") or not row["source"].startswith("https://"):
            raise ValueError(f"os_support.csv:{number}: applies_to must be os or pool_type, and source an https URL")
        rows.append(
            OsSupport(
                key=row["key"],
                label=row["label"],
                applies_to=row["applies_to"],
                image_family_pattern=row["image_family_pattern"],
                os_skus=tuple(s for s in row["os_skus"].split("|") if s),
                end_of_support=_optional_date(row["end_of_support"]),
                images_removed=_optional_date(row["images_removed"]),
                migrate_to=row["migrate_to"],
                migration=row["migration"],
                source=row["source"],
                note=row["note"],
            )
        )
    return tuple(rows)


def load_os_support() -> list[OsSupport]:
    """End of support of each node OS release and of Availability Set pools, in match priority order."""
    return list(_os_support())


def load_calendar() -> list[MinorVersion]:
    """Every Kubernetes minor of the AKS calendar, oldest first."""
    return sorted(_calendar(), key=lambda item: item.key)


def find_minor(version: str) -> MinorVersion | None:
    """The calendar entry for the minor of "1.31" or "1.31.2", or None when the calendar lacks it."""
    wanted = minor_key(version)
    return next((item for item in _calendar() if item.key == wanted), None)


def load_node_images() -> list[NodeImageRelease]:
    """Every node image release, ordered by family then release date."""
    return list(_node_images())


def catalog_version() -> str:
    """The catalog's version: the newest date among its source rows (YYYY-MM-DD)."""
    return str(_meta()["catalogVersion"])


def sources_text() -> str:
    """The bundled SOURCES.md (sources, commits, licences and attribution)."""
    return _data_text("SOURCES.md")
