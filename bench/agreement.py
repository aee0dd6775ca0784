"""How the tools' findings agree, on the categories two tools share.

Each tool reports in its own vocabulary; this is the mapping to shared categories. A document is
in a category for a tool when the tool reports any of the listed findings on it. A tool with no
entry for a category does not check it, and the category is not compared for that tool.

| category | keyguard (rule) | parliament 1.6.4 (finding issue) | cloudsplaining 0.9.1 (scan_policy result) |
|---|---|---|---|
| WILDCARD_ACTION | iam-no-wildcard-actions | - (no default auditor) | ServiceWildcard (`*` and `service:*` only, not `s3:Get*`) |
| RESOURCE_STAR | iam-no-wildcard-resources | RESOURCE_STAR, RESOURCE_EFFECTIVELY_STAR | InfrastructureModification, ResourceExposure, DataExfiltration, CredentialsExposure (all four are "actions without resource constraints", on `*`, without a Condition) |
| UNKNOWN_ACTION | iam-known-actions | UNKNOWN_ACTION, UNKNOWN_PREFIX | - (keeps unknown actions silently) |
| RESOURCE_MISMATCH | iam-action-resource-match | RESOURCE_MISMATCH | - |
| PRIVILEGE_ESCALATION | iam-no-privilege-escalation (any escalation action, however scoped) | PRIVILEGE_ESCALATION (community auditor only: `parliament-community`; Rhino Security Labs combinations) | PrivilegeEscalation (the same combinations, unconstrained only) |
| NOT_ACTION | iam-no-not-action-not-resource | - (reports RESOURCE_STAR of what NotAction leaves) | - (`scan_policy` returns no NotAction result) |

The corpus's injected traits (corpus.py) map onto the same categories (TRAITS), so each tool's
recall on what was put in on purpose is reported beside the pairwise agreement. Agreement is
(both flag + neither flags) / documents, with Cohen's kappa to discount chance agreement."""
from __future__ import annotations

CATEGORIES: dict[str, dict[str, frozenset[str]]] = {
    "WILDCARD_ACTION": {
        "keyguard": frozenset({"iam-no-wildcard-actions"}),
        "cloudsplaining": frozenset({"ServiceWildcard"}),
    },
    "RESOURCE_STAR": {
        "keyguard": frozenset({"iam-no-wildcard-resources"}),
        "parliament": frozenset({"RESOURCE_STAR", "RESOURCE_EFFECTIVELY_STAR"}),
        "parliament-community": frozenset({"RESOURCE_STAR", "RESOURCE_EFFECTIVELY_STAR"}),
        "cloudsplaining": frozenset({"InfrastructureModification", "ResourceExposure", "DataExfiltration",
                                     "CredentialsExposure"}),
    },
    "UNKNOWN_ACTION": {
        "keyguard": frozenset({"iam-known-actions"}),
        "parliament": frozenset({"UNKNOWN_ACTION", "UNKNOWN_PREFIX"}),
        "parliament-community": frozenset({"UNKNOWN_ACTION", "UNKNOWN_PREFIX"}),
    },
    "RESOURCE_MISMATCH": {
        "keyguard": frozenset({"iam-action-resource-match"}),
        "parliament": frozenset({"RESOURCE_MISMATCH"}),
        "parliament-community": frozenset({"RESOURCE_MISMATCH"}),
    },
    "PRIVILEGE_ESCALATION": {
        "keyguard": frozenset({"iam-no-privilege-escalation"}),
        "parliament-community": frozenset({"PRIVILEGE_ESCALATION"}),
        "cloudsplaining": frozenset({"PrivilegeEscalation"}),
    },
    "NOT_ACTION": {
        "keyguard": frozenset({"iam-no-not-action-not-resource"}),
    },
}

TRAITS = {"wildcard_action": "WILDCARD_ACTION", "star_resource": "RESOURCE_STAR",
          "unknown_action": "UNKNOWN_ACTION", "resource_mismatch": "RESOURCE_MISMATCH",
          "privilege_escalation": "PRIVILEGE_ESCALATION", "not_action": "NOT_ACTION"}


def shared(tool: str, reference: str = "keyguard") -> list[str]:
    return [c for c, tools in CATEGORIES.items() if tool in tools and reference in tools]


def flags(tool: str, category: str, found: list[str]) -> bool | None:
    names = CATEGORIES[category].get(tool)
    if names is None:
        return None
    return any(f in names for f in found)


def _kappa(both: int, only_a: int, only_b: int, neither: int) -> float:
    n = both + only_a + only_b + neither
    if n == 0:
        return 0.0
    observed = (both + neither) / n
    pa, pb = (both + only_a) / n, (both + only_b) / n
    expected = pa * pb + (1 - pa) * (1 - pb)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def compare(corpus: list[dict], results: dict[str, list[list[str]]], reference: str = "keyguard",
            examples: int = 3) -> dict:
    """Pairwise agreement of `reference` with every other tool on their shared categories, and
    every tool's recall of the injected traits. Documents a tool failed on (ERROR) are left out
    of that tool's comparisons and counted."""
    base = results[reference]
    out: dict = {"pairs": {}, "recall": {}}
    for tool, found in results.items():
        if tool == reference:
            continue
        pair = {}
        for category in shared(tool, reference):
            cells = {"both": 0, f"{reference}_only": 0, f"{tool}_only": 0, "neither": 0}
            samples: dict[str, list[str]] = {f"{reference}_only": [], f"{tool}_only": []}
            skipped = 0
            for item, mine, theirs in zip(corpus, base, found):
                if "ERROR" in mine or "ERROR" in theirs:
                    skipped += 1
                    continue
                a, b = flags(reference, category, mine), flags(tool, category, theirs)
                key = "both" if a and b else f"{reference}_only" if a else f"{tool}_only" if b else "neither"
                cells[key] += 1
                if key in samples and len(samples[key]) < examples:
                    samples[key].append(item["id"])
            n = sum(cells.values())
            pair[category] = {**cells, "documents": n, "skipped": skipped,
                              "agreement": (cells["both"] + cells["neither"]) / n if n else 0.0,
                              "kappa": _kappa(cells["both"], cells[f"{reference}_only"], cells[f"{tool}_only"],
                                              cells["neither"]),
                              "examples": samples}
        out["pairs"][tool] = pair
    for tool, found in results.items():
        recall = {}
        for trait, category in TRAITS.items():
            if category not in {c for c, tools in CATEGORIES.items() if tool in tools}:
                continue
            injected = [f for item, f in zip(corpus, found) if trait in item["traits"]]
            hit = sum(1 for f in injected if flags(tool, category, f))
            recall[category] = {"injected": len(injected), "flagged": hit,
                                "recall": hit / len(injected) if injected else 0.0}
        out["recall"][tool] = recall
    return out
