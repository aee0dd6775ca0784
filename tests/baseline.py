"""A compliant copy of the design as plain resources (what `keyguard audit` captures from the
program), plus helpers to mutate it one case at a time and to run one policy over it.

Tests state exact expected sets of (policy, resource name) pairs, Checkov style."""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Iterable, Mapping

from keyguard_policies import catalog
from keyguard_policies.engine import evaluate
from keyguard_policies.model import UNVERIFIABLE, VIOLATION, Resource, Stack
from keyguard_policies.values import UNKNOWN

ACCOUNT = "123456789012"
REGION = "us-east-1"
BUCKET = "ai-app-data-5f2c9a"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
KEY_ID = "0f6b8a52-7c1e-4e0a-9a55-3d2e1b7f9c10"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"
BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/vault-user-boundary"
T = {
    "key": "aws:kms/key:Key",
    "alias": "aws:kms/alias:Alias",
    "bucket": "aws:s3/bucket:Bucket",
    "encryption": "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "bucket_policy": "aws:s3/bucketPolicy:BucketPolicy",
    "boundary": "aws:iam/policy:Policy",
    "backend": "vault:aws/secretBackend:SecretBackend",
    "role": "vault:aws/secretBackendRole:SecretBackendRole",
}


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:dev::keyguard::{type_}::{name}"


def role_document(bucket_arn: str = BUCKET_ARN, key_arn: str = KEY_ARN) -> dict:
    from keyguard_stack.documents import role_policy_document
    return role_policy_document(bucket_arn, key_arn)


def _r(role: str, name: str, props: dict, outputs: dict | None = None,
       deps: Mapping[str, Iterable[str]] | None = None) -> Resource:
    prop_deps = {k: tuple(v) for k, v in (deps or {}).items()}
    return Resource(urn(T[role], name), T[role], props, outputs or {},
                    tuple(sorted({u for v in prop_deps.values() for u in v})), prop_deps)


KEY_URN = urn(T["key"], "ai-app-kms-key")
BUCKET_URN = urn(T["bucket"], "ai-app-data")


def baseline() -> dict[str, Resource]:
    """The design, compliant with every policy."""
    from keyguard_stack.documents import bucket_tls_only_policy
    return {
        "key": _r("key", "ai-app-kms-key", {
            "customerMasterKeySpec": "SYMMETRIC_DEFAULT", "keyUsage": "ENCRYPT_DECRYPT", "enableKeyRotation": True,
            "rotationPeriodInDays": 365.0, "deletionWindowInDays": 30.0},
            {"id": KEY_ID, "keyId": KEY_ID, "arn": KEY_ARN}),
        "alias": _r("alias", "ai-app-kms-alias", {"name": "alias/ai-app-data", "targetKeyId": KEY_ID},
                    {"arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/ai-app-data"}, {"targetKeyId": [KEY_URN]}),
        "bucket": _r("bucket", "ai-app-data", {"bucket": BUCKET}, {"id": BUCKET, "arn": BUCKET_ARN}),
        "encryption": _r("encryption", "ai-app-data-encryption", {
            "bucket": BUCKET,
            "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN},
                       "bucketKeyEnabled": True}]},
            deps={"bucket": [BUCKET_URN], "rules": [KEY_URN]}),
        "bucket_policy": _r("bucket_policy", "ai-app-data-tls-only", {
            "bucket": BUCKET, "policy": json.dumps(bucket_tls_only_policy(BUCKET_ARN))},
            deps={"bucket": [BUCKET_URN], "policy": [BUCKET_URN]}),
        "boundary": _r("boundary", "vault-user-boundary", {"policy": json.dumps(role_document())},
                       {"arn": BOUNDARY_ARN}, {"policy": [BUCKET_URN, KEY_URN]}),
        "backend": _r("backend", "ai-app-backend", {
            "path": "aws-ai-app", "defaultLeaseTtlSeconds": 3600.0, "maxLeaseTtlSeconds": 14400.0}),
        "role": _r("role", "ai-app-role", {
            "backend": "aws-ai-app", "name": "ai-app", "credentialType": "iam_user",
            "policyDocument": json.dumps(role_document()), "permissionsBoundaryArn": BOUNDARY_ARN},
            deps={"policyDocument": [BUCKET_URN, KEY_URN]}),
    }


def with_props(resource: Resource, **changes: Any) -> Resource:
    """A copy with inputs changed; a value of `DELETE` removes the input."""
    props = dict(resource.props)
    for key, value in changes.items():
        if value is DELETE:
            props.pop(key, None)
        else:
            props[key] = value
    return dataclasses.replace(resource, props=props)


DELETE = object()


def make(type_: str, name: str, props: dict, outputs: dict | None = None,
         deps: Mapping[str, Iterable[str]] | None = None) -> Resource:
    prop_deps = {k: tuple(v) for k, v in (deps or {}).items()}
    return Resource(urn(type_, name), type_, props, outputs or {},
                    tuple(sorted({u for v in prop_deps.values() for u in v})), prop_deps)


@dataclasses.dataclass
class Outcome:
    violations: set[tuple[str, str]]
    unverifiable: set[tuple[str, str]]
    messages: list[str]
    status: str


def run(policy: str, resources: Iterable[Resource] | Mapping[str, Resource],
        config: Mapping[str, Any] | None = None) -> Outcome:
    """Run one policy (with its catalog defaults, plus `config` params) over the resources."""
    if isinstance(resources, Mapping):
        resources = resources.values()
    settings = catalog.resolve({policy: dict(config)} if config else None)
    settings = {n: s if n == policy else dataclasses.replace(s, enforcement="disabled") for n, s in settings.items()}
    [outcome] = evaluate(Stack(resources), settings)
    name = lambda u: u.rsplit("::", 1)[-1]
    return Outcome(
        violations={(f.policy, name(f.urn)) for f in outcome.findings if f.kind == VIOLATION},
        unverifiable={(f.policy, name(f.urn)) for f in outcome.findings if f.kind == UNVERIFIABLE},
        messages=[f.message for f in outcome.findings], status=outcome.status)


def document_carriers(document: dict, name: str = "carrier") -> list[Resource]:
    """The same document in every location the SPEC lists, as a JSON string and as an object.
    Resource and key policies get a named principal, which they require."""
    from keyguard_policies.documents import locations
    out = []
    for type_, specs in locations().items():
        kind = specs[0]["kind"]
        doc = document
        if kind != "identity":
            doc = dict(document, Statement=[dict(s, Principal=s.get("Principal", {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"}))
                                            for s in document["Statement"]])
        for form, value in (("string", json.dumps(doc)), ("object", doc)):
            prop = specs[0]["property"]
            short = type_.split(":")[-1].lower()
            if prop == "inlinePolicies[].policy":
                props = {"inlinePolicies": [{"name": "inline", "policy": value}]}
            else:
                props = {prop: value}
            out.append(make(type_, f"{name}-{short}-{form}", props))
    return out


__all__ = ["ACCOUNT", "BUCKET", "BUCKET_ARN", "KEY_ARN", "KEY_ID", "UNKNOWN", "T", "baseline", "with_props", "make",
           "run", "document_carriers", "DELETE", "role_document", "urn"]
