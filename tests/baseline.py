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
OBJECTS = f"{BUCKET_ARN}/*"
"""The ARN pattern of every object in the design's bucket."""
OTHER_KEY = "arn:aws:kms:us-east-1:999999999999:key/11111111-2222-3333-4444-555555555555"
"""The ARN of a KMS key in another account, which the design does not manage."""
ENCRYPTION_V2 = ("aws:s3/bucketServerSideEncryptionConfigurationV2:"
                 "BucketServerSideEncryptionConfigurationV2")
"""The type of the V2 bucket encryption configuration resource."""
ROOT = {"Sid": "EnableRoot", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*", "Resource": "*"}
"""The default key policy statement that delegates the key to the account's root."""
APP = {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"}
"""A named principal (the account's app role), which resource and key policies require."""
IAM_LEAST_PRIVILEGE = ["iam-no-wildcard-actions", "iam-no-wildcard-resources", "iam-no-not-action-not-resource",
                       "iam-known-actions", "iam-action-resource-match", "iam-no-privilege-escalation",
                       "iam-resources-scoped-to-stack"]
"""The least-privilege policies that judge IAM policy documents, in catalog order."""
T = {
    "key": "aws:kms/key:Key",
    "alias": "aws:kms/alias:Alias",
    "bucket": "aws:s3/bucket:Bucket",
    "encryption": "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "bucket_policy": "aws:s3/bucketPolicy:BucketPolicy",
    "boundary": "aws:iam/policy:Policy",
    "backend": "vault:aws/secretBackend:SecretBackend",
    "role": "vault:aws/secretBackendRole:SecretBackendRole",
    "approle": "vault:index/authBackend:AuthBackend",
    "acl_policy": "vault:index/policy:Policy",
    "approle_role": "vault:appRole/authBackendRole:AuthBackendRole",
}


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:dev::keyguard::{type_}::{name}"


def role_document(bucket_arn: str = BUCKET_ARN, key_arn: str = KEY_ARN) -> dict:
    from keyguard_stack.documents import role_policy_document
    return role_policy_document(bucket_arn, key_arn)


def _r(role: str, name: str, props: dict, outputs: dict | None = None,
       deps: Mapping[str, Iterable[str]] | None = None) -> Resource:
    return make(T[role], name, props, outputs, deps)


KEY_URN = urn(T["key"], "ai-app-kms-key")
BUCKET_URN = urn(T["bucket"], "ai-app-data")
BACKEND_URN = urn(T["backend"], "ai-app-backend")
ROLE_URN = urn(T["role"], "ai-app-role")
APPROLE_URN = urn(T["approle"], "ai-app-approle")
ACL_URN = urn(T["acl_policy"], "ai-app-acl-policy")
ACL_NAME = "ai-app-aws-creds"
"""The name of the stack's Vault ACL policy, which the AppRole role's tokens carry."""
CREDS_PATH = "aws-ai-app/creds/ai-app"
"""The one path the stack's ACL policy grants (read): the credentials of its AWS role."""
ROLE_ID = "5b7f3c1e-2a4d-4e8f-9c6b-1d0e2f3a4b5c"
ACCESSOR = "auth_approle_3f2a1b0c"


def baseline() -> dict[str, Resource]:
    """The design, compliant with every policy."""
    from keyguard_stack.documents import app_acl_policy, bucket_tls_only_policy
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
        "approle": _r("approle", "ai-app-approle", {
            "type": "approle", "path": "approle", "tune": {"defaultLeaseTtl": "3600s", "maxLeaseTtl": "14400s"}},
            {"accessor": ACCESSOR}),
        "acl_policy": _r("acl_policy", "ai-app-acl-policy", {
            "name": ACL_NAME, "policy": app_acl_policy("aws-ai-app", "ai-app")},
            deps={"policy": [BACKEND_URN, ROLE_URN]}),
        "approle_role": _r("approle_role", "ai-app-approle-role", {
            "backend": "approle", "roleName": "ai-app", "tokenPolicies": [ACL_NAME],
            "tokenTtl": 3600.0, "tokenMaxTtl": 14400.0, "bindSecretId": True,
            "secretIdTtl": 3600.0, "secretIdNumUses": 1.0},
            {"roleId": ROLE_ID}, deps={"backend": [APPROLE_URN], "tokenPolicies": [ACL_URN]}),
    }


def with_acl_policy(text: Any, resources: dict[str, Resource] | None = None) -> dict[str, Resource]:
    """The design (or `resources`) with the Vault ACL policy's text (HCL or JSON) replaced."""
    resources = resources or baseline()
    resources["acl_policy"] = with_props(resources["acl_policy"], policy=text)
    return resources


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


def baseline_with(name: str, /, **changes: Any) -> dict[str, Resource]:
    """The design with the inputs of its resource `name` changed as `with_props` changes them."""
    resources = baseline()
    resources[name] = with_props(resources[name], **changes)
    return resources


def policy_doc(*statements: dict) -> dict:
    """A policy document (Version 2012-10-17) holding `statements` as a list."""
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any, **extra: Any) -> dict:
    """An Allow statement of `action` on `resource`, with `extra` elements (Principal, Condition, ...)."""
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def with_role_document(doc: Any, form: str = "string",
                       resources: dict[str, Resource] | None = None) -> dict[str, Resource]:
    """The design (or `resources`) with the Vault role's policyDocument `doc`, as a JSON string or (else) as is."""
    resources = resources or baseline()
    resources["role"] = with_props(resources["role"], policyDocument=json.dumps(doc) if form == "string" else doc)
    return resources


