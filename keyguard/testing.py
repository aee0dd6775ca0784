"""Pulumi files built from the design, for tests and benchmarks: a `pulumi stack export`
(deployment version 3) and a `pulumi preview --json`, in the shapes the Pulumi CLI writes, and
the design replicated N times with consistent names, ids and ARNs."""
from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, Iterable, Mapping

from keyguard_policies.model import Resource
from keyguard_policies.values import UNKNOWN

from .sources.wire import SECRET_SIG, SIG_KEY



def _stack_urn(stack: str, project: str) -> str:
    return f"urn:pulumi:{stack}::{project}::pulumi:pulumi:Stack::{project}-{stack}"


def secret(value: Any, plaintext: bool = True) -> dict:
    """A secret as a state export stores it: with its plaintext (`--show-secrets`) or encrypted."""
    if plaintext:
        return {SIG_KEY: SECRET_SIG, "plaintext": json.dumps(value)}
    return {SIG_KEY: SECRET_SIG, "ciphertext": "v1:c2VjcmV0Y2lwaGVydGV4dA==:AAAAAAAA"}


def state_export(resources: Iterable[Resource], stack: str = "dev", project: str = "keyguard",
                 inputs_override: Mapping[str, Mapping[str, Any]] | None = None) -> dict:
    """`pulumi stack export` of the resources (inputs, outputs, dependencies, providers)."""
    stack_urn = _stack_urn(stack, project)
    provider_urn = f"urn:pulumi:{stack}::{project}::pulumi:providers:aws::default_7_51_1"
    entries: list[dict] = [
        {"urn": stack_urn, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": {}},
        {"urn": provider_urn, "custom": True, "id": "3f1c7c2e-5d8e-4c40-9d35-5a2d9d1b6a70",
         "type": "pulumi:providers:aws", "inputs": {"region": "us-east-1", "version": "7.51.1"},
         "outputs": {"region": "us-east-1", "version": "7.51.1"}},
    ]
    for r in resources:
        inputs = dict(r.props)
        inputs.update((inputs_override or {}).get(r.urn, {}))
        entries.append({
            "urn": r.urn, "custom": True, "id": str(r.outputs.get("id") or r.name), "type": r.type,
            "inputs": inputs, "outputs": {**r.props, **r.outputs}, "parent": stack_urn,
            "dependencies": list(r.dependencies),
            "propertyDependencies": {k: list(v) for k, v in r.property_dependencies.items()},
            "provider": f"{provider_urn}::3f1c7c2e-5d8e-4c40-9d35-5a2d9d1b6a70",
        })
    return {"version": 3, "deployment": {
        "manifest": {"time": "2026-11-29T00:00:00Z", "magic": "keyguard-fixture", "version": "v3.209.0"},
        "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:fixture"}},
        "resources": entries}}


def preview_json(resources: Iterable[Resource], stack: str = "dev", project: str = "keyguard",
                 unknown: Mapping[str, Iterable[str]] | None = None) -> dict:
    """`pulumi preview --json` creating the resources; `unknown` names, per URN, inputs that are
    not known during preview."""
    steps = [{"op": "create", "urn": _stack_urn(stack, project), "provider": "",
              "newState": {"urn": _stack_urn(stack, project), "type": "pulumi:pulumi:Stack", "custom": False}}]
    for r in resources:
        inputs = dict(r.props)
        for prop in (unknown or {}).get(r.urn, ()):
            inputs[prop] = UNKNOWN
        steps.append({"op": "create", "urn": r.urn, "provider": "", "newState": {
            "urn": r.urn, "custom": True, "type": r.type, "inputs": inputs, "outputs": {},
            "parent": _stack_urn(stack, project), "dependencies": list(r.dependencies),
            "propertyDependencies": {k: list(v) for k, v in r.property_dependencies.items()}}})
    return {"config": {"aws:region": "us-east-1"}, "steps": steps,
            "changeSummary": {"create": len(steps)}, "duration": 1234567890}


def replicate(resources: list[Resource], copies: int) -> list[Resource]:
    """The design `copies` times: every name, URN, bucket name, key id and ARN made unique per
    copy by plain string substitution, so wiring (ARNs inside documents, dependencies) holds."""
    tokens: set[str] = set()
    for r in resources:
        tokens.add(r.name)
        for key in ("id", "keyId", "bucket"):
            value = r.outputs.get(key)
            if isinstance(value, str) and len(value) > 4:
                tokens.add(value)
    pattern = re.compile("|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True)))
    template = json.dumps([dataclasses.asdict(r) for r in resources])
    out: list[Resource] = []
    for i in range(copies):
        text = pattern.sub(lambda m: f"{m.group(0)}-{i:05d}", template)
        for item in json.loads(text):
            out.append(Resource(item["urn"], item["type"], item["props"], item["outputs"],
                                tuple(item["dependencies"]),
                                {k: tuple(v) for k, v in item["property_dependencies"].items()}))
    return out
