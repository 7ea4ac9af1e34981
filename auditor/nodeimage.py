"""Parse AKS node image version strings into image family, version part and release date.

Three version formats exist, and the version part is always the last component of the string, so the
parse runs from the right and everything before the separator is the image family:

- ``YYYYMM.DD.patch``  Ubuntu, Azure Linux, Mariner since 2022: ``AKSUbuntu-2204gen2containerd-202410.27.0``
- ``YYYY.MM.DD``       older Linux images: ``AKSUbuntu-1804gen2containerd-2022.10.03``,
  ``AKSUbuntu:1604:2020.03.11``
- ``build.rev.YYMMDD`` Windows: ``AKSWindows-2022-containerd-20348.3207.250214``

The family separator is ``-`` in API values and ``:`` in the oldest API examples. A bare version part (no
family) parses too, with an empty family, since the release catalog stores versions on their own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

FORMAT_YYYYMM_DD_PATCH = "YYYYMM.DD.patch"
FORMAT_YYYY_MM_DD = "YYYY.MM.DD"
FORMAT_WINDOWS = "build.rev.YYMMDD"

# Tried in this order; the patterns cannot overlap (first part of exactly 6, 4 and 4-5 digits, and the last
# part of the Windows form is exactly 6 digits), but order still matters for readability of failures.
_VERSION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        FORMAT_YYYYMM_DD_PATCH,
        re.compile(r"(?:^|[-:])(?P<v>(?P<y>\d{4})(?P<m>\d{2})\.(?P<d>\d{2})\.\d{1,3})$"),
    ),
    (FORMAT_YYYY_MM_DD, re.compile(r"(?:^|[-:])(?P<v>(?P<y>\d{4})\.(?P<m>\d{2})\.(?P<d>\d{2}))$")),
    # Windows build numbers are 5 digits (17763, 20348, 25398, 26100); one vhd-notes file name drops the
    # leading digit ("0348.2402.240410"), so accept 4 too.
    (FORMAT_WINDOWS, re.compile(r"(?:^|[-:])(?P<v>\d{4,5}\.\d{1,6}\.(?P<y>\d{2})(?P<m>\d{2})(?P<d>\d{2}))$")),
)


@dataclass(frozen=True)
class NodeImage:
    """A parsed node image version string."""

    raw: str
    family: str
    version: str
    version_format: str
    release_date: date


def parse_node_image(value: str) -> NodeImage | None:
    """Parse a nodeImageVersion (or a bare version part); None when no known format or an invalid date."""
    text = value.strip()
    for version_format, pattern in _VERSION_PATTERNS:
        match = pattern.search(text)
        if match is None:
            continue
        year = int(match["y"])
        if version_format == FORMAT_WINDOWS:
            year += 2000
        try:
            released = date(year, int(match["m"]), int(match["d"]))
        except ValueError:
            return None
        family = text[: match.start("v")].rstrip("-:")
        return NodeImage(
            raw=text,
            family=family,
            version=match["v"],
            version_format=version_format,
            release_date=released,
        )
    return None


def node_image_date(value: str) -> date | None:
    """Release date implied by a node image version string, or None."""
    parsed = parse_node_image(value)
    return parsed.release_date if parsed else None
