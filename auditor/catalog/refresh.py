"""Regenerate the bundled catalog files from a source directory shaped like the shared aks-data folder.

Inputs (all required): ``aks-k8s-calendar.csv`` (the AKS docs release calendar, cell text verbatim),
``azure-kubernetes-service.md`` (the endoflife.date product page), ``node-image-releases.csv`` (every
Azure/AKS vhd-notes release). Optional: ``provenance.json`` overriding the repository commits credited in
SOURCES.md (the defaults describe the copy the bundled files were built from).

Date rules, applied identically on every refresh (docs/catalog.md explains them):
- an explicit day (``Mar-25-19``, ``Aug 22, 2025``) is that day;
- a month alone (``Apr 2025``, ``Aug 19``, ``Sept 19``) is the 1st of the month in the start columns
  (upstream release, AKS preview, AKS GA) and the last day of the month in the end columns (end of life,
  LTS end of life), as the AKS page states: "Mar 2026" indicates March 31, 2026;
- ``X GA``, ``*X GA`` and ``Until X GA`` (end columns only) mean "when version X reaches GA": X's AKS GA
  cell, resolved with the end-column rule; when X is not in the calendar the date stays empty.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from auditor.catalog import load_os_support
from auditor.errors import AuditorError
from auditor.integrity import file_sha256
from auditor.nodeimage import parse_node_image

CALENDAR_FILE = "aks-k8s-calendar.csv"
ENDOFLIFE_FILE = "azure-kubernetes-service.md"
NODE_IMAGES_FILE = "node-image-releases.csv"
PROVENANCE_FILE = "provenance.json"

KUBERNETES_VERSIONS_OUT = "kubernetes_versions.csv"
NODE_IMAGES_OUT = "node_images.csv"
CATALOG_META_OUT = "catalog.json"
SOURCES_OUT = "SOURCES.md"
# Where the package reads its catalog from (auditor/catalog/data), the default target of a refresh.
BUNDLED_DATA = Path(__file__).resolve().parent / "data"

KUBERNETES_VERSION_COLUMNS = (
    "minor",
    "upstream_release",
    "aks_preview",
    "aks_ga",
    "end_of_support",
    "platform_support_end",
    "lts_end",
    "endoflife_release_date",
    "endoflife_eol",
    "endoflife_lts_end",
    "cross_check",
    "notes",
    "source_upstream_release",
    "source_aks_preview",
    "source_aks_ga",
    "source_end_of_life",
    "source_platform_support",
    "source_lts_end_of_life",
    "source_commit",
    "lts_source_commit",
)

NODE_IMAGE_COLUMNS = (
    "family",
    "version",
    "version_format",
    "release_date",
    "first_changelog_release",
    "source_family",
    "source_path",
    "notes",
)

# The vhd-notes labels, mapped to one family name per release line (the API prefix stem where one exists).
_FAMILY_NAMES = {
    "AzureLinux (v2)": "AKSAzureLinux-V2",
    "AzureLinuxv3": "AKSAzureLinux-V3",
    "AKSWindows-2019 (inferred from build)": "AKSWindows-2019",
}

# What the bundled files were built from (tests/fixtures/azure-examples/README.md); a source directory may carry
# its own provenance.json with the same keys when it was copied from newer commits.
DEFAULT_PROVENANCE: dict[str, dict[str, str]] = {
    "MicrosoftDocs/azure-aks-docs": {
        "path": "articles/aks/supported-kubernetes-versions.md",
        "commit": "f988e7e8b023581e9e736cefa17b035a02e7b686",
        "commit_date": "2026-08-05",
        "repository_head": "fb060abe6a8fef960d4c487b543bf7b1e97808fe",
        "license": "CC BY 4.0 (documentation); MIT (code, LICENSE-CODE)",
        "attribution": "Microsoft, MicrosoftDocs/azure-aks-docs",
    },
    "endoflife-date/endoflife.date": {
        "path": "products/azure-kubernetes-service.md",
        "commit": "c1b458e81970ea330d864aa57bd8c4fa40a4404c",
        "commit_date": "2026-07-02",
        "repository_head": "a70eca337600e7d721dc48112c271f98661d208b",
        "license": "MIT",
        "attribution": "endoflife.date contributors",
    },
    "Azure/AKS": {
        "path": "vhd-notes/**.txt (every path ever added), CHANGELOG.md",
        "commit": "8d1c890900df47080a5a3a0de0ad06da110af845",
        "commit_date": "2026-08-07",
        "repository_head": "8d1c890900df47080a5a3a0de0ad06da110af845",
        "license": "MIT",
        "attribution": "Microsoft, Azure/AKS",
    },
}

_MONTHS = {
    name: index
    for index, names in enumerate(
        (
            (),
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        )
    )
    for name in names
}

_DAY_DASHED = re.compile(r"^(?P<mon>[A-Za-z]{3,9})-(?P<day>\d{1,2})-(?P<year>\d{2}|\d{4})$")
_DAY_SPELLED = re.compile(r"^(?P<mon>[A-Za-z]{3,9})\.? (?P<day>\d{1,2}), (?P<year>\d{4})$")
_DAY_ISO = re.compile(r"^(?P<year>\d{4})-(?P<mon>\d{2})-(?P<day>\d{2})$")
_MONTH_ONLY = re.compile(r"^(?P<mon>[A-Za-z]{3,9})\.? (?P<year>\d{2}|\d{4})$")
_GA_REFERENCE = re.compile(r"^(?:Until )?\*?(?P<minor>\d+\.\d+) GA$")
_MINOR = re.compile(r"^\d+\.\d+$")


class CatalogSourceError(AuditorError):
    """A source file is missing or holds a cell the refresh cannot interpret."""


@dataclass(frozen=True)
class _Cell:
    """One calendar cell, classified before references are resolved."""

    text: str
    precision: str  # "day" | "month" | "ref" | "empty"
    year: int = 0
    month: int = 0
    day: int = 0
    ref_minor: str = ""

    def start_date(self) -> date | None:
        if self.precision == "day":
            return date(self.year, self.month, self.day)
        if self.precision == "month":
            return date(self.year, self.month, 1)
        return None

    def end_date(self) -> date | None:
        if self.precision == "day":
            return date(self.year, self.month, self.day)
        if self.precision == "month":
            return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])
        return None


def _year(text: str) -> int:
    value = int(text)
    return 2000 + value if value < 100 else value


def _month(name: str, where: str) -> int:
    try:
        return _MONTHS[name.lower()]
    except KeyError:
        raise CatalogSourceError(f"{where}: unknown month name {name!r}") from None


def _parse_cell(text: str, where: str) -> _Cell:
    value = text.strip()
    if not value:
        return _Cell(text, "empty")
    if match := _DAY_ISO.match(value):
        return _Cell(text, "day", int(match["year"]), int(match["mon"]), int(match["day"]))
    for pattern in (_DAY_DASHED, _DAY_SPELLED):
        if match := pattern.match(value):
            cell = _Cell(text, "day", _year(match["year"]), _month(match["mon"], where), int(match["day"]))
            _check_date(cell, where)
            return cell
    if match := _MONTH_ONLY.match(value):
        return _Cell(text, "month", _year(match["year"]), _month(match["mon"], where))
    if match := _GA_REFERENCE.match(value):
        return _Cell(text, "ref", ref_minor=match["minor"])
    raise CatalogSourceError(f"{where}: cannot interpret date cell {text!r}")


def _check_date(cell: _Cell, where: str) -> None:
    try:
        cell.start_date()
    except ValueError as exc:
        raise CatalogSourceError(f"{where}: invalid date {cell.text!r}: {exc}") from None


def _minor_key(minor: str) -> tuple[int, int]:
    major, _, rest = minor.partition(".")
    return int(major), int(rest)


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise CatalogSourceError(f"missing source file {path}")
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _parse_endoflife(path: Path) -> dict[str, dict[str, date]]:
    """The endoflife.date `releases:` list: releaseCycle -> {releaseDate, eol, eoes}."""
    if not path.is_file():
        raise CatalogSourceError(f"missing source file {path}")
    lines = path.read_text(encoding="utf-8").splitlines()
    releases: dict[str, dict[str, date]] = {}
    in_releases = False
    current: dict[str, date] | None = None
    for number, line in enumerate(lines, start=1):
        if line.startswith("releases:"):
            in_releases = True
            continue
        if not in_releases:
            continue
        if line.startswith("---"):
            break
        stripped = line.split("#", 1)[0].strip()
        if not stripped:
            continue
        if match := re.match(r'^- releaseCycle: "?(?P<cycle>[\d.]+)"?$', stripped):
            current = releases.setdefault(match["cycle"], {})
            continue
        if current is not None and (match := re.match(r"^(?P<key>releaseDate|eol|eoes): (?P<value>\S+)$", stripped)):
            try:
                current[match["key"]] = date.fromisoformat(match["value"])
            except ValueError:
                raise CatalogSourceError(
                    f"{path.name}:{number}: {match['key']} is not a date: {match['value']!r}"
                ) from None
    if not releases:
        raise CatalogSourceError(f"{path.name}: no `releases:` list found")
    return releases


def _build_kubernetes_versions(
    calendar_rows: list[dict[str, str]], endoflife: dict[str, dict[str, date]]
) -> tuple[list[dict[str, str]], list[str]]:
    cells: dict[str, dict[str, _Cell]] = {}
    for index, row in enumerate(calendar_rows, start=2):
        minor = row.get("kubernetes_version", "").strip()
        if not _MINOR.match(minor):
            raise CatalogSourceError(f"{CALENDAR_FILE}:{index}: bad kubernetes_version {minor!r}")
        cells[minor] = {
            column: _parse_cell(row.get(column, ""), f"{CALENDAR_FILE}:{index} ({minor}, {column})")
            for column in (
                "upstream_release",
                "aks_preview",
                "aks_ga",
                "end_of_life",
                "platform_support",
                "lts_end_of_life",
            )
        }
        for column in ("upstream_release", "aks_preview", "aks_ga"):
            if cells[minor][column].precision == "ref":
                raise CatalogSourceError(
                    f"{CALENDAR_FILE}:{index} ({minor}, {column}): a GA reference in a start column"
                )

    def resolve_end(minor: str, column: str, notes: list[str]) -> date | None:
        cell = cells[minor][column]
        if cell.precision != "ref":
            return cell.end_date()
        target = cells.get(cell.ref_minor)
        if target is None:
            notes.append(f"{column} '{cell.text.strip()}': {cell.ref_minor} is not in the calendar yet")
            return None
        return target["aks_ga"].end_date()

    rows: list[dict[str, str]] = []
    discrepancies: list[str] = []
    for minor in sorted(cells, key=_minor_key):
        notes: list[str] = []
        row_cells = cells[minor]
        source = next(r for r in calendar_rows if r["kubernetes_version"].strip() == minor)
        upstream = row_cells["upstream_release"].start_date()
        preview = row_cells["aks_preview"].start_date()
        ga = row_cells["aks_ga"].start_date()
        end_of_support = resolve_end(minor, "end_of_life", notes)
        platform_end = resolve_end(minor, "platform_support", notes)
        lts_end = resolve_end(minor, "lts_end_of_life", notes)
        if "*" in row_cells["end_of_life"].text:
            notes.append("end_of_life carries a footnote asterisk in the source; dropped")
        if preview and upstream and preview < upstream:
            notes.append("AKS preview precedes the upstream release in the source (kept as written)")
        eol_entry = endoflife.get(minor, {})
        checks: list[str] = []
        if not eol_entry:
            checks.append("not listed on endoflife.date")
        else:
            for label, ours, theirs in (
                ("end of support", end_of_support, eol_entry.get("eol")),
                ("LTS end", lts_end, eol_entry.get("eoes")),
            ):
                if theirs is None and ours is None:
                    continue
                if ours != theirs:
                    checks.append(f"{label}: calendar {_iso(ours) or 'none'}, endoflife.date {_iso(theirs) or 'none'}")
        cross_check = "; ".join(checks) if checks else "agrees"
        if checks and eol_entry:
            discrepancies.append(f"{minor}: {cross_check}")
        rows.append(
            {
                "minor": minor,
                "upstream_release": _iso(upstream),
                "aks_preview": _iso(preview),
                "aks_ga": _iso(ga),
                "end_of_support": _iso(end_of_support),
                "platform_support_end": _iso(platform_end),
                "lts_end": _iso(lts_end),
                "endoflife_release_date": _iso(eol_entry.get("releaseDate")),
                "endoflife_eol": _iso(eol_entry.get("eol")),
                "endoflife_lts_end": _iso(eol_entry.get("eoes")),
                "cross_check": cross_check,
                "notes": "; ".join(notes),
                "source_upstream_release": source.get("upstream_release", ""),
                "source_aks_preview": source.get("aks_preview", ""),
                "source_aks_ga": source.get("aks_ga", ""),
                "source_end_of_life": source.get("end_of_life", ""),
                "source_platform_support": source.get("platform_support", ""),
                "source_lts_end_of_life": source.get("lts_end_of_life", ""),
                "source_commit": source.get("std_row_source_commit", ""),
                "lts_source_commit": source.get("lts_row_source_commit", ""),
            }
        )
        if not end_of_support:
            raise CatalogSourceError(f"{CALENDAR_FILE}: {minor} has no resolvable end of life")
    return rows, discrepancies


def _build_node_images(release_rows: list[dict[str, str]]) -> tuple[list[dict[str, str]], list[str]]:
    merged: dict[tuple[str, str], dict[str, str]] = {}
    skipped: list[str] = []
    for index, row in enumerate(release_rows, start=2):
        source_family = row["image_family"].strip()
        version = row["version"].strip()
        notes: list[str] = []
        family = _FAMILY_NAMES.get(source_family, source_family)
        if source_family == "aks-ubuntu":
            # A file left at the vhd-notes/aks-ubuntu root; the same build is listed under AKSUbuntu-2204.
            family = "AKSUbuntu-2204"
            notes.append("also filed at the aks-ubuntu folder root")
        parsed = parse_node_image(version)
        if parsed is None:
            skipped.append(f"{NODE_IMAGES_FILE}:{index}: {source_family} {version!r} has no parseable date")
            continue
        if parsed.version_format == "build.rev.YYMMDD" and len(version.split(".")[0]) == 4:
            # vhd-notes/AKSWindows/2022/0348.2402.240410.txt drops the build's leading digit.
            version = "2" + version
            notes.append("one vhd-notes file name drops the leading digit of the build number")
        implied = row.get("implied_date", "").strip()
        if implied and implied != parsed.release_date.isoformat():
            raise CatalogSourceError(
                f"{NODE_IMAGES_FILE}:{index}: implied_date {implied} disagrees with version {version}"
            )
        key = (family, version)
        candidate = {
            "family": family,
            "version": version,
            "version_format": parsed.version_format,
            "release_date": parsed.release_date.isoformat(),
            "first_changelog_release": row.get("first_changelog_release_referencing", "").strip(),
            "source_family": source_family,
            "source_path": row.get("source_path", "").strip(),
            "notes": "; ".join(notes),
            "_at_head": "1" if row.get("present_at_repository_head", "").startswith("yes") else "0",
        }
        existing = merged.get(key)
        if existing is None:
            merged[key] = candidate
            continue
        # Keep the path still present at the repository head; the earliest CHANGELOG reference wins.
        changelog = sorted(d for d in (existing["first_changelog_release"], candidate["first_changelog_release"]) if d)
        keep = existing if _path_rank(existing) >= _path_rank(candidate) else candidate
        other = existing if keep is candidate else candidate
        keep["first_changelog_release"] = changelog[0] if changelog else ""
        keep["notes"] = "; ".join(n for n in (keep["notes"], other["notes"]) if n)
        merged[key] = keep
    rows = sorted(merged.values(), key=lambda r: (r["family"], r["release_date"], r["version"]))
    for row in rows:
        row.pop("_at_head", None)
    return rows, skipped


def _path_rank(row: dict[str, str]) -> tuple[int, int]:
    """Prefer a path still at the repository head, then one whose file name is the version itself."""
    return int(row["_at_head"]), int(row["source_path"].endswith(f"/{row['version']}.txt"))


def _csv_text(columns: Iterable[str], rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _sources_markdown(provenance: dict[str, dict[str, str]], meta: dict[str, Any]) -> str:
    lines = [
        "# Sources and credits for the bundled AKS catalog",
        "",
        "The files in this folder are derived, by `auditor catalog refresh`, from public data written by",
        "Microsoft and by the endoflife.date project. They are redistributed under the licences below; the",
        "derivation (date normalisation, de-duplication) is ours and described in docs/catalog.md.",
        "",
        f"Catalog version: {meta['catalogVersion']} (the newest date among the source rows).",
        "",
        "| Source | Path | Commit | Licence | Attribution |",
        "|---|---|---|---|---|",
    ]
    for repo in sorted(provenance):
        entry = provenance[repo]
        commit = entry.get("commit", "")
        head = entry.get("repository_head", "")
        commit_text = f"`{commit}` ({entry.get('commit_date', '')})"
        if head and head != commit:
            commit_text += f"; repository HEAD `{head}`"
        lines.append(
            f"| {repo} | `{entry.get('path', '')}` | {commit_text} | {entry.get('license', '')} | "
            f"{entry.get('attribution', '')} |"
        )
    lines += [
        "",
        "Per-row commits: `kubernetes_versions.csv` keeps the azure-aks-docs commit each calendar row was",
        "read from (`source_commit`, `lts_source_commit`); rows for versions no longer on the current page",
        "come from the newest older commit of that page that still listed them. `node_images.csv` keeps the",
        "vhd-notes path of each release.",
        "",
        "Licence texts: Creative Commons Attribution 4.0 International",
        "(https://creativecommons.org/licenses/by/4.0/) for the AKS documentation; the MIT licence for",
        "Azure/AKS (LICENSE.MD) and endoflife.date (LICENSE).",
        "",
        "Input files (SHA-256):",
        "",
    ]
    for name, digest in sorted(meta["inputs"].items()):
        lines.append(f"- `{name}` `{digest}`")
    lines += _os_support_sources()
    lines.append("")
    return "\n".join(lines)


def _os_support_sources() -> list[str]:
    """The credits of os_support.csv: kept by hand from Microsoft's retirement notices, not derived by refresh."""

    lines = [
        "",
        "`os_support.csv` (end of AKS support per node OS release and for Availability Set pools) is maintained by",
        "hand from Microsoft's retirement notices, not derived by `auditor catalog refresh`; each row names its",
        "source (Microsoft Learn, CC BY 4.0; Azure/AKS issues and release notes, MIT):",
        "",
    ]
    for row in load_os_support():
        end = row.end_of_support.isoformat() if row.end_of_support else "no end announced"
        lines.append(f"- {row.label}: {end} — {row.source}")
    return lines


