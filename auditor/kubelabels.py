"""Kubernetes label selectors and the AKS node labels the in-cluster controls read.

Label names are AKS's reserved system labels (https://learn.microsoft.com/azure/aks/use-labels) and the label
that `undrainableNodeBehavior: Cordon` leaves on a node it could not drain
(https://learn.microsoft.com/azure/aks/upgrade-cluster).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

AGENT_POOL_LABEL = "kubernetes.azure.com/agentpool"
LEGACY_AGENT_POOL_LABEL = "agentpool"  # deprecated by AKS in favour of kubernetes.azure.com/agentpool
NODE_IMAGE_LABEL = "kubernetes.azure.com/node-image-version"
UPGRADE_STATUS_LABEL = "kubernetes.azure.com/upgrade-status"
QUARANTINED = "Quarantined"

_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def selector_matches(selector: Any, labels: Mapping[str, Any] | None) -> bool | None:
    """Whether a metav1.LabelSelector selects an object with these labels; None when the selector is malformed.

    A null selector selects nothing; an empty one ({}) selects everything (policy/v1 PodDisruptionBudget).
    """
    if selector is None:
        return False
    if not isinstance(selector, Mapping):
        return None
    labels = labels or {}
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not isinstance(match_labels, Mapping) or not isinstance(expressions, list):
        return None
    result = True
    for key, value in match_labels.items():
        if labels.get(key) != value:
            result = False
    for expression in expressions:
        verdict = _expression_matches(expression, labels)
        if verdict is None:
            return None  # one malformed term makes the whole selector unreadable, whatever the others say
        result = result and verdict
    return result


def _expression_matches(expression: Any, labels: Mapping[str, Any]) -> bool | None:
    if not isinstance(expression, Mapping):
        return None
    key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
    if not isinstance(key, str) or operator not in _OPERATORS or not isinstance(values, list):
        return None
    if operator in ("In", "NotIn") and not values:
        return None  # the API server rejects In/NotIn without values
    present = key in labels
    if operator == "In":
        return present and labels[key] in values
    if operator == "NotIn":
        return not present or labels[key] not in values
    if operator == "Exists":
        return present
    return not present


def selector_matches_json(selector: str | None, labels: str | None) -> bool | None:
    """selector_matches over JSON texts (the SQL function label_selector_matches); None for unreadable JSON."""
    try:
        parsed_selector = json.loads(selector) if selector is not None else None
        parsed_labels = json.loads(labels) if labels is not None else {}
    except (TypeError, ValueError):
        return None
    if not isinstance(parsed_labels, Mapping):
        return None
    return selector_matches(parsed_selector, parsed_labels)
