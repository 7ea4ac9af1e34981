"""The controls: the catalog and its frameworks, remediation commands, findings and their evaluation."""

from auditor.controls.catalog import (
    LEVELS,
    RESULT_COLUMNS,
    SEVERITIES,
    STATUSES,
    Control,
    Framework,
    Requirement,
    control_ids,
    load_catalog,
    load_frameworks,
)
from auditor.controls.evaluate import Evaluation, evaluate, evaluate_scan
from auditor.controls.finding import Finding, findings_digest

__all__ = [
    "LEVELS",
    "RESULT_COLUMNS",
    "SEVERITIES",
    "STATUSES",
    "Control",
    "Evaluation",
    "Finding",
    "Framework",
    "Requirement",
    "control_ids",
    "evaluate",
    "evaluate_scan",
    "findings_digest",
    "load_catalog",
    "load_frameworks",
]
