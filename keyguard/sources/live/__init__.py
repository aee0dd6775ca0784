"""`keyguard audit --live`: the deployed configuration, read from AWS and Vault and mapped to the
properties the policies read, guided by a state export (`--state`) or discovered. Reads run in a
bounded thread pool; what cannot be read becomes `UNREADABLE` with a reason (so its checks are
unverifiable), what the export declares but the live system no longer has is drift."""
from __future__ import annotations

import concurrent.futures
import dataclasses
import re
from typing import Any, Callable, Iterable

from keyguard_policies.model import Resource
from keyguard_policies.values import UNREADABLE

from ...errors import UsageError
from . import iam, kms, s3, vault
from .clients import Aws, Bounds, Unreadable, Vault
from .drift import Drift, compare
from .reading import Reading

AWS_READERS = {**kms.READERS, **s3.READERS, **iam.READERS}
VAULT_READERS = vault.READERS
IDENTITY_PROPS = frozenset({"bucket", "name", "path", "backend", "roleName", "keyId", "targetKeyId", "role",
                            "user", "group", "type"})
LIVE_STACK = "live"


@dataclasses.dataclass
class LiveAudit:
    resources: list[Resource]
    drift: list[Drift]
    reasons: dict[str, dict[str, str]]          # urn -> property -> why it could not be read
    gaps: list[tuple[tuple[str, ...], str]]     # (types, reason): what discovery could not list
    aws: dict[str, str | None]
    vault: dict[str, str | None] | None


def judged_types() -> set[str]:
    from keyguard_policies.policies import RULES
    return {t for rule in RULES.values() for t in rule.SUPPORTED_RESOURCES}


def run(declared: list[Resource] | None, workers: int, progress) -> LiveAudit:
    """Read the live configuration of `declared` (a state export), or discover it when None."""
    bounds = Bounds.from_env()
    aws = Aws(workers, bounds)
    vault_client = Vault(bounds)
    audit = LiveAudit([], [], {}, [], {"region": aws.region, "account": None, "endpoint": aws.endpoint},
                      {"address": vault_client.address} if vault_client.address else None)
    if declared is not None:
        _from_state(declared, aws, vault_client, workers, progress, audit)
    else:
        _discover(aws, vault_client, workers, progress, audit)
    if not aws.answered and not vault_client.answered:
        # one line: why each server could not be read, else the first reasons found
        reasons = [r for r in (aws.outage.reason, vault_client.outage.reason) if r] or sorted(
            {r for per in audit.reasons.values() for r in per.values()} | {g[1] for g in audit.gaps})[:3]
        raise UsageError("live audit read nothing: " + ("; ".join(reasons) or "no resource to read"))
    audit.aws["account"] = (aws.account() if aws.answered else None) or _account_from(audit.resources)
    return audit


def _account_from(resources: Iterable[Resource]) -> str | None:
    for resource in resources:
        arn = resource.outputs.get("arn")
        if isinstance(arn, str) and re.match(r"arn:[^:]+:(kms|iam):[^:]*:\d{12}:", arn):
            return arn.split(":")[4]
    return None


def _pool(tasks: list[tuple[Any, Callable[[], Any]]], workers: int, progress, label: str) -> list[tuple[Any, Any]]:
    results: list[tuple[Any, Any]] = []
    with progress.task(label, total=len(tasks)) as tick:
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(fn): key for key, fn in tasks}
            for future in concurrent.futures.as_completed(futures):
                results.append((futures[future], future.result()))
                tick()
    return results


# --- guided by a state export -------------------------------------------------------------------------

def _from_state(declared: list[Resource], aws: Aws, vault_client: Vault, workers: int, progress,
                audit: LiveAudit) -> None:
    judged = judged_types()
    tasks = []
    for i, resource in enumerate(declared):
        if resource.type in AWS_READERS:
            tasks.append((i, lambda r=resource: AWS_READERS[r.type](aws, r)))
        elif resource.type in VAULT_READERS:
            tasks.append((i, lambda r=resource: VAULT_READERS[r.type](vault_client, r)))
    readings = dict(_pool(tasks, workers, progress, "reading the live configuration"))
    for i, resource in enumerate(declared):
        if i in readings:
            reading = readings[i]
            audit.drift.extend(compare(resource, reading))
            live = _live_resource(resource, reading)
        elif resource.type in judged:
            reading = Reading(resource.type)
            reason = f"not read: keyguard has no live reader for {resource.type}"
            live = _unreadable_copy(resource, reason)
            audit.reasons[resource.urn] = {p: reason for p in resource.props}
            audit.resources.append(live)
            continue
        else:
            live = resource   # not judged by any policy: kept as declared (providers, ownership)
        if i in readings and readings[i].reasons:
            audit.reasons[resource.urn] = dict(readings[i].reasons)
        if i in readings and readings[i].gone:
            audit.reasons[resource.urn] = {p: f"the resource no longer exists ({readings[i].gone})"
                                           for p in resource.props}
        audit.resources.append(live)