def with_key_policy(doc: Any, form: str = "string", outputs: bool = True) -> dict[str, Resource]:
    """The design with the KMS key's policy `doc` (JSON string or as is); `outputs=False` leaves its ARN unknown."""
    resources = baseline()
    key = with_props(resources["key"], policy=json.dumps(doc) if form == "string" else doc)
    resources["key"] = key if outputs else dataclasses.replace(key, outputs={})
    return resources


def raw_carriers(value: Any, kinds: Iterable[str] | None = None) -> list[Resource]:
    """Every document location (only those of `kinds`, if given) holding `value` as is."""
    from keyguard_policies.documents import locations
    out = []
    for type_, specs in locations().items():
        if kinds is not None and specs[0]["kind"] not in kinds:
            continue
        prop = specs[0]["property"]
        inline = prop == "inlinePolicies[].policy"
        props = {"inlinePolicies": [{"name": "i", "policy": value}]} if inline else {prop: value}
        out.append(make(type_, "raw-" + type_.split(":")[-1].lower(), props))
    return out


def malformed_documents(principal: Any = APP) -> list[tuple[Any, str]]:
    """Fresh (malformed document, expected defect message part) cases; statements name `principal` unless None."""
    named = {} if principal is None else {"Principal": principal}
    return [
        ("{not json", "is not valid JSON"),
        ({"Version": "2012-10-17"}, "has no Statement"),
        (policy_doc({"Effect": "allow", **named, "Action": "s3:GetObject", "Resource": "*"}), "Effect is 'allow'"),
        (policy_doc({"Effect": "Allow", **named, "Action": 42, "Resource": "*"}), "Action contains 42"),
    ]


__all__ = ["ACCESSOR", "ACL_NAME", "ACL_URN", "APPROLE_URN", "BACKEND_URN", "CREDS_PATH", "ROLE_ID", "ROLE_URN",
           "with_acl_policy", "ACCOUNT", "BUCKET", "BUCKET_ARN", "KEY_ARN", "KEY_ID", "UNKNOWN", "T", "baseline", "with_props", "make",
           "run", "document_carriers", "DELETE", "role_document", "urn",
           "APP", "BUCKET_URN", "ENCRYPTION_V2", "IAM_LEAST_PRIVILEGE", "KEY_URN", "OBJECTS", "OTHER_KEY", "ROOT",
           "allow", "baseline_with", "malformed_documents", "policy_doc", "raw_carriers", "with_key_policy",
           "with_role_document"]
