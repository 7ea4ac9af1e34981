"""`auditor policy check FILE`: validate a policy file and summarise what it changes (library side)."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from auditor.policy import THRESHOLDS, Policy, Waiver, default_policy, load_policy

EXPIRY_NOTICE_DAYS = 30


@dataclass(frozen=True)
class PolicyCheck:
    """A policy that loaded, with what a reviewer should know about it."""

    path: Path
    policy: Policy
    today: date

    @property
    def overridden(self) -> dict[str, object]:
        """Top-level thresholds that differ from the built-in defaults."""
        defaults = default_policy().thresholds
        return {k: v for k, v in self.policy.thresholds.items() if v != defaults[k]}

    @property
    def expired(self) -> list[Waiver]:
        """Waivers that no longer apply: their findings show as fail again, flagged as an expired waiver."""
        return [w for w in self.policy.waivers if not w.active(self.today)]

    @property
    def expiring(self) -> list[Waiver]:
        """Waivers still active that expire within EXPIRY_NOTICE_DAYS days."""
        horizon = self.today + timedelta(days=EXPIRY_NOTICE_DAYS)
        return [w for w in self.policy.waivers if w.active(self.today) and w.expires <= horizon]

    def lines(self) -> list[str]:
        """The summary printed by `auditor policy check`."""
        waivers = self.policy.waivers
        out = [
            f"OK: {self.path}: {len(self.overridden)} threshold(s) overridden, "
            f"{len(self.policy.scopes)} scope(s), "
            f"{len(waivers)} waiver(s) ({len(self.expired)} expired) as of {self.today}"
        ]
        out += [f"warning: {warning}" for warning in self.policy.warnings]
        for name, value in self.overridden.items():
            out.append(f"  threshold {name} = {_show(value)} (default {_show(THRESHOLDS[name][0])})")
        for scope in self.policy.scopes:
            changes = ", ".join(f"{k} = {_show(v)}" for k, v in scope.thresholds.items()) or "no threshold changes"
            out.append(f"  scope '{scope.name}': {scope.describe()}: {changes}")
        horizon = self.today + timedelta(days=EXPIRY_NOTICE_DAYS)
        for waiver in waivers:
            # Judged here, once per waiver: checking membership of the expired and expiring lists would make a
            # policy of 20,000 waivers quadratic.
            state = (
                f"EXPIRED on {waiver.expires}, no longer applies"
                if not waiver.active(self.today)
                else f"active, expires soon ({waiver.expires})"
                if waiver.expires <= horizon
                else f"active until {waiver.expires}"
            )
            where = f" (line {waiver.line})" if waiver.line else ""
            out.append(
                f"  waiver{where} {waiver.control} on {waiver.resource}: {state}; "
                f"approved by {waiver.approver}: {waiver.reason}"
            )
        return out


def check_policy(path: Path, *, known_controls: Collection[str], today: date | None = None) -> PolicyCheck:
    """Load and validate a policy file (waivers naming known_controls); raises PolicyError naming the file and
    line when it is bad."""
    policy = load_policy(path, known_controls=known_controls)
    return PolicyCheck(path=path, policy=policy, today=today or datetime.now(UTC).date())


def _show(value: object) -> str:
    return json.dumps(value)
