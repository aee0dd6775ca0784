"""Table of the verdict classes of issue #8 (SPEC: "Conditions that restrict the caller", "Documents
AWS would reject", "Which value wins", "Values not known yet", and the rows of
kms-key-policy-no-public-principal, iam-action-resource-match, iam-no-wildcard-resources): each
case is the design with one change and the EXACT set of (policy, resource, kind) findings every
policy gives on it. tests/test_verdicts.py runs the table through `keyguard audit`'s engine and
through the pack over gRPC."""
from __future__ import annotations

import dataclasses
import json

from tests.baseline import (ACCOUNT, APP, BUCKET, BUCKET_ARN, BUCKET_URN, KEY_ARN, KEY_ID, KEY_URN, OBJECTS, OTHER_KEY,
                            REGION, ROOT, UNKNOWN, allow, baseline, make, policy_doc, role_document, with_props,
                            with_role_document)

V, U = "violation", "unverifiable"
KEY_POLICY_TYPE = "aws:kms/keyPolicy:KeyPolicy"
FOREIGN = "999999999999"
FOREIGN_ROOT = dict(ROOT, Sid="Foreign", Principal={"AWS": f"arn:aws:iam::{FOREIGN}:root"})
ALIAS_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/ai-app-data"
DECRYPT = {"Sid": "Use", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    cls: int                      # the class of the brief (1-6)
    build: object                 # () -> dict of resources
    expected: frozenset           # {(policy, resource name, kind)}


def key_policy(doc, key_id=KEY_ID, deps=None, **props):
    """The design plus an aws:kms/keyPolicy:KeyPolicy on its key."""
    resources = baseline()
    resources["key_policy"] = make(KEY_POLICY_TYPE, "ai-app-key-policy",
                                   {"keyId": key_id, "policy": json.dumps(doc), **props},
                                   deps=deps if deps is not None else {"keyId": [KEY_URN]})
    return resources


def on_key(doc, outputs=True):
    resources = baseline()
    key = with_props(resources["key"], policy=json.dumps(doc))
    resources["key"] = key if outputs else dataclasses.replace(key, outputs={})
    return resources


def _second_key_at_preview(doc):
    """A second key, not created yet (no ARN), with its own policy."""
    resources = baseline()
    resources["second"] = make("aws:kms/key:Key", "second-key", {**resources["key"].props, "policy": json.dumps(doc)})
    return resources


def public(condition=None, **extra):
    statement = {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
    if condition is not None:
        statement["Condition"] = condition
    statement.update(extra)
    return policy_doc(ROOT, statement)


def _f(*items):
    return frozenset(items)


NPP = "kms-key-policy-no-public-principal"
KP = "ai-app-key-policy"
K = "ai-app-kms-key"
ROLE = "ai-app-role"
LP6 = ("iam-no-wildcard-actions", "iam-no-wildcard-resources", "iam-no-not-action-not-resource", "iam-known-actions",
       "iam-action-resource-match", "iam-no-privilege-escalation")


def _every(policies, name, kind=V):
    return frozenset((p, name, kind) for p in policies)


# --- 1. conditions that restrict nothing -----------------------------------------------------------
CONDITION_CASES = [
    Case("org-id-wildcard", 1, lambda: key_policy(public({"StringLike": {"aws:PrincipalOrgID": "o-*"}})),
         _f((NPP, KP, V))),
    Case("principal-arn-any-account", 1,
         lambda: key_policy(public({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:*"}})), _f((NPP, KP, V))),
    Case("account-question-star", 1, lambda: on_key(public({"StringLike": {"aws:PrincipalAccount": "?*"}})),
         _f((NPP, K, V))),
    Case("account-empty-string", 1, lambda: on_key(public({"StringEquals": {"aws:PrincipalAccount": ""}})),
         _f((NPP, K, V))),
    Case("account-empty-list", 1, lambda: on_key(public({"StringEquals": {"aws:PrincipalAccount": []}})),
         _f((NPP, K, V))),
    Case("source-arn-is-not-a-caller-key", 1,
         lambda: on_key(public({"ArnEquals": {"aws:SourceArn": BUCKET_ARN}})), _f((NPP, K, V))),
    Case("source-org-paths-is-not-in-the-list", 1,
         lambda: on_key(public({"ForAnyValue:StringEquals": {"aws:SourceOrgPaths": "o-abc123/r-ab12/"}})),
         _f((NPP, K, V))),
    Case("wildcard-before-the-account", 1,
         lambda: on_key(public({"StringLike": {"aws:PrincipalArn": f"arn:*:*:*:{ACCOUNT}:*"}})), _f((NPP, K, V))),
    Case("for-all-values", 1,
         lambda: on_key(public({"ForAllValues:StringEquals": {"aws:PrincipalAccount": ACCOUNT}})), _f((NPP, K, V))),
    Case("if-exists-lower-case", 1,
         lambda: on_key(public({"stringequalsifexists": {"aws:principalaccount": ACCOUNT}})), _f((NPP, K, V))),
    Case("not-principal-with-allow", 1,
         lambda: on_key(policy_doc(ROOT, {"Sid": "AllBut", "Effect": "Allow", "NotPrincipal": APP,
                                          "Action": "kms:Decrypt", "Resource": "*"})),
         _f((NPP, K, V), ("iam-no-not-action-not-resource", K, V))),
    # restricting conditions stay clean
    Case("userid-pins-a-role", 1, lambda: on_key(public({"StringLike": {"aws:userid": "AROAEXAMPLEID:*"}})), _f()),
    Case("arn-with-account-then-wildcard", 1,
         lambda: key_policy(public({"ArnLike": {"AWS:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}})), _f()),
    Case("case-insensitive-operator-and-key", 1,
         lambda: on_key(public({"stringequals": {"KMS:CALLERACCOUNT": [ACCOUNT]}})), _f()),
    Case("org-path-wildcard-after-org", 1,
         lambda: on_key(public({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-abc123/*"}})), _f()),
]

# --- 2. the default delegation is the key's own account only ------------------------------------------
DELEGATION_CASES = [
    Case("foreign-root-key-id", 2, lambda: key_policy(policy_doc(ROOT, FOREIGN_ROOT)),
         _f(("iam-no-wildcard-actions", KP, V))),
    Case("foreign-root-alias-name", 2, lambda: key_policy(policy_doc(ROOT, FOREIGN_ROOT), key_id="alias/ai-app-data",
                                                          deps={}),
         _f(("iam-no-wildcard-actions", KP, V))),
    Case("foreign-root-alias-arn", 2, lambda: key_policy(policy_doc(FOREIGN_ROOT), key_id=ALIAS_ARN, deps={}),
         _f(("iam-no-wildcard-actions", KP, V))),
    Case("foreign-root-bare-account-id", 2,
         lambda: key_policy(policy_doc(dict(FOREIGN_ROOT, Principal={"AWS": FOREIGN}, Action=["KMS:*"]))),
         _f(("iam-no-wildcard-actions", KP, V))),
    Case("foreign-root-unknown-key-id-through-dependency", 2,
         lambda: key_policy(policy_doc(FOREIGN_ROOT), key_id=UNKNOWN), _f(("iam-no-wildcard-actions", KP, V))),
    Case("foreign-root-inline-on-the-key", 2, lambda: on_key(policy_doc(ROOT, FOREIGN_ROOT)),
         _f(("iam-no-wildcard-actions", K, V))),
    Case("own-root-key-id", 2, lambda: key_policy(policy_doc(ROOT, DECRYPT | {"Principal": APP})), _f()),
    Case("own-root-unknown-key-id-through-dependency", 2, lambda: key_policy(policy_doc(ROOT), key_id=UNKNOWN), _f()),
    Case("own-root-key-arn-unknown-at-preview", 2, lambda: _second_key_at_preview(policy_doc(ROOT)),
         _f(("iam-no-wildcard-actions", "second-key", U))),
    Case("key-id-of-no-stack-key", 2,
         lambda: key_policy(policy_doc(ROOT), key_id="11111111-2222-3333-4444-555555555555", deps={}),
         _f(("iam-no-wildcard-actions", KP, U))),
]


# --- 3. a known value wins over a dependency ---------------------------------------------------------
def _encryption_names(key, deps=(KEY_URN,)):
    resources = baseline()
    enc = resources["encryption"]
    rules = [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key},
              "bucketKeyEnabled": True}]
    resources["encryption"] = dataclasses.replace(
        enc, props={**enc.props, "rules": rules},
        property_dependencies={**enc.property_dependencies, "rules": tuple(deps)})
    return resources


def _asymmetric_key_dependency():
    resources = _encryption_names(OTHER_KEY, deps=(KEY_URN,))
    resources["key"] = with_props(resources["key"], customerMasterKeySpec="RSA_2048", keyUsage="SIGN_VERIFY",
                                  enableKeyRotation=False, rotationPeriodInDays=None)
    return resources


def _alias_known_target_elsewhere():
    resources = _encryption_names("alias/ai-app-data")
    resources["alias"] = with_props(resources["alias"], targetKeyId="11111111-2222-3333-4444-555555555555")
    return resources


def _config_targets_another_bucket():
    resources = baseline()
    resources["encryption"] = with_props(resources["encryption"], bucket="someone-elses-bucket")
    return resources


DEPENDENCY_CASES = [
    Case("other-key-arn-depending-on-the-stack-key", 3, lambda: _encryption_names(OTHER_KEY),
         _f(("s3-bucket-sse-uses-stack-key", "ai-app-data-encryption", V))),
    Case("alias-whose-known-target-is-not-the-stack-key", 3, _alias_known_target_elsewhere,
         _f(("s3-bucket-sse-uses-stack-key", "ai-app-data-encryption", V))),
    Case("asymmetric-stack-key-not-named-by-the-known-value", 3, _asymmetric_key_dependency,
         _f(("s3-bucket-sse-uses-stack-key", "ai-app-data-encryption", V))),
    Case("configuration-naming-another-bucket", 3, _config_targets_another_bucket,
         _f(("s3-bucket-sse-kms-cmk", "ai-app-data", V))),
    Case("unknown-value-falls-back-to-the-dependency", 3, lambda: _encryption_names(UNKNOWN), _f()),
]


# --- 4. documents AWS would reject, and durations ------------------------------------------------------
def _role(doc):
    return with_role_document(doc)


def _bucket_policy(doc):
    resources = baseline()
    resources["bucket_policy"] = with_props(resources["bucket_policy"], policy=json.dumps(doc))
    return resources


IDENTITY_RULES = LP6 + ("iam-resources-scoped-to-stack",)
GOOD = allow(["s3:GetObject"], OBJECTS)
MALFORMED_CASES = [
    Case("principal-in-identity-policy", 4, lambda: _role(policy_doc(dict(GOOD, Principal=APP))),
         _every(IDENTITY_RULES, ROLE)),
    Case("not-principal-in-identity-policy", 4, lambda: _role(policy_doc(dict(GOOD, NotPrincipal=APP))),
         _every(IDENTITY_RULES, ROLE)),
    Case("unknown-top-level-key", 4, lambda: _role({**policy_doc(GOOD), "Statements": []}), _every(IDENTITY_RULES, ROLE)),
    Case("unknown-statement-key", 4, lambda: _role(policy_doc(dict(GOOD, Actions=["s3:*"]))),
         _every(IDENTITY_RULES, ROLE)),
    Case("bad-version", 4, lambda: _role({"Version": "2012-10-18", "Statement": [GOOD]}), _every(IDENTITY_RULES, ROLE)),
    Case("resource-and-not-resource-in-bucket-policy", 4,
         lambda: _bucket_policy(policy_doc(dict(allow("s3:GetObject", OBJECTS, Principal=APP), NotResource=BUCKET_ARN))),
         _every(LP6, "ai-app-data-tls-only")),
    Case("bucket-policy-without-principal", 4, lambda: _bucket_policy(policy_doc(allow("s3:GetObject", OBJECTS))),
         _every(LP6, "ai-app-data-tls-only")),
    Case("negative-lease-ttl", 4,
         lambda: {**baseline(), "backend": with_props(baseline()["backend"], defaultLeaseTtlSeconds=-1.0)},
         _f(("vault-mount-ttl-bounds", "ai-app-backend", V))),
    Case("negative-session-duration", 4,
         lambda: {**baseline(), "r": make("aws:iam/role:Role", "app-role", {"maxSessionDuration": -3600.0})},
         _f(("iam-role-session-duration", "app-role", V))),
    Case("negative-rotation-period", 4,
         lambda: {**baseline(), "key": with_props(baseline()["key"], rotationPeriodInDays=-1.0)},
         _f(("kms-key-rotation-enabled", K, V))),
    Case("fractional-sts-ttl", 4,
         lambda: {**baseline(), "role": with_props(baseline()["role"], credentialType="assumed_role",
                                                   defaultStsTtl="900.5")},
         _f(("vault-role-sts-ttl-bounds", ROLE, V))),
]

# --- 5. NotAction / NotResource with Allow on everything -------------------------------------------------
NOT_CASES = [
    Case("not-action-on-star", 5, lambda: _role(policy_doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})),
         _f(("iam-no-wildcard-resources", ROLE, V), ("iam-no-wildcard-actions", ROLE, V),
            ("iam-no-not-action-not-resource", ROLE, V), ("iam-no-privilege-escalation", ROLE, V),
            ("iam-resources-scoped-to-stack", ROLE, V))),
    Case("not-resource-for-get-object", 5,
         lambda: _role(policy_doc({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": f"{BUCKET_ARN}/x"})),
         _f(("iam-no-wildcard-resources", ROLE, V), ("iam-no-not-action-not-resource", ROLE, V),
            ("iam-resources-scoped-to-stack", ROLE, V))),
    Case("not-action-on-another-bucket", 5,
         lambda: _role(policy_doc({"Effect": "Allow", "NotAction": ["iam:*", "sts:*"],
                                   "Resource": "arn:aws:s3:::someone-elses-bucket/*"})),
         _f(("iam-no-wildcard-actions", ROLE, V), ("iam-no-not-action-not-resource", ROLE, V),
            ("iam-no-privilege-escalation", ROLE, V), ("iam-resources-scoped-to-stack", ROLE, V))),
]

# --- 6. a same-service ARN no action uses is harmless ---------------------------------------------------
MATCH_CASES = [
    Case("get-object-next-to-the-bucket-arn", 6, lambda: _role(policy_doc(allow("s3:GetObject", [BUCKET_ARN, OBJECTS]))),
         _f()),
    Case("s3-actions-next-to-the-key-arn", 6, lambda: _role(policy_doc(allow("s3:GetObject", [OBJECTS, KEY_ARN]))),
         _f(("iam-action-resource-match", ROLE, V))),
    Case("kms-action-next-to-an-alias-arn", 6,
         lambda: _role(policy_doc(*role_document()["Statement"], allow("kms:Decrypt", [KEY_ARN, ALIAS_ARN]))), _f()),
]

# The policies the expected sets cover (the catalog grows: a policy added later, such as
# iam-sse-kms-key-grants, is judged by its own tests, not by this table).
SCOPE = frozenset({
    "s3-bucket-sse-kms-cmk", "s3-bucket-sse-uses-stack-key", "s3-bucket-key-enabled", "s3-object-sse-kms",
    "kms-key-rotation-enabled", "kms-key-deletion-window", "kms-key-symmetric-for-sse", NPP, *LP6,
    "iam-resources-scoped-to-stack", "vault-role-no-broad-managed-policies", "vault-role-credential-type",
    "vault-role-iam-user-boundary", "vault-mount-ttl-bounds", "vault-role-sts-ttl-bounds", "iam-role-session-duration"})
CASES = CONDITION_CASES + DELEGATION_CASES + DEPENDENCY_CASES + MALFORMED_CASES + NOT_CASES + MATCH_CASES
BUCKET_NAME = BUCKET
__all__ = ["SCOPE", "CASES", "Case", "V", "U", "BUCKET_URN"]
