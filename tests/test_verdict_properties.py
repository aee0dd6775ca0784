"""Property tests (hypothesis) of issue #8: for each least-privilege and key-policy rule, rewrites of
a violating statement that keep (or widen) what it grants never lose the violation, and rewrites of
compliant documents never gain one. Rewrites: action case, string vs list, the statement split in
two, an action folded into a wildcard that covers it, NotAction/NotResource/NotPrincipal forms,
conditions that restrict nothing, key ids vs ARNs vs aliases, whitespace, Sid, Version and
Statement-as-object changes. The audit's engine runs every example; the pack over gRPC runs a
smaller sample of the same strategies."""
from __future__ import annotations

import copy
import dataclasses
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyguard.analyzer_client import PackProcess, merged_config
from keyguard_policies.engine import evaluate
from keyguard_policies.model import VIOLATION, Stack
from tests.baseline import (ACCOUNT, APP, BUCKET_ARN, IAM_LEAST_PRIVILEGE, KEY_ARN, KEY_ID, KEY_URN, OBJECTS, REGION,
                            ROOT, UNKNOWN, baseline, make, role_document)

from .conftest import REPO

EXAMPLES = int(os.environ.get("KEYGUARD_HYPOTHESIS_EXAMPLES", 150))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=not os.environ.get("KEYGUARD_HYPOTHESIS_RANDOM"))
PACK_SETTINGS = settings(SETTINGS, max_examples=max(10, EXAMPLES // 6),
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

OTHER_OBJECTS = "arn:aws:s3:::someone-elses-bucket/*"
ALIAS_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/ai-app-data"
FOREIGN = "999999999999"
DOCUMENT_RULES = frozenset([*IAM_LEAST_PRIVILEGE, "kms-key-policy-no-public-principal"])
"""The rules that judge the documents (a bare Vault role carrier fails others, e.g. its credential type)."""


@dataclasses.dataclass(frozen=True)
class Seed:
    policy: str
    kind: str                              # "identity" or "key"
    statement: dict
    folds: dict                            # action -> wildcards that cover it
    not_forms: tuple = ()                  # statements granting at least as much, in Not* forms


SEEDS = [
    Seed("iam-no-wildcard-actions", "identity", {"Effect": "Allow", "Action": ["s3:GetObject", "s3:*"], "Resource": OBJECTS},
         {"s3:*": ["*", "s3:*"], "s3:GetObject": ["s3:Get*"]},
         ({"Effect": "Allow", "NotAction": "iam:PassRole", "Resource": OBJECTS},)),
    Seed("iam-no-wildcard-resources", "identity", {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"},
         {"s3:GetObject": ["s3:GetObj*", "s3:Get*", "s3:*"], "s3:PutObject": ["s3:Put*"]},
         ({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": f"{BUCKET_ARN}/private/*"},
          {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
          {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*/*"})),
    Seed("iam-no-not-action-not-resource", "identity", {"Effect": "Allow", "NotAction": ["iam:*", "sts:*"], "Resource": OBJECTS},
         {}, ({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": f"{BUCKET_ARN}/private/*"},)),
    Seed("iam-known-actions", "identity", {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjects"], "Resource": OBJECTS},
         {"s3:GetObjects": ["s3:GetObjects*"]}),
    Seed("iam-action-resource-match", "identity", {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": OBJECTS},
         {"s3:ListBucket": ["s3:ListBuck*"]}),
    Seed("iam-no-privilege-escalation", "identity", {"Effect": "Allow", "Action": ["s3:GetObject", "iam:PassRole"],
                                                    "Resource": [OBJECTS, f"arn:aws:iam::{ACCOUNT}:role/worker"]},
         {"iam:PassRole": ["iam:Pass*", "iam:*", "*"]},
         ({"Effect": "Allow", "NotAction": "s3:*", "Resource": f"arn:aws:iam::{ACCOUNT}:role/worker"},)),
    Seed("iam-resources-scoped-to-stack", "identity", {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                                                      "Resource": OTHER_OBJECTS},
         {"s3:GetObject": ["s3:Get*", "s3:*"]},
         ({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": OBJECTS},
          {"Effect": "Allow", "NotAction": ["iam:*", "sts:*"], "Resource": OTHER_OBJECTS})),
    Seed("kms-key-policy-no-public-principal", "key", {"Effect": "Allow", "Principal": "*",
                                                       "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*"},
         {"kms:Decrypt": ["kms:Decr*", "kms:*"]},
         ({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"},
          {"Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:role/app", "*"]}, "Action": "kms:Decrypt",
           "Resource": "*"},
          {"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/nobody"}, "Action": "kms:Decrypt",
           "Resource": "*"})),
    # the default statement's shape given to another account's root: a cross-account kms:*
    Seed("iam-no-wildcard-actions", "key", {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{FOREIGN}:root"},
                                            "Action": "kms:*", "Resource": "*"},
         {"kms:*": ["*", "kms:*"]},
         ({"Effect": "Allow", "Principal": {"AWS": FOREIGN}, "Action": "kms:*", "Resource": "*"},
          {"Effect": "Allow", "Principal": {"AWS": [f"arn:aws:iam::{FOREIGN}:root"]}, "Action": "kms:*",
           "Resource": ["*"]})),
]

# conditions that restrict nothing (SPEC: "Conditions that restrict the caller")
NON_RESTRICTING = st.sampled_from([
    {"StringLike": {"aws:PrincipalOrgID": "o-*"}}, {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:*"}},
    {"StringLike": {"aws:PrincipalAccount": "?*"}}, {"StringNotEquals": {"aws:PrincipalAccount": FOREIGN}},
    {"StringEqualsIfExists": {"aws:PrincipalAccount": ACCOUNT}}, {"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-a"}},
    {"StringEquals": {"aws:PrincipalAccount": ""}}, {"StringEquals": {"aws:PrincipalAccount": [ACCOUNT, "*"]}},
    {"Bool": {"aws:SecureTransport": "true"}}, {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"stringlike": {"AWS:PRINCIPALORGID": "o-*"}}, {"StringEquals": {"aws:SourceArn": BUCKET_ARN}},
    {"StringLike": {"aws:userid": "*:session"}}, {"ArnLike": {"aws:PrincipalArn": f"arn:*:iam::*:{ACCOUNT}"}},
])
# conditions that do restrict the caller: a compliant key policy keeps them
RESTRICTING = st.sampled_from([
    {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}, {"stringequals": {"KMS:CallerAccount": [ACCOUNT]}},
    {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-abc123/r-ab12/*"}},
    {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}}, {"StringEquals": {"aws:userid": "AIDAEXAMPLE"}},
])


def _case(draw, text: str) -> str:
    return draw(st.sampled_from([text, text.lower(), text.upper(), text.swapcase()]))


def _one_or_list(draw, values):
    values = list(values) if isinstance(values, list) else [values]
    return values[0] if len(values) == 1 and draw(st.booleans()) else values


@st.composite
def rewritten(draw, statement, folds=None, not_forms=(), conditions=NON_RESTRICTING, split=True):
    """Statements granting at least what `statement` grants, written differently."""
    statement = copy.deepcopy(draw(st.sampled_from([statement, *not_forms])) if not_forms else statement)
    for key in ("Action", "NotAction"):
        if key in statement:
            actions = statement[key] if isinstance(statement[key], list) else [statement[key]]
            if key == "Action" and folds and draw(st.booleans()):
                i = draw(st.integers(0, len(actions) - 1))
                actions[i] = draw(st.sampled_from(folds.get(actions[i], [actions[i]])))
            statement[key] = [_case(draw, a) for a in actions]
    for key in ("Resource", "NotResource", "Action", "NotAction"):
        if key in statement:
            statement[key] = _one_or_list(draw, statement[key])
    if draw(st.integers(0, 2)) == 0:
        statement["Condition"] = draw(conditions)
    if draw(st.booleans()):
        statement["Sid"] = draw(st.from_regex(r"[A-Za-z0-9]{1,10}", fullmatch=True))
    if split and "Action" in statement and isinstance(statement["Action"], list) and len(statement["Action"]) > 1 \
            and draw(st.booleans()):
        cut = draw(st.integers(1, len(statement["Action"]) - 1))
        return [dict(statement, Action=statement["Action"][:cut]), dict(statement, Action=statement["Action"][cut:])]
    return [statement]


@st.composite
def document(draw, statements, companions):
    """A document holding `statements` among `companions`, in any order, with Version and Statement
    shape varied; as an object or as JSON text with any whitespace."""
    listed = list(statements) + list(companions)
    listed = draw(st.permutations(listed))
    doc = {"Statement": listed[0] if len(listed) == 1 and draw(st.booleans()) else listed}
    version = draw(st.sampled_from([None, "2012-10-17", "2008-10-17"]))
    if version:
        doc = {"Version": version, **doc}
    if draw(st.booleans()):
        return doc
    indent = draw(st.sampled_from([None, 0, 1, 4, "\t"]))
    separators = draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,\n", " :  ")]))
    return json.dumps(doc, indent=indent, separators=separators)


IDENTITY_LOCATIONS = [("vault:aws/secretBackendRole:SecretBackendRole", "policyDocument"),
                      ("aws:iam/policy:Policy", "policy"), ("aws:iam/rolePolicy:RolePolicy", "policy"),
                      ("aws:iam/role:Role", "inlinePolicies")]
KEY_FORMS = ["inline", KEY_ID, KEY_ARN, "alias/ai-app-data", ALIAS_ARN, UNKNOWN]


def carrier(kind: str, where, value):
    """The design plus one resource carrying `value`; returns (resources, carrier name)."""
    resources = list(baseline().values())
    if kind == "identity":
        type_, prop = where
        props = {"inlinePolicies": [{"name": "i", "policy": value}]} if prop == "inlinePolicies" else {prop: value}
        resources.append(make(type_, "carrier", props))
    elif where == "inline":
        key = next(r for r in resources if r.urn == KEY_URN)
        resources[resources.index(key)] = dataclasses.replace(key, props={**key.props, "policy": value})
        return resources, "ai-app-kms-key"
    else:
        resources.append(make("aws:kms/keyPolicy:KeyPolicy", "carrier", {"keyId": where, "policy": value},
                              deps={"keyId": [KEY_URN]} if where in (KEY_ID, UNKNOWN) else None))
    return resources, "carrier"


def audit(resources):
    return {(f.policy, f.urn.rsplit("::", 1)[-1]) for o in evaluate(Stack(resources)) for f in o.findings
            if f.kind == VIOLATION}


IDENTITY_COMPANIONS = role_document()["Statement"]
KEY_COMPANIONS = [ROOT, {"Sid": "App", "Effect": "Allow", "Principal": APP, "Action": "kms:Decrypt", "Resource": "*"}]


@st.composite
def violating(draw):
    seed = draw(st.sampled_from(SEEDS))
    statements = draw(rewritten(seed.statement, seed.folds, seed.not_forms))
    companions = IDENTITY_COMPANIONS if seed.kind == "identity" else KEY_COMPANIONS
    doc = draw(document(statements, draw(st.lists(st.sampled_from(companions), unique_by=json.dumps, max_size=2))))
    where = draw(st.sampled_from(IDENTITY_LOCATIONS if seed.kind == "identity" else KEY_FORMS))
    return seed.policy, carrier(seed.kind, where, doc)


@st.composite
def compliant(draw):
    kind = draw(st.sampled_from(["identity", "key"]))
    if kind == "identity":
        statements = [s for c in IDENTITY_COMPANIONS for s in draw(rewritten(c, conditions=NON_RESTRICTING))]
    else:
        public = {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
        statements = [ROOT] + draw(rewritten(KEY_COMPANIONS[1])) + draw(rewritten(public, conditions=RESTRICTING))
        statements[-1]["Condition"] = draw(RESTRICTING)  # the public statement always keeps its restriction
    doc = draw(document(statements, []))
    where = draw(st.sampled_from(IDENTITY_LOCATIONS if kind == "identity" else KEY_FORMS))
    return carrier(kind, where, doc)


@SETTINGS
@given(case=violating())
def test_a_rewritten_violation_survives_in_the_audit(case):
    policy, (resources, name) = case
    assert (policy, name) in audit(resources)


@SETTINGS
@given(case=compliant())
def test_a_rewritten_compliant_document_stays_clean_in_the_audit(case):
    resources, name = case
    assert {f for f in audit(resources) if f[1] == name and f[0] in DOCUMENT_RULES} == set()


@pytest.fixture(scope="module")
def pack():
    with PackProcess(REPO / "policy_pack") as process:
        process.configure(merged_config())
        yield process


def pack_violations(pack, resources):
    found = set()
    for resource in resources:
        for d in pack.analyze(dataclasses.replace(resource, outputs={})).diagnostics:
            if "during preview" not in d.message:
                found.add((d.policyName, resource.name))
    state = [dataclasses.replace(r, props={**r.outputs, **r.props}) for r in resources]
    for d in pack.analyze_stack(state).diagnostics:
        if d.urn and "during preview" not in d.message:
            found.add((d.policyName, d.urn.rsplit("::", 1)[-1]))
    return found


@PACK_SETTINGS
@given(case=violating())
def test_a_rewritten_violation_survives_in_the_pack(pack, case):
    policy, (resources, name) = case
    assert (policy, name) in pack_violations(pack, resources)


@PACK_SETTINGS
@given(case=compliant())
def test_a_rewritten_compliant_document_stays_clean_in_the_pack(pack, case):
    resources, name = case
    assert {f for f in pack_violations(pack, resources) if f[1] == name and f[0] in DOCUMENT_RULES} == set()
