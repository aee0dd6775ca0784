"""The outcome of one audit, as every report format reads it. `to_json()` is the SPEC's JSON
report; the other formats render the same object, so they can never disagree."""
from __future__ import annotations

import dataclasses
import datetime as _dt
from typing import Any, Mapping

from keyguard_policies import catalog
from keyguard_policies.engine import PolicyOutcome
from keyguard_policies.model import UNVERIFIABLE, VIOLATION, Finding

from . import __version__

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


@dataclasses.dataclass(frozen=True)
class Source:
    kind: str              # "program" | "state" | "preview" | "live"
    path: str
    stack: str
    aws: Mapping[str, Any] | None = None     # live only: region, account, endpoint
    vault: Mapping[str, Any] | None = None   # live only: address (never a token)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "path": self.path, "stack": self.stack}
        if self.kind == "live":
            out["aws"] = dict(self.aws or {})
            out["vault"] = dict(self.vault) if self.vault else None
        return out


DRIFT_REMEDIATION = ("Find out who changed the resource and why; then either bring it back to the declared "
                     "configuration (pulumi up, or pulumi refresh to see the change) or declare the change in "
                     "the program.")


@dataclasses.dataclass
class AuditResult:
    source: Source
    resource_count: int
    outcomes: list[PolicyOutcome]             # enabled policies, catalog order
    settings: Mapping[str, catalog.PolicySettings]
    config_path: str | None
    fail_on: str                              # "mandatory" | "advisory" | "never"
    allow_unverifiable: bool
    generated_at: _dt.datetime = dataclasses.field(
        default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0))
    stack_files: Mapping[str, str] = dataclasses.field(default_factory=dict)  # urn -> "stack/x.py:12"
    drift: list = dataclasses.field(default_factory=list)    # live only: keyguard.sources.live.drift.Drift
    fail_on_drift: bool = False

    # --- derived views ----------------------------------------------------------------
    def findings(self) -> list[tuple[PolicyOutcome, Finding]]:
        """All findings, most severe first, then by policy and resource, for stable output."""
        pairs = [(o, f) for o in self.outcomes for f in o.findings]
        return sorted(pairs, key=lambda p: (p[1].kind != VIOLATION, p[0].enforcement != "mandatory",
                                            SEVERITY_ORDER[self.info(p[0].name).severity],
                                            p[0].name, p[1].urn, p[1].message))

    @staticmethod
    def info(name: str) -> catalog.PolicyInfo:
        return catalog.policies()[name]

    def violations(self, level: str) -> int:
        return sum(1 for o in self.outcomes for f in o.findings
                   if f.kind == VIOLATION and _level(o.enforcement) == level)

    def unverifiable(self) -> int:
        return sum(1 for o in self.outcomes for f in o.findings if f.kind == UNVERIFIABLE)

    def blocking(self) -> list[tuple[PolicyOutcome, Finding]]:
        """The findings that fail the gate (SPEC: exit codes)."""
        out = []
        for outcome, finding in self.findings():
            level = _level(outcome.enforcement)
            if finding.kind == VIOLATION:
                if self.fail_on == "advisory" or (self.fail_on == "mandatory" and level == "mandatory"):
                    out.append((outcome, finding))
            elif level == "mandatory" and not self.allow_unverifiable and self.fail_on != "never":
                out.append((outcome, finding))
        return out

    @property
    def is_live(self) -> bool:
        return self.source.kind == "live"

    @property
    def drift_level(self) -> str:
        """Drift blocks the gate only with --fail-on-drift (SPEC: `--live`)."""
        return "mandatory" if self.fail_on_drift else "advisory"

    def blocking_drift(self) -> list:
        return list(self.drift) if self.fail_on_drift else []

    @property
    def passed(self) -> bool:
        return not self.blocking() and not self.blocking_drift()

    # --- the SPEC's JSON report -------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "tool": {"name": "keyguard", "version": __version__},
            "source": self.source.to_json(),
            "summary": {
                "resources": self.resource_count,
                "policies": len(self.outcomes),
                "violations": {"mandatory": self.violations("mandatory"), "advisory": self.violations("advisory")},
                "unverifiable": self.unverifiable(),
                **({"drift": len(self.drift)} if self.is_live else {}),
                "passed": self.passed,
            },
            "findings": [{
                "policy": f.policy, "kind": f.kind, "enforcement": _level(o.enforcement),
                "severity": self.info(o.name).severity, "urn": f.urn, "resource_type": f.resource_type,
                "message": f.message, "controls": list(self.info(o.name).controls),
                "evidence": f.evidence, "remediation": self.info(o.name).remediation,
            } for o, f in self.findings()] + [{
                "policy": None, "kind": "drift", "enforcement": self.drift_level, "severity": "medium",
                "urn": d.urn, "resource_type": d.resource_type, "message": d.message, "controls": [],
                "property": d.property, "declared": d.declared, "live": d.live, "evidence": "",
                "remediation": DRIFT_REMEDIATION,
            } for d in self.drift],
            "policies": [{
                "name": o.name, "description": self.info(o.name).description, "enforcement": _level(o.enforcement),
                "severity": self.info(o.name).severity, "controls": list(self.info(o.name).controls),
                "status": o.status, "resources": len(o.subjects),
            } for o in self.outcomes],
        }


def _level(enforcement: str) -> str:
    """`remediate` reports as mandatory, as pulumi-policy does for a violation that remains."""
    return "mandatory" if enforcement == "remediate" else enforcement