def refresh(source_dir: Path, out_dir: Path | None = None) -> dict[str, Any]:
    """Regenerate the catalog files in out_dir (the package's own data directory by default) from source_dir;
    returns counts, cross-check notes, skips."""
    source_dir = Path(source_dir)
    out_dir = Path(out_dir) if out_dir is not None else BUNDLED_DATA
    calendar_rows = _read_csv(source_dir / CALENDAR_FILE)
    endoflife = _parse_endoflife(source_dir / ENDOFLIFE_FILE)
    release_rows = _read_csv(source_dir / NODE_IMAGES_FILE)
    provenance = DEFAULT_PROVENANCE
    provenance_path = source_dir / PROVENANCE_FILE
    if provenance_path.is_file():
        try:
            provenance = json.loads(provenance_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CatalogSourceError(f"{provenance_path}: not valid JSON: {exc}") from None

    version_rows, discrepancies = _build_kubernetes_versions(calendar_rows, endoflife)
    image_rows, skipped = _build_node_images(release_rows)

    source_dates = [
        value
        for row in calendar_rows
        for value in (row.get("std_row_source_commit_date", ""), row.get("lts_row_source_commit_date", ""))
        if value
    ]
    source_dates += [row.get("added_commit_date", "") for row in release_rows if row.get("added_commit_date")]
    source_dates += [row["release_date"] for row in image_rows]
    catalog_version = max(source_dates)

    inputs = {name: file_sha256(source_dir / name) for name in (CALENDAR_FILE, ENDOFLIFE_FILE, NODE_IMAGES_FILE)}
    meta: dict[str, Any] = {
        "catalogVersion": catalog_version,
        "counts": {"kubernetesVersions": len(version_rows), "nodeImages": len(image_rows)},
        "crossCheck": discrepancies,
        "skipped": skipped,
        "inputs": inputs,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / KUBERNETES_VERSIONS_OUT).write_text(
        _csv_text(KUBERNETES_VERSION_COLUMNS, version_rows), encoding="utf-8"
    )
    (out_dir / NODE_IMAGES_OUT).write_text(_csv_text(NODE_IMAGE_COLUMNS, image_rows), encoding="utf-8")
    (out_dir / CATALOG_META_OUT).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (out_dir / SOURCES_OUT).write_text(_sources_markdown(provenance, meta), encoding="utf-8")
    return {
        "catalog_version": catalog_version,
        "kubernetes_versions": len(version_rows),
        "node_images": len(image_rows),
        "cross_check": discrepancies,
        "skipped": skipped,
        "files": [
            str(out_dir / name) for name in (KUBERNETES_VERSIONS_OUT, NODE_IMAGES_OUT, CATALOG_META_OUT, SOURCES_OUT)
        ],
    }