def _live_resource(declared: Resource, reading: Reading) -> Resource:
    if reading.gone:
        return _unreadable_copy(declared, reading.gone)
    props = dict(reading.props)
    for name in IDENTITY_PROPS:
        if name not in props and declared.props.get(name) is not None:
            props[name] = declared.props[name]
    return dataclasses.replace(declared, props=props, outputs={**declared.outputs, **reading.outputs})


def _unreadable_copy(declared: Resource, reason: str) -> Resource:
    props = {k: (v if k in IDENTITY_PROPS else UNREADABLE) for k, v in declared.props.items()}
    return dataclasses.replace(declared, props=props)


# --- discovery ------------------------------------------------------------------------------------------

def _discover(aws: Aws, vault_client: Vault, workers: int, progress, audit: LiveAudit) -> None:
    tasks: list[tuple[Any, Callable[[], list[tuple[str, Reading]]]]] = []
    sources: list[tuple[str, Callable[[], Iterable], tuple[str, ...]]] = [
        ("KMS keys", lambda: ((n, lambda n=n, t=t, f=f: [(n, f())]) for n, t, f in kms.discover(aws)),
         (kms.KEY, kms.ALIAS)),
        ("S3 buckets", lambda: s3.discover(aws), s3.BUCKET_TYPES + s3.ENCRYPTION_TYPES + (s3.POLICY,)),
        ("IAM policies and roles", lambda: iam.discover(aws), (iam.POLICY, iam.ROLE)),
    ]
    if vault_client.address:
        sources.append(("Vault secrets mounts", lambda: vault.discover(vault_client, audit.gaps),
                        (vault.SECRET_BACKEND, vault.MOUNT, vault.ROLE)))
    with progress.task("listing live resources"):
        for label, listing, types in sources:
            try:
                tasks.extend(listing())
            except Unreadable as err:
                audit.gaps.append((types, f"{label} could not be listed: {err.reason}"))
    for _, found in _pool(tasks, workers, progress, "reading the live configuration"):
        for name, reading in found:
            if reading.outputs.get("awsManaged"):
                continue  # AWS-managed keys: not the customer's to configure
            urn = f"urn:pulumi:{LIVE_STACK}::{LIVE_STACK}::{reading.type}::{name}"
            if reading.gone:
                continue  # deleted between listing and reading
            audit.resources.append(Resource(urn, reading.type, dict(reading.props), dict(reading.outputs)))
            if reading.reasons:
                audit.reasons[urn] = dict(reading.reasons)


def annotate(findings, reasons: dict[str, dict[str, str]]):
    """An unverifiable finding on a live resource says why the value could not be read."""
    by_property: dict[str, set[str]] = {}
    for per in reasons.values():
        for prop, reason in per.items():
            by_property.setdefault(prop, set()).add(reason)
    out = []
    for finding in findings:
        if finding.kind == "unverifiable" and "could not be read from the deployed resource" in finding.message:
            per = reasons.get(finding.urn) or {}
            match = re.search(r"cannot be verified: ([A-Za-z]+)", finding.message)
            prop = match.group(1) if match else ""
            # a stack rule may report on a resource (the bucket) what another one (its
            # encryption configuration) could not read
            reason = per.get(prop) or "; ".join(sorted(by_property.get(prop, ()))) or "; ".join(sorted(set(per.values())))
            if reason:
                finding = dataclasses.replace(finding, message=f"{finding.message}: {reason}")
        out.append(finding)
    return out


def gap_findings(policy: str, gaps: list[tuple[tuple[str, ...], str]]) -> list:
    """A kind of resource discovery could not list: every policy judging that kind is unverifiable."""
    from keyguard_policies.model import UNVERIFIABLE, Finding
    from keyguard_policies.policies import RULES
    supported = set(RULES[policy].SUPPORTED_RESOURCES)
    return [Finding(policy, UNVERIFIABLE, "", types[0], f"cannot be verified: {reason}")
            for types, reason in gaps if supported & set(types)]


__all__ = ["LiveAudit", "run", "annotate", "gap_findings", "Drift", "Unreadable"]
