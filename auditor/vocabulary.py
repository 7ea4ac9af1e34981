"""The words every layer shares: finding statuses and severities with their order, control levels and ids,
ARM ids, Kubernetes version sort keys, the compliance score, UTC timestamps and the progress hook."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from auditor.errors import InputError


class ProgressHook(Protocol):
    """Where long work reports how far it got; the command line draws it (auditor/cli/progress.py), a library
    caller may pass its own or none. Lower layers never print progress themselves."""

    def __call__(self, stage: str, done: int, total: int, /) -> None:
        """`done` of `total` items of `stage` are finished; total is 0 when the amount is not known in advance."""


class _Ranked(StrEnum):
    """A string enum ordered by seriousness (`rank`), not alphabetically; members still equal their strings, so
    JSON, CSV and SQL see plain text."""

    @property
    def rank(self) -> int:
        raise NotImplementedError

    def _other(self, other: object) -> _Ranked:
        if type(other) is not type(self):
            raise TypeError(f"cannot order {type(self).__name__} against {type(other).__name__}: compare ranks")
        assert isinstance(other, _Ranked)
        return other

    def __lt__(self, other: object) -> bool:
        return self.rank < self._other(other).rank

    def __le__(self, other: object) -> bool:
        return self.rank <= self._other(other).rank

    def __gt__(self, other: object) -> bool:
        return self.rank > self._other(other).rank

    def __ge__(self, other: object) -> bool:
        return self.rank >= self._other(other).rank

    @classmethod
    def parse(cls, text: str) -> Any:
        """The member named by text (case-insensitive); a usage error listing the valid values otherwise."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            valid = ", ".join(member.value for member in cls)
            raise InputError(f"unknown {cls.__name__.lower()} {text!r} (valid: {valid})") from None

    @classmethod
    def by_seriousness(cls) -> tuple[Any, ...]:
        """Every member, the most serious first."""
        return tuple(sorted(cls, key=lambda member: -member.rank))


class Status(_Ranked):
    """A finding's verdict. Declaration order is the column order of counts (reports, CSV, trend)."""

    PASS = "pass"  # noqa: S105 (a verdict, not a password)
    FAIL = "fail"
    WARN = "warn"
    UNKNOWN = "unknown"  # the evidence is missing: never a pass
    WAIVED = "waived"
    NOT_APPLICABLE = "not_applicable"

    @property
    def rank(self) -> int:
        """Seriousness: fail 5 > unknown 4 (compliance unproven) > warn 3 > waived 2 > pass 1 > not_applicable 0."""
        return _STATUS_RANK[self]


_STATUS_RANK = {
    Status.NOT_APPLICABLE: 0,
    Status.PASS: 1,
    Status.WAIVED: 2,
    Status.WARN: 3,
    Status.UNKNOWN: 4,
    Status.FAIL: 5,
}


class Severity(_Ranked):
    """A control's severity, declared from the least to the most serious."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 (info) to 4 (critical)."""
        return _SEVERITY_RANK[self]

    @property
    def weight(self) -> int:
        """2 ** rank: what one finding of this severity weighs when risks are ranked."""
        return 1 << self.rank


_SEVERITY_RANK = {severity: index for index, severity in enumerate(Severity)}


class Level(StrEnum):
    """What one finding of a control is about."""

    CLUSTER = "cluster"
    POOL = "pool"
    FLEET = "fleet"
    SUBSCRIPTION = "subscription"


@dataclass(frozen=True, order=True)
class ControlId:
    """A control id such as AKS-VER-01: a public contract, so its shape is fixed (two or three capitals)."""

    family: str
    number: int

    PATTERN: ClassVar[re.Pattern[str]] = re.compile(r"^AKS-([A-Z]{2,3})-(\d{2})$")

    @classmethod
    def parse(cls, text: str) -> ControlId:
        """The id in text; ValueError when it is not of the form AKS-XXX-NN."""
        match = cls.PATTERN.match(text)
        if not match:
            raise ValueError(f"{text!r} is not a control id (AKS-XXX-NN)")
        return cls(match[1], int(match[2]))

    @classmethod
    def is_valid(cls, text: str) -> bool:
        return cls.PATTERN.match(text) is not None

    def __str__(self) -> str:
        return f"AKS-{self.family}-{self.number:02d}"


@dataclass(frozen=True)
class ArmId:
    """An Azure Resource Manager id read segment by segment; segment names compare case-insensitively, as ARM
    does. `subscription_id` is lower-cased (Resource Graph's form); the other values keep their case."""

    text: str
    subscription_id: str
    resource_group: str
    name: str  # the value of the last segment: the resource's own name
    segments: tuple[tuple[str, str], ...]  # (segment name as written, value), in order

    @classmethod
    def parse(cls, text: str) -> ArmId:
        """The id in text; ValueError unless it starts with /subscriptions/<id>."""
        parts = text.strip().strip("/").split("/")
        if len(parts) < 2 or parts[0].lower() != "subscriptions" or not parts[1]:
            raise ValueError(f"{text!r} is not an Azure resource id (/subscriptions/...)")
        segments: list[tuple[str, str]] = []
        index = 0
        while index < len(parts):
            # 'providers' is followed by a namespace, every other segment name by a value.
            segments.append((parts[index], parts[index + 1] if index + 1 < len(parts) else ""))
            index += 2
        group = next((value for key, value in segments if key.lower() == "resourcegroups"), "")
        return cls(text, parts[1].lower(), group, segments[-1][1], tuple(segments))

    def get(self, segment: str) -> str:
        """The value after the first segment of that name (case-insensitive), '' when there is none."""
        wanted = segment.lower()
        return next((value for key, value in self.segments if key.lower() == wanted), "")

    @property
    def provider(self) -> str:
        return self.get("providers")

    @property
    def is_managed_cluster(self) -> bool:
        """A managed cluster itself (not one of its child resources)."""
        keys = [key.lower() for key, _ in self.segments]
        return (
            keys == ["subscriptions", "resourcegroups", "providers", "managedclusters"]
            and self.provider.lower() == "microsoft.containerservice"
            and bool(self.name)
        )


def version_key(version: str) -> tuple[int, int, int]:
    """A sort key for a Kubernetes version ('1.33.2', 'v1.33', '1.33'): (major, minor, patch), each from its
    leading digits, -1 where a part is missing or not a number, so '1.33' sorts before '1.33.0'."""
    parts = version.strip().removeprefix("v").split(".")
    key = [-1, -1, -1]
    for index, part in enumerate(parts[:3]):
        digits = re.match(r"\d+", part)
        key[index] = int(digits[0]) if digits else -1
    return key[0], key[1], key[2]


def score(counts: Mapping[str, int]) -> float | None:
    """The compliance score: the share of decided verdicts that pass, waived counting as pass and unknown
    against, in percent with one decimal; None when nothing was decided. Keys are status strings (or Status)."""
    good = counts.get(Status.PASS, 0) + counts.get(Status.WAIVED, 0)
    judged = good + counts.get(Status.FAIL, 0) + counts.get(Status.WARN, 0) + counts.get(Status.UNKNOWN, 0)
    return round(100.0 * good / judged, 1) if judged else None


def iso_utc(moment: datetime, *, timespec: str = "auto") -> str:
    """ISO 8601 in UTC with a 'Z' suffix ('2025-03-01T02:00:00Z'); a naive moment is taken as UTC (DuckDB's
    TIMESTAMP values are), never as the machine's local time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")
